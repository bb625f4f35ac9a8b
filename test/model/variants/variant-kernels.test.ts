import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STATISTICS_LENGTH, Stat, accumulateSequence, resetStatistics, statisticsLogLikelihood } from '../../../src/model/em-kernels.js';
import {
  VStat,
  accumulateVariantSequence,
  predictVariantSequence,
  resetVariantStatistics,
  variantStatisticsLayout,
  variantStatisticsLogLikelihood,
} from '../../../src/model/variants/variant-kernels.js';

/** A short sequence with its classes and per-class parameters. */
interface Case {
  prior: number;
  learn: number[];
  forget: number[];
  guess: number[];
  slip: number[];
  answers: number[];
  learnClass: number[];
  gsClass: number[];
}

/**
 * Brute force over all 2^n hidden paths, each row with its own classes: exact likelihood and
 * expected counts per class (the definition the kernel's recurrences must equal).
 */
function enumerate(k: Case) {
  const n = k.answers.length;
  const R = k.learn.length;
  const S = k.guess.length;
  let total = 0;
  const firstKnown = { v: 0 };
  const learnStats = Array.from({ length: R }, () => [0, 0, 0, 0]);
  const gsStats = Array.from({ length: S }, () => [0, 0, 0, 0]);
  for (let mask = 0; mask < 1 << n; mask++) {
    const state = (i: number) => (mask >> i) & 1;
    let w = state(0) ? k.prior : 1 - k.prior;
    for (let i = 0; i < n; i++) {
      const g = k.gsClass[i];
      const c = k.answers[i];
      w *= state(i) ? (c ? 1 - k.slip[g] : k.slip[g]) : c ? k.guess[g] : 1 - k.guess[g];
      if (i + 1 < n) {
        const r = k.learnClass[i];
        const a = state(i);
        const b = state(i + 1);
        w *= a ? (b ? 1 - k.forget[r] : k.forget[r]) : b ? k.learn[r] : 1 - k.learn[r];
      }
    }
    total += w;
    firstKnown.v += w * state(0);
    for (let i = 0; i < n; i++) {
      const s = state(i);
      if (i + 1 < n) {
        const L = learnStats[k.learnClass[i]];
        if (!s && state(i + 1)) L[0] += w;
        if (!s) L[1] += w;
        if (s && !state(i + 1)) L[2] += w;
        if (s) L[3] += w;
      }
      const G = gsStats[k.gsClass[i]];
      if (!s) {
        G[1] += w;
        if (k.answers[i]) G[0] += w;
      } else {
        G[3] += w;
        if (!k.answers[i]) G[2] += w;
      }
    }
  }
  const scale = (rows: number[][]) => rows.map((r) => r.map((v) => v / total));
  return { logLikelihood: Math.log(total), firstKnown: firstKnown.v / total, learn: scale(learnStats), gs: scale(gsStats) };
}

function run(k: Case, priorClasses = 1, priorClass = 0) {
  const layout = variantStatisticsLayout(priorClasses, k.learn.length, k.guess.length);
  const stats = new Float64Array(layout.length);
  resetVariantStatistics(stats);
  const n = k.answers.length;
  accumulateVariantSequence(
    k.prior,
    Float64Array.from(k.learn),
    Float64Array.from(k.forget),
    Float64Array.from(k.guess),
    Float64Array.from(k.slip),
    Uint32Array.from(k.learnClass),
    Uint32Array.from(k.gsClass),
    Uint8Array.from(k.answers),
    0,
    n,
    priorClass,
    layout,
    new Float64Array(n),
    new Float64Array(n),
    stats,
  );
  return { stats, layout };
}

const probability = fc.double({ min: 0.01, max: 0.99, noNaN: true });
const caseArb = fc
  .record({ learnClasses: fc.integer({ min: 1, max: 3 }), gsClasses: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 9 }), forgets: fc.boolean() })
  .chain(({ learnClasses, gsClasses, n, forgets }) =>
    fc.record({
      prior: probability,
      learn: fc.array(probability, { minLength: learnClasses, maxLength: learnClasses }),
      forget: fc.array(forgets ? probability : fc.constant(0), { minLength: learnClasses, maxLength: learnClasses }),
      guess: fc.array(probability, { minLength: gsClasses, maxLength: gsClasses }),
      slip: fc.array(probability, { minLength: gsClasses, maxLength: gsClasses }),
      answers: fc.array(fc.integer({ min: 0, max: 1 }), { minLength: n, maxLength: n }),
      learnClass: fc.array(fc.integer({ min: 0, max: learnClasses - 1 }), { minLength: n, maxLength: n }),
      gsClass: fc.array(fc.integer({ min: 0, max: gsClasses - 1 }), { minLength: n, maxLength: n }),
    }),
  );

