import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './quality-fixtures.js';
import { bktIn } from '../support/in-process.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the CLI defaults on builder train -> test', () => {
  it('fit then evaluate beats pyBKT (0.75900 / 0.41639) with no invalid, degenerate or bound-held concept', async () => {
    const params = join(dir, 'params.json');
    const fit = await bktIn(['fit', '--input', 'fixtures/builder/train.csv.gz', '--out', params, '--json']);
    expect(fit.status, fit.describe).toBe(0);
    const { summary, concepts } = fit.json();
    expect(summary).toMatchObject({ fitted: 119, invalid: 0, degenerate: 0, at_bound: 0 });
    expect(concepts.every((c: { warnings: unknown[] }) => c.warnings.length === 0)).toBe(true);
    const evaluate = await bktIn(['evaluate', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--json']);
    expect(evaluate.status, evaluate.describe).toBe(0);
    const model = evaluate.json().overall.model;
    // Measured 0.76213 / 0.41597 (docs/algorithms.md, "Choosing the default method").
    expect(model.n).toBe(117_564);
    expect(model.auc).toBeGreaterThanOrEqual(0.7593);
    expect(model.rmse).toBeLessThanOrEqual(0.41635);
    // Every parameter check passes (held-out checks per concept are another matter: a few small
    // builder skills rank their test answers below chance whatever the fit).
    const validate = await bktIn(['validate', '--params', params, '--json']);
    expect(validate.status, validate.describe).toBe(0);
    expect(validate.json().summary.warnings.filter((w: { check: string }) => w.check === 'bounds')).toEqual([]);
  });
});
