import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BktParams } from '../../src/model/params.js';
import { toUuid } from '../../src/store/ids.js';
import type { EvaluationReport, MetricSet } from '../../src/quality/evaluation-types.js';
import {
  failureLines,
  identifiabilityCheck,
  masteryAfterCorrectRun,
  masteryMonotoneCheck,
  masteryReachableCheck,
  validateParams,
} from '../../src/quality/validate.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const p = (p_L0: number, p_T: number, p_S: number, p_G: number, p_F = 0): BktParams => ({ p_L0, p_T, p_S, p_G, p_F });
const statusOf = (checks: { name: string; status: string }[], name: string) => checks.find((c) => c.name === name)?.status;

describe('validateParams on hand-worked parameters', () => {
  it('passes every check for the app defaults L0 0.1, T 0.1, S 0.1, G 0.25', () => {
    // One correct answer: P(C) = 0.1*0.9 + 0.9*0.25 = 0.315, posterior 0.09/0.315 = 0.285714,
    // next 0.285714 + 0.714286*0.1 = 0.357143: gain 0.257 >= 0.05. Gap (1 - 0.1) - 0.25 = 0.65.
    const report = validateParams([{ concept_id: 'c1', params: p(0.1, 0.1, 0.1, 0.25) }]);
    const c = report.concepts[0];
    expect(c.status).toBe('pass');
    expect(c.checks.map((x) => x.name)).toEqual([
      'validity',
      'learn_rate',
      'discrimination',
      'learning_gain',
      'instant_mastery',
      'bounds',
      'mastery_monotone',
      'mastery_reachable',
    ]);
    expect(report.summary.failures).toEqual([]);
    expect(report.overall).toBeNull();
  });

  it('fails validity and monotonicity when a correct answer is likelier unknown than known (S 0.6, G 0.5)', () => {
    // 1 - S = 0.4 < G = 0.5, S + G = 1.1: invalid. From L = 0.9 a correct answer gives posterior
    // 0.9*0.4 / (0.36 + 0.1*0.5) = 0.878 and next 0.878 + 0.122*0.1 = 0.890 < 0.9: mastery falls.
    const report = validateParams([{ concept_id: 'bad', params: p(0.3, 0.1, 0.6, 0.5) }]);
    const c = report.concepts[0];
    expect(c.status).toBe('fail');
    expect(statusOf(c.checks, 'validity')).toBe('fail');
    expect(statusOf(c.checks, 'discrimination')).toBe('fail');
    expect(statusOf(c.checks, 'mastery_monotone')).toBe('fail');
    expect(report.summary.failures.map((f) => f.check)).toEqual([
      'validity',
      'discrimination',
      'learning_gain',
      'mastery_monotone',
      'mastery_reachable',
    ]);
    expect(failureLines(report)[0]).toMatch(/^concept bad: validity failed: S \+ G = 1\.1000 is not < 1/);
  });

  it('names a failing concept by its imported label in the stderr line, when it has one', () => {
    const report = validateParams([
      { concept_id: 'Long division', params: p(0.3, 0.1, 0.5, 0.6) },
      { concept_id: 'unnamed', params: p(0.3, 0.1, 0.5, 0.6) },
    ]);
    const labels = new Map([[toUuid('Long division'), 'Long division (grade 5)']]);
    const lines = failureLines(report, labels).filter((l) => l.includes('validity failed'));
    expect(lines).toEqual([
      expect.stringMatching(/^concept Long division \(Long division \(grade 5\)\): validity failed: /),
      expect.stringMatching(/^concept unnamed: validity failed: /),
    ]);
  });

  it('fails learning gain and reachability when answers barely move mastery (L0 0.001, T 0.001, S 0.35, G 0.35)', () => {
    // Each correct answer multiplies the odds of mastery by 0.65 / 0.35 = 1.857 (plus T), so ten
    // take odds 0.001 to about 0.001 * 1.857^10 * (a little) ~ 0.5 < 0.95.
    const report = validateParams([{ concept_id: 'slow', params: p(0.001, 0.001, 0.35, 0.35) }]);
    const c = report.concepts[0];
    expect(statusOf(c.checks, 'validity')).toBe('pass');
    expect(statusOf(c.checks, 'learning_gain')).toBe('fail');
    expect(statusOf(c.checks, 'mastery_reachable')).toBe('fail');
    expect(statusOf(c.checks, 'learn_rate')).toBe('pass');
  });

  it('applies each threshold flag: --min-learn 0.2 fails T 0.1', () => {
    const report = validateParams([{ concept_id: 'c', params: p(0.1, 0.1, 0.1, 0.25) }], { minLearn: 0.2 });
    expect(statusOf(report.concepts[0].checks, 'learn_rate')).toBe('fail');
    expect(report.thresholds.min_learn).toBe(0.2);
    expect(report.thresholds.mastery_run).toBe(10);
  });

  it('rejects an out-of-range threshold', () => {
    expect(() => validateParams([], { minAuc: 2 })).toThrow();
  });
});

