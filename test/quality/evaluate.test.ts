import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import type { FitReport } from '../../src/model/fit-types.js';
import { simulateAttempts } from '../../src/model/simulate.js';
import {
  crossValidate,
  crossValidationMetricsForParams,
  evaluateParams,
  learnerFolds,
} from '../../src/quality/evaluate.js';
import { subsetByLearners } from '../../src/quality/table-subset.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const params = (p_L0: number, p_T: number, p_S: number, p_G: number, p_F = 0) => ({ p_L0, p_T, p_S, p_G, p_F });

describe('evaluateParams on a hand-worked table', () => {
  // Concept a: u1 answers 1 then 0; u2 answers 0. Concept b (no params): u1 answers 1.
  const table = AttemptsTableBuilder.fromArrays({
    learner: ['u1', 'u1', 'u2', 'u1'],
    concept: ['a', 'a', 'a', 'b'],
    correct: [1, 0, 0, 1],
  });
  const { report, predictions } = evaluateParams(table, [{ concept_id: 'a', params: params(0.5, 0, 0.1, 0.2) }]);

  it('predicts each row before its answer, each sequence from L0', () => {
    // First answers: 0.5*0.9 + 0.5*0.2 = 0.55. After u1's correct answer: known 0.45, unknown 0.1,
    // P(L) = 0.45/0.55 = 0.818182 (T = 0), so 0.818182*0.9 + 0.181818*0.2 = 0.772727.
    expect(predictions[0]).toBeCloseTo(0.55, 12);
    expect(predictions[1]).toBeCloseTo(0.45 / 0.55 * 0.9 + (0.1 / 0.55) * 0.2, 12);
    expect(predictions[2]).toBeCloseTo(0.55, 12);
    expect(Number.isNaN(predictions[3])).toBe(true);
  });

  it('scores the concept with params and its baselines, and reports b as no_params', () => {
    const a = report.concepts.find((c) => c.concept_id === 'a');
    const b = report.concepts.find((c) => c.concept_id === 'b');
    const p2 = 0.45 / 0.55 * 0.9 + (0.1 / 0.55) * 0.2;
    // Labels 1, 0, 0 against 0.55, p2, 0.55.
    const rmse = Math.sqrt((0.45 ** 2 + p2 ** 2 + 0.55 ** 2) / 3);
    expect(a?.model?.rmse).toBeCloseTo(rmse, 12);
    // The one positive (0.55) beats no negative and ties one of two: AUC = 0.5 / 2.
    expect(a?.model?.auc).toBeCloseTo(0.25, 12);
    // Every prediction >= 0.5 says "correct": right once out of three.
    expect(a?.model?.accuracy).toBeCloseTo(1 / 3, 12);
    expect(a?.model?.log_loss).toBeCloseTo(-(Math.log(0.55) + Math.log(1 - p2) + Math.log(0.45)) / 3, 12);
    // Baseline: the concept mean 1/3 for every row: RMSE sqrt((4/9 + 1/9 + 1/9) / 3), AUC 0.5.
    const baseRmse = Math.sqrt((4 / 9 + 1 / 9 + 1 / 9) / 3);
    expect(a?.baseline_concept_mean.rmse).toBeCloseTo(baseRmse, 12);
    expect(a?.baseline_concept_mean.auc).toBe(0.5);
    expect(a?.lift?.rmse).toBeCloseTo(baseRmse - rmse, 12);
    expect(b).toMatchObject({ status: 'no_params', n: 1, model: null, lift: null });
    expect(report.rows_scored).toBe(3);
    expect(report.rows_no_params).toBe(1);
    expect(report.concepts_no_params).toEqual(['b']);
    expect(report.baseline_source).toBe('evaluated_data');
  });

  it('takes the baselines from training data when given', () => {
    const training = AttemptsTableBuilder.fromArrays({ learner: ['x', 'x', 'y', 'y'], concept: ['a', 'a', 'a', 'c'], correct: [1, 1, 0, 1] });
    const { report: r } = evaluateParams(table, [{ concept_id: 'a', params: params(0.5, 0, 0.1, 0.2) }], { baselineTable: training });
    expect(r.baseline_source).toBe('training_data');
    // Concept a's training mean is 2/3: errors 1/3, 2/3, 2/3.
    const a = r.concepts.find((c) => c.concept_id === 'a');
    expect(a?.baseline_concept_mean.rmse).toBeCloseTo(Math.sqrt((1 / 9 + 4 / 9 + 4 / 9) / 3), 12);
    // The overall training mean is 3/4.
    expect(r.overall.baseline_overall_mean.rmse).toBeCloseTo(Math.sqrt((1 / 16 + 9 / 16 + 9 / 16) / 3), 12);
  });
});

