import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { readAttempts } from '../../src/data/read-attempts.js';
import { fitConcepts } from '../../src/model/fit-concepts.js';
import type { FitReport } from '../../src/model/fit-types.js';
import { predictionMetrics } from '../../src/model/metrics.js';
import { type BktParams, NO_BOUNDS } from '../../src/model/params.js';
import { predictTable, scoredRows } from '../../src/model/predict.js';

/**
 * Checked against pyBKT 1.4.2 on the ASSISTments skill-builder data (fixtures/reference/README.md):
 * figures nobody here wrote. pyBKT stops EM early (integer-truncated log-likelihood), so a trainer
 * that converges must reach at least its log-likelihood from the same starts.
 */
interface ReferenceSkill {
  skill: string;
  train_loglik: number;
  random_inits: { prior: number; learns: number[]; forgets: number[]; guesses: number[]; slips: number[] }[];
}
interface Reference {
  fits: Record<string, { per_skill: ReferenceSkill[]; total_train_loglik: number; test_metrics: { rmse: number; auc: number } }>;
}

const reference: Reference = JSON.parse(gunzipSync(readFileSync('fixtures/reference/pybkt-builder.json.gz')).toString('utf8'));
let train: AttemptsTable;
let test: AttemptsTable;

beforeAll(async () => {
  train = (await readAttempts({ input: 'fixtures/builder/train.csv.gz' })).table;
  test = (await readAttempts({ input: 'fixtures/builder/test.csv.gz' })).table;
});

const everySkill = { method: 'mle' as const, minAttempts: 1, minUsers: 1, bounds: NO_BOUNDS, maxIterations: 5000, tolerance: 1e-10 };

function testMetrics(report: FitReport) {
  const byId = new Map(report.concepts.filter((c) => c.params).map((c) => [c.concept_id, c.params as BktParams]));
  const params = test.conceptIds.map((id) => byId.get(id));
  const { pCorrect } = predictTable(test, params);
  const { predicted, label } = scoredRows(pCorrect, test.correct);
  return predictionMetrics(predicted, label);
}

describe.each([
  ['num_fits_5_seed_42', false],
  ['num_fits_5_seed_42_forgets', true],
] as const)('pyBKT reference %s', (config, forgets) => {
  const ref = () => reference.fits[config];

  it('reaches at least pyBKT\'s log-likelihood on every skill from pyBKT\'s own starting values', async () => {
    const inits = new Map(ref().per_skill.map((s) => [s.skill, s.random_inits]));
    const report = await fitConcepts(train, {
      ...everySkill,
      forgets,
      restarts: 5,
      workers: 1,
      initialParams: (conceptId, restart) => {
        const init = inits.get(conceptId)![restart];
        return { p_L0: init.prior, p_T: init.learns[0], p_F: init.forgets[0], p_S: init.slips[0], p_G: init.guesses[0] };
      },
    });
    const ours = new Map(report.concepts.map((c) => [c.concept_id, c.log_likelihood as number]));
    for (const skill of ref().per_skill) {
      // EM only climbs from the same start; 1e-6 nats covers summation order.
      expect(ours.get(skill.skill), `skill ${skill.skill}`).toBeGreaterThanOrEqual(skill.train_loglik - 1e-6);
    }
  });

  it('beats pyBKT\'s total log-likelihood and held-out AUC/RMSE with its own seeded restarts', async () => {
    const report = await fitConcepts(train, { ...everySkill, forgets, restarts: 5, seed: 42 });
    expect(report.summary.fitted).toBe(123);
    // pyBKT: -208,401.58 (standard), -191,433.0 (forgets)
    expect(report.summary.total_log_likelihood).toBeGreaterThanOrEqual(ref().total_train_loglik);
    const metrics = testMetrics(report);
    // 117,566 test rows are scored: skill 64's one row has no parameters (absent from train).
    expect(metrics.n).toBe(117_566);
    // pyBKT: AUC 0.7590 / RMSE 0.41639; with forgets 0.8237 / 0.38939 (rounded as the issue states them)
    expect(metrics.auc).toBeGreaterThanOrEqual(forgets ? 0.8237 : 0.759);
    expect(metrics.rmse).toBeLessThanOrEqual(forgets ? 0.38939 : 0.41639);
  });
});

describe('fitConcepts determinism', () => {
  it('gives bit-identical results with one worker and with two', async () => {
    const one = await fitConcepts(train, { workers: 1, restarts: 2 });
    const two = await fitConcepts(train, { workers: 2, restarts: 2 });
    expect(two.summary.workers).toBe(2);
    expect(JSON.stringify(two.concepts)).toBe(JSON.stringify(one.concepts));
  });

  it('reports concepts below --min-attempts or --min-users as skipped with the reason', async () => {
    const report = await fitConcepts(train, { restarts: 1 });
    const skipped = report.concepts.filter((c) => c.status === 'skipped');
    expect(skipped.length).toBeGreaterThan(0);
    for (const c of skipped) {
      expect(c.params).toBeNull();
      expect(c.reason).toMatch(c.n_attempts < 10 ? /attempts < --min-attempts 10/ : /learners < --min-users 3/);
    }
  });
});
