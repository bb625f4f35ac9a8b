import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATISTICS_LENGTH, Stat } from '../../src/model/em-kernels.js';
import {
  type EmSettings,
  EmWorkspace,
  expectationStep,
  logPriorDensity,
  masteryAfterOneCorrect,
  maximizationStep,
  maximizeSlipGuess,
  maximizeUnderMasteryCap,
  runEm,
  type SequenceSlice,
} from '../../src/model/em-trainer.js';
import { DEFAULT_PRIOR } from '../../src/model/fit-methods.js';
import { NO_BOUNDS, type BktParams } from '../../src/model/params.js';
import { answersToMaster, boundWarnings, checkParameterQuality } from '../../src/model/quality.js';
import { DEFAULT_BOUNDS } from '../../src/model/params.js';
import { simulateAttempts } from '../../src/model/simulate.js';

const p = (p_L0: number, p_T: number, p_S: number, p_G: number): BktParams => ({ p_L0, p_T, p_S, p_G, p_F: 0 });
const base: EmSettings = { maxIterations: 1, tolerance: 0, bounds: NO_BOUNDS, forgets: false, fixed: {} };

/** Expected counts as an E-step would leave them. */
function stats(counts: { firstKnown: number; sequences: number; learn: number; unknownBefore: number; slipped: number; known: number; guessed: number; unknown: number }) {
  const s = new Float64Array(STATISTICS_LENGTH);
  s[Stat.firstKnown] = counts.firstKnown;
  s[Stat.sequences] = counts.sequences;
  s[Stat.learnTransitions] = counts.learn;
  s[Stat.unknownBeforeTransition] = counts.unknownBefore;
  s[Stat.slippedWrong] = counts.slipped;
  s[Stat.knownAttempts] = counts.known;
  s[Stat.guessedCorrect] = counts.guessed;
  s[Stat.unknownAttempts] = counts.unknown;
  return s;
}

