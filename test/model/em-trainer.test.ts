import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmWorkspace, distinctSequences, expectationStep, maximizationStep, runEm, type SequenceSlice } from '../../src/model/em-trainer.js';
import { DEFAULT_BOUNDS, NO_BOUNDS, type BktParams, projectOntoBounds } from '../../src/model/params.js';
import { simulateAttempts } from '../../src/model/simulate.js';

const sliceOf = (table: ReturnType<typeof simulateAttempts>, c = 0): SequenceSlice => ({
  correct: table.correct,
  sequenceStart: table.sequenceStart,
  firstSequence: table.conceptSequenceStart[c],
  lastSequence: table.conceptSequenceStart[c + 1],
});
const probability = (min: number, max: number) => fc.double({ min, max, noNaN: true });
const paramsArb = fc.record({
  p_L0: probability(0.05, 0.9),
  p_T: probability(0.02, 0.5),
  p_S: probability(0.02, 0.3),
  p_G: probability(0.02, 0.4),
  p_F: fc.constant(0),
});

describe('EM (Baum-Welch)', () => {
  it('never lowers the log-likelihood from one step to the next, bounded or not', () => {
    fc.assert(
      fc.property(paramsArb, paramsArb, fc.boolean(), fc.integer({ min: 0, max: 1000 }), (truth, start, bounded, seed) => {
        // Arrange
        const table = simulateAttempts({ params: [truth], learners: 40, attemptsPerLearner: 12, seed });
        const settings = { maxIterations: 1, tolerance: 0, bounds: bounded ? DEFAULT_BOUNDS : NO_BOUNDS, forgets: false, fixed: {} };
        const workspace = new EmWorkspace();
        workspace.ensure(12);
        // EM climbs within the feasible box: an infeasible start could be likelier than any feasible point.
        let params: BktParams = projectOntoBounds(start, settings.bounds);
        let previous = Number.NEGATIVE_INFINITY;
        // Act / Assert: 15 plain EM steps
        for (let i = 0; i < 15; i++) {
          const ll = expectationStep(params, sliceOf(table), workspace);
          if (ll < previous - 1e-9 * Math.abs(previous)) return false;
          previous = ll;
          params = maximizationStep(params, workspace.stats, settings);
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('recovers the parameters of simulated data (20,000 learners x 20 attempts)', () => {
    const truth: BktParams = { p_L0: 0.3, p_T: 0.12, p_S: 0.08, p_G: 0.22, p_F: 0 };
    const table = simulateAttempts({ params: [truth], learners: 20_000, attemptsPerLearner: 20, seed: 7 });
    const result = runEm({ p_L0: 0.5, p_T: 0.3, p_S: 0.2, p_G: 0.3, p_F: 0 }, sliceOf(table), {
      maxIterations: 500, tolerance: 1e-10, bounds: NO_BOUNDS, forgets: false, fixed: {},
    });
    expect(result.converged).toBe(true);
    // 400,000 answers: standard errors are ~0.005 or less; 0.02 leaves room without being vacuous.
    expect(result.params.p_L0).toBeCloseTo(truth.p_L0, 1);
    for (const key of ['p_L0', 'p_T', 'p_S', 'p_G'] as const) {
      expect(Math.abs(result.params[key] - truth[key])).toBeLessThan(0.02);
    }
  });

  it('recovers forgetting when asked to fit it', () => {
    const truth: BktParams = { p_L0: 0.4, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0.05 };
    const table = simulateAttempts({ params: [truth], learners: 20_000, attemptsPerLearner: 25, seed: 3 });
    const result = runEm({ p_L0: 0.5, p_T: 0.1, p_S: 0.2, p_G: 0.3, p_F: 0.1 }, sliceOf(table), {
      maxIterations: 1000, tolerance: 1e-10, bounds: NO_BOUNDS, forgets: true, fixed: {},
    });
    expect(Math.abs(result.params.p_F - truth.p_F)).toBeLessThan(0.02);
    expect(Math.abs(result.params.p_T - truth.p_T)).toBeLessThan(0.03);
  });

  it('keeps every parameter inside the bounds and fixed ones at their value', () => {
    fc.assert(
      fc.property(paramsArb, fc.integer({ min: 0, max: 1000 }), (truth, seed) => {
        const table = simulateAttempts({ params: [{ ...truth, p_G: 0.6, p_S: 0.05 }], learners: 30, attemptsPerLearner: 10, seed });
        const result = runEm({ p_L0: 0.2, p_T: 0.2, p_S: 0.2, p_G: 0.2, p_F: 0 }, sliceOf(table), {
          maxIterations: 200, tolerance: 1e-9, bounds: DEFAULT_BOUNDS, forgets: false, fixed: { p_G: 0.25 },
        });
        const p = result.params;
        return (
          p.p_G === 0.25 && p.p_F === 0 &&
          p.p_L0 >= DEFAULT_BOUNDS.L0_min && p.p_L0 <= DEFAULT_BOUNDS.L0_max &&
          p.p_T >= DEFAULT_BOUNDS.T_min && p.p_T <= DEFAULT_BOUNDS.T_max &&
          p.p_S >= DEFAULT_BOUNDS.S_min && p.p_S <= DEFAULT_BOUNDS.S_max
        );
      }),
      { numRuns: 30 },
    );
  });

  it('reaches the same optimum with and without SQUAREM acceleration', () => {
    const truth: BktParams = { p_L0: 0.25, p_T: 0.08, p_S: 0.12, p_G: 0.25, p_F: 0 };
    const table = simulateAttempts({ params: [truth], learners: 500, attemptsPerLearner: 15, seed: 11 });
    const settings = { maxIterations: 20_000, tolerance: 1e-13, bounds: NO_BOUNDS, forgets: false, fixed: {} };
    const start = { p_L0: 0.6, p_T: 0.3, p_S: 0.05, p_G: 0.1, p_F: 0 };
    const plain = runEm(start, sliceOf(table), { ...settings, acceleration: 'none' });
    const fast = runEm(start, sliceOf(table), { ...settings, acceleration: 'squarem' });
    expect(fast.logLikelihood).toBeGreaterThanOrEqual(plain.logLikelihood - 1e-6);
    expect(fast.iterations).toBeLessThan(plain.iterations);
  });

  it('groups identical sequences without changing the E-step (statistics and log-likelihood)', () => {
    fc.assert(
      fc.property(paramsArb, paramsArb, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 1000 }), (truth, at, length, seed) => {
        // Arrange: short sequences, so many are identical
        const table = simulateAttempts({ params: [truth], learners: 200, attemptsPerLearner: length, seed });
        const plain = sliceOf(table);
        const distinct = distinctSequences(table.correct, table.sequenceStart, plain.firstSequence, plain.lastSequence);
        const a = new EmWorkspace();
        const b = new EmWorkspace();
        // Act
        const llPlain = expectationStep(at, plain, a);
        const llDistinct = expectationStep(at, { ...plain, distinct }, b);
        // Assert: same up to summation order; every sequence counted once
        const weightSum = distinct.weights.reduce((x, y) => x + y, 0);
        return (
          weightSum === 200 &&
          distinct.sequences.length <= 2 ** length &&
          Math.abs(llPlain - llDistinct) <= 1e-9 * Math.abs(llPlain) &&
          a.stats.every((v, k) => k < 3 || Math.abs(v - b.stats[k]) <= 1e-9 * Math.max(1, Math.abs(v)))
        );
      }),
      { numRuns: 50 },
    );
  });

  it('never merges different sequences of the same length', () => {
    const correct = Uint8Array.from([1, 0, 0, 1, 1, 1]);
    const starts = Uint32Array.from([0, 2, 4, 6]);
    const distinct = distinctSequences(correct, starts, 0, 3);
    expect(Array.from(distinct.sequences)).toEqual([0, 1, 2]);
    expect(Array.from(distinct.weights)).toEqual([1, 1, 1]);
    const repeated = distinctSequences(Uint8Array.from([1, 0, 1, 0, 0, 1]), starts, 0, 3);
    expect(Array.from(repeated.sequences)).toEqual([0, 2]);
    expect(Array.from(repeated.weights)).toEqual([2, 1]);
  });

  it('stops at maxIterations and says it did not converge', () => {
    const table = simulateAttempts({ params: [{ p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 }], learners: 200, attemptsPerLearner: 10 });
    const result = runEm({ p_L0: 0.9, p_T: 0.4, p_S: 0.3, p_G: 0.4, p_F: 0 }, sliceOf(table), {
      maxIterations: 3, tolerance: 0, bounds: NO_BOUNDS, forgets: false, fixed: {},
    });
    expect(result.iterations).toBe(3);
    expect(result.converged).toBe(false);
  });
});

describe('drawRestartStarts', () => {
  it('puts each restart in a different stratum of every parameter range, inside the bounds', async () => {
    const { drawRestartStarts } = await import('../../src/model/fit-concepts.js');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 2 ** 31 }), fc.string(), (restarts, seed, conceptId) => {
        const starts = drawRestartStarts(seed, conceptId, restarts, DEFAULT_BOUNDS, true);
        // L0 range [0.001, 0.5]: stratum k of restarts holds exactly one start
        const width = (0.5 - 0.001) / restarts;
        const strata = new Set(starts.map((p) => Math.min(restarts - 1, Math.floor((p.p_L0 - 0.001) / width))));
        return (
          strata.size === restarts &&
          starts.every((p) => p.p_S >= DEFAULT_BOUNDS.S_min && p.p_S <= 0.3 && p.p_G <= DEFAULT_BOUNDS.G_max && p.p_F >= 0 && p.p_F <= 0.2)
        );
      }),
    );
  });

  it('draws the same starts for the same seed and concept, and others for another seed', async () => {
    const { drawRestartStarts } = await import('../../src/model/fit-concepts.js');
    expect(drawRestartStarts(42, 'c', 5, DEFAULT_BOUNDS, false)).toEqual(drawRestartStarts(42, 'c', 5, DEFAULT_BOUNDS, false));
    expect(drawRestartStarts(43, 'c', 5, DEFAULT_BOUNDS, false)).not.toEqual(drawRestartStarts(42, 'c', 5, DEFAULT_BOUNDS, false));
  });
});