describe('learnerFolds', () => {
  it('is deterministic for a seed and balanced to within one learner', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.integer({ min: 2, max: 10 }), fc.integer({ min: 0, max: 1000 }), (learners, folds, seed) => {
        fc.pre(learners >= folds);
        const a = learnerFolds(learners, folds, seed);
        expect(learnerFolds(learners, folds, seed)).toEqual(a);
        const sizes = new Array(folds).fill(0);
        a.forEach((f) => sizes[f]++);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('subsetByLearners', () => {
  it('keeps whole sequences of the kept learners in order, with the same dictionaries', () => {
    const table = AttemptsTableBuilder.fromArrays({
      learner: ['u1', 'u2', 'u1', 'u2', 'u3'],
      concept: ['a', 'a', 'a', 'b', 'b'],
      correct: [1, 0, 0, 1, 1],
    });
    const keep = new Uint8Array(3);
    keep[table.learnerIds.indexOf('u1')] = 1;
    keep[table.learnerIds.indexOf('u3')] = 1;
    const sub = subsetByLearners(table, keep);
    expect(sub.length).toBe(3);
    expect(Array.from(sub.correct)).toEqual([1, 0, 1]);
    expect(Array.from(sub.sequenceStart)).toEqual([0, 2, 3]);
    expect(Array.from(sub.conceptSequenceStart)).toEqual([0, 1, 2]);
    expect(sub.conceptIds).toBe(table.conceptIds);
  });
});

describe('crossValidate', () => {
  const table = simulateAttempts({
    params: [params(0.2, 0.15, 0.1, 0.2), params(0.4, 0.05, 0.15, 0.25)],
    learners: 60,
    attemptsPerLearner: 12,
    seed: 7,
  });

  it('fits each fold on the other learners and scores the held-out ones', async () => {
    const seen: number[] = [];
    const cv = await crossValidate(table, { folds: 3, seed: 1, trainer: { restarts: 2, workers: 1 } });
    expect(cv.cv_folds).toBe(3);
    expect(cv.per_fold).toHaveLength(3);
    for (const f of cv.per_fold) {
      expect(f.train_learners + f.test_learners).toBe(60);
      expect(f.train_rows + f.test_rows).toBe(table.length);
      expect(f.metrics?.n).toBe(f.test_rows);
      seen.push(f.test_learners);
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(60);
    const aucs = cv.per_fold.map((f) => f.metrics?.auc as number);
    expect(cv.cv_auc_mean).toBeCloseTo(aucs.reduce((a, b) => a + b, 0) / 3, 12);
    // Data simulated from BKT: held-out predictions beat chance clearly.
    expect(cv.cv_auc_mean).toBeGreaterThan(0.6);
    expect(cv.per_concept.map((c) => c.concept_id).sort()).toEqual(['concept-1', 'concept-2']);

    const stored = crossValidationMetricsForParams(cv, 'concept-1');
    expect(stored).toMatchObject({ cv_folds: 3, cv_seed: 1, cv_auc_mean: cv.cv_auc_mean, cv_rmse_mean: cv.cv_rmse_mean });
    expect((stored.cv_per_fold as unknown[]).length).toBe(3);
    expect(stored.cv_concept).toMatchObject({ folds_scored: 3 });
  });

  it('gives identical results for the same seed', async () => {
    const fake = async (t: typeof table): Promise<FitReport> =>
      ({
        concepts: t.conceptIds.map((id) => ({ concept_id: id, status: 'fitted', params: params(0.3, 0.1, 0.1, 0.2) })),
      }) as unknown as FitReport;
    const a = await crossValidate(table, { folds: 4, seed: 9, trainer: {}, fit: fake });
    const b = await crossValidate(table, { folds: 4, seed: 9, trainer: {}, fit: fake });
    expect(a).toEqual(b);
  });

  it('refuses more folds than learners', async () => {
    const tiny = AttemptsTableBuilder.fromArrays({ learner: ['u1', 'u2'], concept: ['a', 'a'], correct: [1, 0] });
    await expect(crossValidate(tiny, { folds: 3, trainer: {} })).rejects.toThrow(/needs at least 3 learners/);
  });
});
