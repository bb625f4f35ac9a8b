import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  STATISTICS_LENGTH,
  Stat,
  accumulateSequence,
  predictSequence,
  resetStatistics,
  statisticsLogLikelihood,
} from '../../src/model/em-kernels.js';

type P = { l0: number; t: number; f: number; s: number; g: number };

/** Brute force over all 2^n hidden paths: exact likelihood and expected counts, for short sequences. */
function enumerate(p: P, answers: number[]) {
  const n = answers.length;
  let total = 0;
  const acc = { firstKnown: 0, learn: 0, unknownBefore: 0, forget: 0, knownBefore: 0, guessed: 0, unknownAll: 0, slipped: 0, knownAll: 0 };
  for (let mask = 0; mask < 1 << n; mask++) {
    const state = (i: number) => (mask >> i) & 1; // 1 = known
    let w = state(0) ? p.l0 : 1 - p.l0;
    for (let i = 0; i < n; i++) {
      const k = state(i);
      const c = answers[i];
      w *= k ? (c ? 1 - p.s : p.s) : c ? p.g : 1 - p.g;
      if (i + 1 < n) {
        const k2 = state(i + 1);
        w *= k ? (k2 ? 1 - p.f : p.f) : k2 ? p.t : 1 - p.t;
      }
    }
    total += w;
    acc.firstKnown += w * state(0);
    for (let i = 0; i < n; i++) {
      const k = state(i);
      if (i + 1 < n) {
        if (!k) acc.unknownBefore += w;
        else acc.knownBefore += w;
        if (!k && state(i + 1)) acc.learn += w;
        if (k && !state(i + 1)) acc.forget += w;
      }
      if (k) {
        acc.knownAll += w;
        if (!answers[i]) acc.slipped += w;
      } else {
        acc.unknownAll += w;
        if (answers[i]) acc.guessed += w;
      }
    }
  }
  const scaled = Object.fromEntries(Object.entries(acc).map(([k, v]) => [k, v / total])) as typeof acc;
  return { logLikelihood: Math.log(total), ...scaled };
}

function run(p: P, answers: number[]) {
  const correct = Uint8Array.from(answers);
  const stats = new Float64Array(STATISTICS_LENGTH);
  resetStatistics(stats);
  const known = new Float64Array(answers.length);
  const unknown = new Float64Array(answers.length);
  accumulateSequence(p.l0, p.t, p.f, p.s, p.g, correct, 0, answers.length, known, unknown, stats);
  return stats;
}

const probability = fc.double({ min: 0.01, max: 0.99, noNaN: true });
const paramsArb = fc.record({ l0: probability, t: probability, f: fc.oneof(fc.constant(0), probability), s: probability, g: probability });

describe('accumulateSequence', () => {
  it('gives the hand-worked likelihood of one correct answer: L0(1-S) + (1-L0)G', () => {
    const stats = run({ l0: 0.1, t: 0.1, f: 0, s: 0.1, g: 0.25 }, [1]);
    expect(statisticsLogLikelihood(stats)).toBeCloseTo(Math.log(0.315), 14);
    // P(known | correct) = 0.09 / 0.315
    expect(stats[Stat.firstKnown]).toBeCloseTo(0.09 / 0.315, 14);
  });

  it('gives the hand-worked likelihood of correct then wrong', () => {
    // After correct: L = 0.357143 (the seed example); P(wrong) = L*S + (1-L)(1-G)
    const post = 0.09 / 0.315;
    const next = post + (1 - post) * 0.1;
    const pWrong = next * 0.1 + (1 - next) * 0.75;
    const stats = run({ l0: 0.1, t: 0.1, f: 0, s: 0.1, g: 0.25 }, [1, 0]);
    expect(statisticsLogLikelihood(stats)).toBeCloseTo(Math.log(0.315) + Math.log(pWrong), 13);
  });

  it('adds nothing for an empty sequence (log-likelihood 0)', () => {
    const stats = run({ l0: 0.3, t: 0.1, f: 0, s: 0.1, g: 0.2 }, []);
    expect(statisticsLogLikelihood(stats)).toBe(0);
    expect(stats[Stat.sequences]).toBe(0);
  });

  it('equals brute-force enumeration of every hidden path (likelihood and expected counts)', () => {
    fc.assert(
      fc.property(paramsArb, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 9 }), (p, answers) => {
        // Arrange
        const exact = enumerate(p, answers);
        // Act
        const stats = run(p, answers);
        // Assert: relative 1e-9 (the kernel renormalises every step; enumeration sums 2^n products)
        const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        return (
          close(statisticsLogLikelihood(stats), exact.logLikelihood) &&
          close(stats[Stat.firstKnown], exact.firstKnown) &&
          close(stats[Stat.learnTransitions], exact.learn) &&
          close(stats[Stat.unknownBeforeTransition], exact.unknownBefore) &&
          close(stats[Stat.forgetTransitions], exact.forget) &&
          close(stats[Stat.knownBeforeTransition], exact.knownBefore) &&
          close(stats[Stat.guessedCorrect], exact.guessed) &&
          close(stats[Stat.unknownAttempts], exact.unknownAll) &&
          close(stats[Stat.slippedWrong], exact.slipped) &&
          close(stats[Stat.knownAttempts], exact.knownAll)
        );
      }),
    );
  });

  it('stays finite and exact on a 20,000-answer sequence whose mastery rounds to 1', () => {
    // Nearly all correct with tiny slip: P(known) rounds to 1 early; the unknown state must not vanish.
    const n = 20_000;
    const answers = Array.from({ length: n }, (_, i) => (i % 997 === 0 ? 0 : 1));
    const p = { l0: 0.5, t: 0.3, f: 0, s: 0.001, g: 0.2 };
    const stats = run(p, answers);
    // The same likelihood as the chain rule over one-step-ahead predictions, summed term by term.
    const predicted = new Float64Array(n);
    predictSequence(p.l0, p.t, p.f, p.s, p.g, Uint8Array.from(answers), 0, n, predicted);
    let chainRule = 0;
    for (let i = 0; i < n; i++) chainRule += Math.log(answers[i] ? predicted[i] : 1 - predicted[i]);
    const ll = statisticsLogLikelihood(stats);
    expect(Number.isFinite(ll)).toBe(true);
    expect(ll).toBeCloseTo(chainRule, 7);
    // Expected attempts split between the states adds up to the sequence length.
    expect(stats[Stat.knownAttempts] + stats[Stat.unknownAttempts]).toBeCloseTo(n, 6);
  });
});

describe('predictSequence', () => {
  it('predicts L0(1-S) + (1-L0)G first, then the seed update', () => {
    const out = new Float64Array(2);
    const mastery = new Float64Array(2);
    predictSequence(0.1, 0.1, 0, 0.1, 0.25, Uint8Array.from([1, 0]), 0, 2, out, mastery);
    expect(out[0]).toBeCloseTo(0.315, 14);
    expect(mastery[1]).toBeCloseTo(0.357143, 6);
    expect(out[1]).toBeCloseTo(0.357143 * 0.9 + (1 - 0.357143) * 0.25, 6);
  });
});
