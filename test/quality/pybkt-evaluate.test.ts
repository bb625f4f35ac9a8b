import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { readAttempts } from '../../src/data/read-attempts.js';
import { evaluateParams } from '../../src/quality/evaluate.js';
import type { ConceptParams } from '../../src/quality/params-set.js';

/**
 * pyBKT 1.4.2's own fitted parameters, evaluated by us on the builder test set, must give
 * pyBKT's own test metrics (fixtures/reference/README.md): the same one-step-ahead predictions
 * (guess*(1 - P(L)) + (1 - slip)*P(L), each (learner, skill) sequence from the prior, file order
 * within a learner), the same 117,566 rows (skill 64 has no params), AUC as sklearn computes it.
 * Tolerance 1e-6: both sides are double-precision sums over the same rows; differences are
 * summation order only (observed below 2e-8).
 */
interface ReferenceFit {
  per_skill: { skill: string; prior: number; learn: number; guess: number; slip: number; forget: number }[];
  test_metrics: { rmse: number; auc: number; accuracy: number };
  test_rows_scored: number;
}
const reference: { fits: Record<string, ReferenceFit> } = JSON.parse(
  gunzipSync(readFileSync('fixtures/reference/pybkt-builder.json.gz')).toString('utf8'),
);

export function pybktEntries(fit: ReferenceFit): ConceptParams[] {
  return fit.per_skill.map((s) => ({ concept_id: s.skill, params: { p_L0: s.prior, p_T: s.learn, p_S: s.slip, p_G: s.guess, p_F: s.forget } }));
}

let test: AttemptsTable;
beforeAll(async () => {
  test = (await readAttempts({ input: 'fixtures/builder/test.csv.gz' })).table;
});

describe.each(['num_fits_5_seed_42', 'num_fits_5_seed_42_forgets'])('evaluating pyBKT %s params on test.csv', (config) => {
  it("matches pyBKT's test RMSE, AUC and accuracy to 1e-6 over 117,566 rows", () => {
    const fit = reference.fits[config];
    const { report } = evaluateParams(test, pybktEntries(fit));
    expect(report.rows_total).toBe(117_567);
    expect(report.rows_scored).toBe(117_566);
    expect(fit.test_rows_scored).toBe(117_566);
    expect(report.concepts_no_params).toEqual(['64']);
    const model = report.overall.model!;
    expect(Math.abs(model.rmse - fit.test_metrics.rmse)).toBeLessThan(1e-6);
    expect(Math.abs((model.auc as number) - fit.test_metrics.auc)).toBeLessThan(1e-6);
    expect(Math.abs(model.accuracy - fit.test_metrics.accuracy)).toBeLessThan(1e-6);
    // The model beats both baselines on held-out data.
    expect(report.overall.lift!.rmse).toBeGreaterThan(0);
    expect(report.overall.lift_vs_overall_mean!.auc).toBeGreaterThan(0.2);
  });
});