describe('masteryAfterCorrectRun and mastery_reachable', () => {
  it('equals the update applied by hand ten times', () => {
    // L0 0.1, T 0.1, S 0.1, G 0.25; each step: post = 0.9L / (0.9L + 0.25(1 - L)), L' = post + 0.1(1 - post).
    let l = 0.1;
    for (let i = 0; i < 10; i++) {
      const post = (0.9 * l) / (0.9 * l + 0.25 * (1 - l));
      l = post + 0.1 * (1 - post);
    }
    expect(masteryAfterCorrectRun(p(0.1, 0.1, 0.1, 0.25), 10)).toBeCloseTo(l, 12);
    expect(l).toBeGreaterThan(0.95);
  });

  it('fails with a run too short to reach 0.95 (one answer gives 0.357)', () => {
    expect(masteryReachableCheck(p(0.1, 0.1, 0.1, 0.25), 1, 0.95).status).toBe('fail');
    expect(masteryReachableCheck(p(0.1, 0.1, 0.1, 0.25), 10, 0.95).status).toBe('pass');
  });
});

describe('mastery_monotone', () => {
  it('compares with the transition alone when the model forgets', () => {
    // F 0.05: from L = 1 a correct answer gives about 0.95 < 1, but the answer itself raised mastery.
    expect(masteryMonotoneCheck(p(0.2, 0.1, 0.1, 0.2, 0.05)).status).toBe('pass');
  });

  it('fails when T + F > 1: a correct answer then lowers next mastery below the transition alone', () => {
    // From L = 0.5 with S 0.1, G 0.2: posterior 0.45 / 0.55 = 0.818. Next = 0.818*0.7 + 0.182*0.9 = 0.736;
    // without the answer 0.5*0.7 + 0.5*0.9 = 0.8: lower by 0.064.
    const check = masteryMonotoneCheck(p(0.5, 0.9, 0.1, 0.2, 0.3));
    expect(check.status).toBe('fail');
    expect(check.message).toMatch(/T \+ F = 1\.2000 > 1/);
    const fall = 0.5 * 0.7 + 0.5 * 0.9 - ((0.45 / 0.55) * 0.7 + (0.1 / 0.55) * 0.9);
    expect(fall).toBeCloseTo(0.0636, 4);
    const worst = Number(/by up to ([0-9.]+)/.exec(check.message)?.[1]);
    expect(worst).toBeGreaterThanOrEqual(Number(fall.toFixed(4)));
  });

  it('holds for every valid parameter set (1 - S > G, T + F < 1), forgetting or not', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        (l0, t, s, g, f) => {
          // Arrange
          // T + F > 1 makes the chain oscillate: a higher posterior then lowers the next mastery.
          fc.pre(1 - s > g + 1e-6 && t + f < 1);
          // Act
          const check = masteryMonotoneCheck(p(l0, t, s, g, f));
          // Assert
          expect(check.status).toBe('pass');
        },
      ),
    );
  });
});

describe('identifiability', () => {
  const restart = (ll: number, g: number) => ({ params: p(0.2, 0.1, 0.1, g), log_likelihood: ll });

  it('warns when restarts within the gap disagree by more than 0.1', () => {
    const check = identifiabilityCheck([restart(-100, 0.1), restart(-100.5, 0.35), restart(-150, 0.9)], 1, 0.1);
    expect(check?.status).toBe('warn');
    expect(check?.message).toMatch(/2 restarts .* disagree on p_G by 0\.2500/);
  });

  it('passes when the disagreeing restart is far worse', () => {
    expect(identifiabilityCheck([restart(-100, 0.1), restart(-110, 0.35)], 1, 0.1)?.status).toBe('pass');
  });

  it('is absent without restart metadata, and only ever warns', () => {
    expect(identifiabilityCheck(undefined, 1, 0.1)).toBeNull();
    const report = validateParams([
      { concept_id: 'c', params: p(0.1, 0.1, 0.1, 0.25), restarts: [restart(-100, 0.1), restart(-100, 0.5)] },
    ]);
    expect(report.concepts[0].status).toBe('warn');
    expect(report.summary.failures).toEqual([]);
    expect(report.summary.warnings[0].check).toBe('identifiability');
  });
});

