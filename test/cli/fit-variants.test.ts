import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readParamsFile } from '../../src/params-file.js';
import { bkt } from '../support/run-bkt.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bkt-fit-variants-'));
});

const GS = 'fixtures/pybkt-variants/gs/train.csv.gz';

describe('bkt fit with model variants', () => {
  it('fits --multigs (default column template_id) with --multilearn, prints class parameters and writes them to --out', async () => {
    const out = join(dir, 'params.json');
    const r = bkt(['fit', '--input', GS, '--concept-id', 'skill_1', '--multigs', '--multilearn', 'template_id', '--restarts', '2', '--out', out, '--json']);
    expect(r.status, r.describe).toBe(0);
    const [concept] = r.json().concepts;
    expect(concept.model.variants).toEqual(['multigs', 'multilearn']);
    expect(concept.model.columns).toEqual({ multigs: 'template_id', multilearn: 'template_id' });
    // skill_1 has templates 101..110, listed in natural order.
    expect(concept.model.gs.map((e: { id: string }) => e.id)).toEqual(['101', '102', '103', '104', '105', '106', '107', '108', '109', '110']);
    expect(concept.model.learn).toHaveLength(10);
    const [entry] = await readParamsFile(out);
    expect(entry.model).toEqual(concept.model);
    expect(entry.params).toEqual(concept.params);
  });

  it('keeps the class parameters through a CSV params file', async () => {
    const out = join(dir, 'params.csv');
    const r = bkt(['fit', '--input', GS, '--concept-id', 'skill_2', '--multigs', '--restarts', '1', '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const [entry] = await readParamsFile(out);
    expect(entry.model!.gs).toHaveLength(9);
  });

  it('refuses --multiprior on the answer column (exit 2) and on a per-attempt column (exit 3), one line each', () => {
    const leak = bkt(['fit', '--input', GS, '--multiprior', 'correct', '--restarts', '1']);
    expect(leak.status, leak.describe).toBe(2);
    expect(leak.stderr.trim().split('\n')).toHaveLength(1);
    expect(leak.stderr).toMatch(/--multiprior correct: .*answer/);
    const perAttempt = bkt(['fit', '--input', GS, '--multiprior', 'template_id', '--restarts', '1']);
    expect(perAttempt.status, perAttempt.describe).toBe(3);
    expect(perAttempt.stderr).toMatch(/learner \d+ has both .* per-attempt column/);
  });

  it('refuses two transition variants together and a missing column', () => {
    const both = bkt(['fit', '--input', GS, '--multilearn', '--multipair']);
    expect(both.status, both.describe).toBe(2);
    const missing = bkt(['fit', '--input', GS, '--multigs', 'item_id']);
    expect(missing.status, missing.describe).toBe(3);
    expect(missing.stderr).toMatch(/no column "item_id" \(given with --multigs\)/);
  });
});