describe('accumulateVariantSequence', () => {
  it('gives the hand-worked likelihood of correct then wrong on two items with their own guess and slip', () => {
    // Item 0: G 0.2, S 0.1; item 1: G 0.3, S 0.05; learn after item 0 is 0.4.
    // P(correct at 1) = 0.3 * 0.9 + 0.7 * 0.2 = 0.41; known after it = 0.27 / 0.41;
    // predicted known at 2 = k + (1 - k) 0.4; P(wrong at 2) = K 0.05 + (1 - K) 0.7.
    const k = 0.27 / 0.41;
    const K = k + (1 - k) * 0.4;
    const { stats } = run({ prior: 0.3, learn: [0.4, 0.9], forget: [0, 0], guess: [0.2, 0.3], slip: [0.1, 0.05], answers: [1, 0], learnClass: [0, 1], gsClass: [0, 1] });
    expect(variantStatisticsLogLikelihood(stats)).toBeCloseTo(Math.log(0.41) + Math.log(K * 0.05 + (1 - K) * 0.7), 13);
  });

  it('equals brute-force enumeration of every hidden path: likelihood and every class\'s expected counts', () => {
    fc.assert(
      fc.property(caseArb, fc.integer({ min: 0, max: 2 }), (k, priorClass) => {
        // Arrange
        const exact = enumerate(k);
        // Act
        const { stats, layout } = run(k, 3, priorClass);
        // Assert: relative 1e-9 (the kernel renormalises each step; enumeration sums 2^n products)
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        if (!close(variantStatisticsLogLikelihood(stats), exact.logLikelihood)) return false;
        for (let p = 0; p < 3; p++) {
          const expectedKnown = p === priorClass ? exact.firstKnown : 0;
          if (!close(stats[VStat.priorBase + 2 * p], expectedKnown)) return false;
          if (stats[VStat.priorBase + 2 * p + 1] !== (p === priorClass ? 1 : 0)) return false;
        }
        for (let r = 0; r < k.learn.length; r++) {
          for (let j = 0; j < 4; j++) if (!close(stats[layout.learnBase + 4 * r + j], exact.learn[r][j])) return false;
        }
        for (let g = 0; g < k.guess.length; g++) {
          for (let j = 0; j < 4; j++) if (!close(stats[layout.gsBase + 4 * g + j], exact.gs[g][j])) return false;
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('with one class of each kind equals the standard kernel exactly', () => {
    fc.assert(
      fc.property(probability, probability, probability, probability, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 40 }), (l0, t, s, g, answers) => {
        const n = answers.length;
        const standard = new Float64Array(STATISTICS_LENGTH);
        resetStatistics(standard);
        accumulateSequence(l0, t, 0, s, g, Uint8Array.from(answers), 0, n, new Float64Array(n), new Float64Array(n), standard);
        const { stats, layout } = run({ prior: l0, learn: [t], forget: [0], guess: [g], slip: [s], answers, learnClass: answers.map(() => 0), gsClass: answers.map(() => 0) });
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b));
        return (
          close(variantStatisticsLogLikelihood(stats), statisticsLogLikelihood(standard)) &&
          close(stats[VStat.priorBase], standard[Stat.firstKnown]) &&
          close(stats[layout.learnBase], standard[Stat.learnTransitions]) &&
          close(stats[layout.learnBase + 1], standard[Stat.unknownBeforeTransition]) &&
          close(stats[layout.gsBase], standard[Stat.guessedCorrect]) &&
          close(stats[layout.gsBase + 1], standard[Stat.unknownAttempts]) &&
          close(stats[layout.gsBase + 2], standard[Stat.slippedWrong]) &&
          close(stats[layout.gsBase + 3], standard[Stat.knownAttempts])
        );
      }),
    );
  });

  it('adds nothing for an empty sequence (log-likelihood 0)', () => {
    const { stats } = run({ prior: 0.3, learn: [0.1], forget: [0], guess: [0.2], slip: [0.1], answers: [], learnClass: [], gsClass: [] });
    expect(variantStatisticsLogLikelihood(stats)).toBe(0);
    expect(stats[VStat.priorBase + 1]).toBe(0);
  });
});

describe('predictVariantSequence', () => {
  it('predicts with each row\'s own guess and slip, and its likelihood is the chain rule of its predictions', () => {
    fc.assert(
      fc.property(caseArb, (k) => {
        const n = k.answers.length;
        const out = new Float64Array(n);
        const mastery = new Float64Array(n);
        const posterior = new Float64Array(n);
        const answers = Uint8Array.from(k.answers);
        predictVariantSequence(k.prior, Float64Array.from(k.learn), Float64Array.from(k.forget), Float64Array.from(k.guess), Float64Array.from(k.slip), Uint32Array.from(k.learnClass), Uint32Array.from(k.gsClass), answers, 0, n, out, mastery, posterior);
        let chain = 0;
        for (let i = 0; i < n; i++) {
          const g = k.gsClass[i];
          if (Math.abs(out[i] - (mastery[i] * (1 - k.slip[g]) + (1 - mastery[i]) * k.guess[g])) > 1e-12) return false;
          chain += Math.log(k.answers[i] ? out[i] : 1 - out[i]);
        }
        return Math.abs(chain - enumerate(k).logLikelihood) <= 1e-9 * Math.max(1, Math.abs(chain)) && mastery[0] === k.prior;
      }),
    );
  });
});