describe('held-out thresholds', () => {
  const m = (n: number, auc: number | null, rmse: number): MetricSet => ({ n, auc, rmse, log_loss: 0.5, accuracy: 0.7 });
  const heldOut = (concepts: Array<{ id: string; model: MetricSet | null; liftRmse: number }>): EvaluationReport => ({
    concepts: concepts.map((c) => ({
      concept_id: c.id,
      status: c.model ? 'scored' : 'no_params',
      n: c.model?.n ?? 5,
      n_users: 3,
      share_correct: 0.7,
      model: c.model,
      baseline_overall_mean: m(c.model?.n ?? 5, 0.5, 0.45),
      baseline_concept_mean: m(c.model?.n ?? 5, 0.5, 0.44),
      lift: c.model ? { auc: 0.1, rmse: c.liftRmse, log_loss: 0.01, accuracy: 0 } : null,
    })),
    overall: {
      model: m(300, 0.7, 0.42),
      baseline_overall_mean: m(300, 0.5, 0.45),
      baseline_concept_mean: m(300, 0.6, 0.44),
      lift: { auc: 0.1, rmse: 0.02, log_loss: 0.01, accuracy: 0 },
      lift_vs_overall_mean: { auc: 0.2, rmse: 0.03, log_loss: 0.02, accuracy: 0 },
    },
    baseline_source: 'evaluated_data',
    rows_total: 300,
    rows_scored: 300,
    rows_no_params: 0,
    concepts_no_params: [],
  });
  const good = p(0.1, 0.1, 0.1, 0.25);

  it('fails a concept below --min-auc with enough rows, and warns with too few', () => {
    const report = validateParams(
      [
        { concept_id: 'big', params: good },
        { concept_id: 'small', params: good },
      ],
      { minAuc: 0.6 },
      heldOut([
        { id: 'big', model: m(200, 0.55, 0.4), liftRmse: 0.01 },
        { id: 'small', model: m(20, 0.55, 0.4), liftRmse: 0.01 },
      ]),
    );
    expect(statusOf(report.concepts[0].checks, 'held_out_auc')).toBe('fail');
    expect(statusOf(report.concepts[1].checks, 'held_out_auc')).toBe('warn');
    expect(report.overall?.status).toBe('pass');
    expect(report.summary.failures).toEqual([{ concept_id: 'big', check: 'held_out_auc', message: 'AUC 0.5500 < 0.6' }]);
  });

  it('fails RMSE above --max-rmse; a concept short of --min-lift warns, the overall lift fails', () => {
    const report = validateParams([{ concept_id: 'c', params: good }], { maxRmse: 0.3, minLift: 0.05 }, heldOut([{ id: 'c', model: m(100, 0.7, 0.45), liftRmse: -0.01 }]));
    expect(statusOf(report.concepts[0].checks, 'held_out_rmse')).toBe('fail');
    expect(statusOf(report.concepts[0].checks, 'held_out_lift')).toBe('warn');
    // Overall: RMSE 0.42 > 0.3 and lift 0.02 < 0.05 both fail.
    expect(report.overall?.checks.find((c) => c.name === 'held_out_rmse')?.status).toBe('fail');
    expect(report.overall?.checks.find((c) => c.name === 'held_out_lift')?.status).toBe('fail');
    expect(report.summary.failures.map((f) => `${f.concept_id}/${f.check}`)).toEqual(['c/held_out_rmse', '(overall)/held_out_rmse', '(overall)/held_out_lift']);
  });

  it('warns when the concept has no attempts in --input', () => {
    const report = validateParams([{ concept_id: 'absent', params: good }], {}, heldOut([]));
    expect(statusOf(report.concepts[0].checks, 'held_out')).toBe('warn');
  });
});
