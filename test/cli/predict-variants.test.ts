import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-predict-variants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type PybktParams = Record<string, Record<string, number>>;
const reference = JSON.parse(gunzipSync(readFileSync('fixtures/pybkt-variants/reference.json.gz')).toString()) as {
  families: Record<string, { configs: Record<string, { params: Record<string, PybktParams> }> }>;
};
const mean = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0) / Object.keys(values).length;

describe('bkt predict with a variant model', () => {
  it('gives the fixed-E-step pyBKT build\'s correct_predictions for its multigs + multilearn params (gs family, 1e-9)', async () => {
    // pyBKT's params() per skill: guesses/slips and learns/forgets keyed by template id.
    const params = Object.entries(reference.families.gs.configs.multigs_multilearn.params).map(([skill, p]) => ({
      concept_id: skill,
      params: { p_L0: p.prior.default, p_T: mean(p.learns), p_F: mean(p.forgets), p_G: mean(p.guesses), p_S: mean(p.slips) },
      model: {
        variants: ['multigs', 'multilearn'],
        columns: { multigs: 'template_id', multilearn: 'template_id' },
        gs: Object.keys(p.guesses).map((id) => ({ id, p_G: p.guesses[id], p_S: p.slips[id], n_attempts: 0 })),
        learn: Object.keys(p.learns).map((id) => ({ id, p_T: p.learns[id], p_F: p.forgets[id], n_transitions: 0 })),
      },
    }));
    const file = join(dir, 'params.json');
    writeFileSync(file, JSON.stringify(params));
    const out = join(dir, 'pred.csv');
    const r = await bktIn(['predict', '--input', 'fixtures/pybkt-variants/gs/test.csv.gz', '--params', file, '--out', out, '--json']);
    expect(r.status, r.describe).toBe(0);
    const expected = new Map(
      (parse(gunzipSync(readFileSync('fixtures/pybkt-variants/gs/test_predictions_patched_multigs_multilearn.csv.gz')).toString(), { columns: true }) as Record<string, string>[]).map(
        (row) => [row.order_id, Number(row.multigs_multilearn)],
      ),
    );
    const rows = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(expected.size);
    let worst = 0;
    for (const row of rows) worst = Math.max(worst, Math.abs(Number(row.correct_predictions) - expected.get(row.order_id)!));
    // The reference file holds 9 decimals: rounding alone is up to 5e-10.
    expect(worst).toBeLessThan(1e-9);
  });

  it('predicts an item no fit has seen with the concept-level values instead of failing', async () => {
    const file = join(dir, 'one.json');
    writeFileSync(
      file,
      JSON.stringify([
        { concept_id: 'skill_1', params: { p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 }, model: { variants: ['multigs'], columns: { multigs: 'template_id' }, gs: [{ id: '101', p_G: 0.05, p_S: 0.3, n_attempts: 1 }] } },
      ]),
    );
    const input = join(dir, 'two.csv');
    writeFileSync(input, 'user_id,skill_name,template_id,correct\nu1,skill_1,999,1\nu2,skill_1,101,1\n');
    const out = join(dir, 'two-pred.csv');
    const r = await bktIn(['predict', '--input', input, '--params', file, '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const [unseen, seen] = parse(readFileSync(out, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Number(unseen.correct_predictions)).toBeCloseTo(0.3 * 0.9 + 0.7 * 0.2, 15);
    expect(Number(seen.correct_predictions)).toBeCloseTo(0.3 * 0.7 + 0.7 * 0.05, 15);
  });
});