describe('the MAP M-step', () => {
  it('adds each prior\'s pseudo-counts to the expected counts (closed form)', () => {
    // L0: (30 + 0.5*10) / (100 + 10) = 35/110; T: (20 + 0.2*5)/(80 + 5) = 21/85;
    // S: (5 + 0.1*5)/(50 + 5) = 5.5/55 = 0.1; G: (10 + 0.2*5)/(40 + 5) = 11/45.
    const next = maximizationStep(p(0.5, 0.5, 0.5, 0.5), stats({ firstKnown: 30, sequences: 100, learn: 20, unknownBefore: 80, slipped: 5, known: 50, guessed: 10, unknown: 40 }), {
      ...base,
      prior: DEFAULT_PRIOR,
    });
    expect(next.p_L0).toBeCloseTo(35 / 110, 14);
    expect(next.p_T).toBeCloseTo(21 / 85, 14);
    expect(next.p_S).toBeCloseTo(0.1, 14);
    expect(next.p_G).toBeCloseTo(11 / 45, 14);
  });

  it('never lowers the log posterior from one EM step to the next, with the priors and the mastery cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.double({ min: 0.5, max: 0.9, noNaN: true }), (seed, l0) => {
        // Arrange: data whose maximum-likelihood fit masters in one answer (G tiny, L0 high).
        const table = simulateAttempts({ params: [p(l0, 0.2, 0.1, 0.02)], learners: 60, attemptsPerLearner: 8, seed });
        const slice: SequenceSlice = { correct: table.correct, sequenceStart: table.sequenceStart, firstSequence: 0, lastSequence: 60 };
        const settings: EmSettings = { ...base, prior: DEFAULT_PRIOR, masteryCap: 0.945 };
        const workspace = new EmWorkspace();
        let params = p(0.3, 0.2, 0.2, 0.2);
        let previous = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < 15; i++) {
          // Act
          const objective = expectationStep(params, slice, workspace) + logPriorDensity(params, settings);
          // Assert: the posterior climbs (1e-9 absorbs rounding) and every iterate respects the cap.
          expect(objective).toBeGreaterThanOrEqual(previous - 1e-9);
          expect(masteryAfterOneCorrect(params)).toBeLessThanOrEqual(0.945 + 1e-9);
          previous = objective;
          params = maximizationStep(params, workspace.stats, settings);
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('maximizeUnderMasteryCap', () => {
  const counts = { p_L0: [90, 10], p_T: [20, 80], p_S: [5, 95], p_G: [2, 98] } as Record<'p_L0' | 'p_T' | 'p_S' | 'p_G', [number, number]>;
  const q = (x: Pick<BktParams, 'p_L0' | 'p_T' | 'p_S' | 'p_G'>) =>
    (Object.keys(counts) as (keyof typeof counts)[]).reduce((sum, k) => sum + counts[k][0] * Math.log(x[k]) + counts[k][1] * Math.log(1 - x[k]), 0);

  it('lands on the cap when the unconstrained maximiser breaks it', () => {
    // Unconstrained: L0 0.9, T 0.2, S 0.05, G 0.02: one correct answer gives
    // posterior 0.855 / (0.855 + 0.002) = 0.99767 -> mastery 0.9981 > 0.945.
    expect(masteryAfterOneCorrect(p(0.9, 0.2, 0.05, 0.02))).toBeCloseTo(0.99813, 4);
    const best = maximizeUnderMasteryCap(counts, 0.945, NO_BOUNDS, {});
    expect(masteryAfterOneCorrect(best)).toBeCloseTo(0.945, 9);
    expect(masteryAfterOneCorrect(best)).toBeLessThanOrEqual(0.945);
  });

  it('beats every other point that respects the cap (Lagrangian sufficiency)', () => {
    const best = maximizeUnderMasteryCap(counts, 0.945, NO_BOUNDS, {});
    fc.assert(
      fc.property(
        fc.record({ p_L0: fc.double({ min: 0.01, max: 0.99, noNaN: true }), p_T: fc.double({ min: 0.01, max: 0.9, noNaN: true }), p_S: fc.double({ min: 0.01, max: 0.99, noNaN: true }), p_G: fc.double({ min: 0.01, max: 0.99, noNaN: true }) }),
        (other) => {
          fc.pre(masteryAfterOneCorrect(other) <= 0.945);
          expect(q(best)).toBeGreaterThanOrEqual(q(other) - 1e-9);
        },
      ),
    );
  });

  it('keeps fixed parameters at their values', () => {
    const best = maximizeUnderMasteryCap(counts, 0.945, NO_BOUNDS, { p_G: 0.02 });
    expect(best.p_G).toBe(0.02);
    expect(masteryAfterOneCorrect(best)).toBeLessThanOrEqual(0.945);
  });
});

describe('maximizeSlipGuess', () => {
  it('splits the plausibility line evenly for symmetric counts', () => {
    // S and G both want 0.6 (S + G = 1.2 > 0.9); by symmetry the optimum on S + G = 0.9 is 0.45 each.
    const { p_S, p_G } = maximizeSlipGuess([6, 4], [6, 4], 0.9, NO_BOUNDS, {});
    expect(p_S).toBeCloseTo(0.45, 12);
    expect(p_G).toBeCloseTo(0.45, 12);
  });

  it('is used by the M-step only when the margin binds', () => {
    const s = stats({ firstKnown: 50, sequences: 100, learn: 20, unknownBefore: 80, slipped: 30, known: 50, guessed: 30, unknown: 50 });
    const free = maximizationStep(p(0.5, 0.5, 0.5, 0.5), s, base);
    expect(free.p_S + free.p_G).toBeCloseTo(1.2, 12);
    const held = maximizationStep(p(0.5, 0.5, 0.5, 0.5), s, { ...base, plausibilityMargin: 0.1 });
    expect(held.p_S + held.p_G).toBeCloseTo(0.9, 12);
    expect(held.p_S).toBeCloseTo(0.45, 12);
  });
});

describe('runEm with constraints', () => {
  it('reports the log posterior it climbed beside the log-likelihood', () => {
    const table = simulateAttempts({ params: [p(0.4, 0.15, 0.1, 0.2)], learners: 300, attemptsPerLearner: 10, seed: 2 });
    const slice: SequenceSlice = { correct: table.correct, sequenceStart: table.sequenceStart, firstSequence: 0, lastSequence: 300 };
    const settings: EmSettings = { maxIterations: 500, tolerance: 1e-10, bounds: NO_BOUNDS, forgets: false, fixed: {}, prior: DEFAULT_PRIOR, masteryCap: 0.945 };
    const result = runEm(p(0.5, 0.3, 0.2, 0.3), slice, settings);
    expect(result.converged).toBe(true);
    expect(result.logPosterior).toBeCloseTo(result.logLikelihood + logPriorDensity(result.params, settings), 9);
    expect(masteryAfterOneCorrect(result.params)).toBeLessThanOrEqual(0.945 + 1e-12);
  });
});

describe('answersToMaster and the instant_mastery rule', () => {
  it('finds that one correct answer masters L0 0.5, T 0.1, S 0.1, G 0.05', () => {
    // P(C) = 0.5*0.9 + 0.5*0.05 = 0.475; posterior 0.45/0.475 = 0.947368;
    // next 0.947368 + 0.052632*0.1 = 0.952632 >= 0.95: one answer.
    const params = p(0.5, 0.1, 0.1, 0.05);
    expect(answersToMaster(params, 0.95, 2)).toBe(1);
    const verdict = checkParameterQuality(params);
    expect(verdict.degenerate).toBe(true);
    expect(verdict.findings.map((f) => f.rule)).toContain('instant_mastery');
  });

  it('passes the app defaults L0 0.1, T 0.1, S 0.1, G 0.25, which need several answers', () => {
    // One answer: posterior 0.09/0.315 = 0.2857, next 0.3571 < 0.95.
    expect(answersToMaster(p(0.1, 0.1, 0.1, 0.25), 0.95, 2)).toBeNull();
    expect(checkParameterQuality(p(0.1, 0.1, 0.1, 0.25)).findings.map((f) => f.rule)).not.toContain('instant_mastery');
  });

  it('counts L0 at the threshold as zero answers, and N = 1 turns the rule off', () => {
    expect(answersToMaster(p(0.96, 0.1, 0.1, 0.2), 0.95, 2)).toBe(0);
    expect(answersToMaster(p(0.5, 0.1, 0.1, 0.05), 0.95, 1)).toBeNull();
  });
});

describe('boundWarnings', () => {
  it('names each parameter on its box bound, and none inside it', () => {
    const warnings = boundWarnings(p(0.5, 0.2, 0.1, 0.4), DEFAULT_BOUNDS);
    expect(warnings.map((w) => [w.parameter, w.bound])).toEqual([
      ['p_L0', 'L0_max'],
      ['p_G', 'G_max'],
    ]);
    expect(boundWarnings(p(0.3, 0.2, 0.1, 0.2), DEFAULT_BOUNDS)).toEqual([]);
  });

  it('treats the unit interval edges of an unbounded fit as bounds, skips fixed parameters, and reports the plausibility line', () => {
    expect(boundWarnings(p(0.3, 0.2, 1e-10, 0.2), NO_BOUNDS).map((w) => w.bound)).toEqual(['S_min']);
    expect(boundWarnings(p(0.3, 0.2, 1e-10, 0.2), NO_BOUNDS, { fixed: { p_S: 1e-10 } })).toEqual([]);
    expect(boundWarnings(p(0.3, 0.2, 0.4, 0.5), NO_BOUNDS, { plausibilityMargin: 0.1 }).map((w) => w.rule)).toEqual(['on_plausibility_constraint']);
  });
});
