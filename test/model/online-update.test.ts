import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clampProbability, posteriorMastery, predictCorrect, traceUpdate, updateMastery } from '../../src/model/online-update.js';
import type { BktParams } from '../../src/model/params.js';

const seedParams = (p: Partial<BktParams>): BktParams => ({ p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0, ...p });
const probability = fc.double({ min: 0.001, max: 0.999, noNaN: true });
const paramsArb = fc.record({ p_L0: probability, p_T: probability, p_S: probability, p_G: probability, p_F: fc.constant(0) });

describe('updateMastery', () => {
  it('matches the hand-worked seed example (L0 0.1, T 0.1, S 0.1, G 0.25)', () => {
    const params = seedParams({});
    // P(C) = 0.1*0.9 + 0.9*0.25 = 0.315; correct: post = 0.09/0.315 = 0.285714; next = post + (1-post)*0.1
    expect(predictCorrect(0.1, params)).toBeCloseTo(0.315, 12);
    expect(posteriorMastery(0.1, true, params)).toBeCloseTo(0.285714, 6);
    expect(updateMastery(0.1, true, params)).toBeCloseTo(0.357143, 6);
    // wrong: post = 0.1*0.1/(1-0.315) = 0.014599; next = 0.014599 + 0.985401*0.1 = 0.113139
    expect(posteriorMastery(0.1, false, params)).toBeCloseTo(0.014599, 6);
    expect(updateMastery(0.1, false, params)).toBeCloseTo(0.113139, 6);
  });

  it('matches the second seed example (T 0.2, G 0.2)', () => {
    const params = seedParams({ p_T: 0.2, p_G: 0.2 });
    expect(updateMastery(0.1, true, params)).toBeCloseTo(0.466667, 6);
    expect(updateMastery(0.1, false, params)).toBeCloseTo(0.210959, 6);
  });

  it('applies forgetting after the posterior: L = post(1 - F) + (1 - post)T', () => {
    const params = seedParams({ p_F: 0.2 });
    const post = 0.09 / 0.315;
    expect(updateMastery(0.1, true, params)).toBeCloseTo(post * 0.8 + (1 - post) * 0.1, 12);
  });

  it('clamps to [1e-10, 1 - 1e-10]; L at the ceiling and S at the floor keep mastery at the ceiling after a wrong answer', () => {
    expect(clampProbability(-1)).toBe(1e-10);
    expect(clampProbability(2)).toBe(1 - 1e-10);
    // Known: L*S = 1e-10; unknown: (1 - L)(1 - G) = 1e-20; posterior 1 - 1e-10 (clamped).
    const params = seedParams({ p_S: 0, p_G: 1 });
    expect(posteriorMastery(1, false, params)).toBe(clampProbability(1));
  });

  it('gives Bayes\' rule to 1e-12 at every corner of the clamped box, where the textbook denominator vanishes', () => {
    // Each corner combination of L, S, G at 0, 1/2 or 1 (clamped to 1e-10 or 1 - 1e-10), both
    // answers, against the posterior computed in exact rational arithmetic from the same clamped
    // doubles. The evidence stays at least ~1e-10 (a convex combination of two clamped
    // probabilities), so no floor is needed and none is applied.
    const corners = [0, 0.5, 1];
    for (const l of corners) {
      for (const s of corners) {
        for (const g of corners) {
          for (const correct of [true, false]) {
            // Arrange
            const [L, S, G] = [l, s, g].map(clampProbability).map(exactFraction);
            const one: Fraction = [1n, 1n];
            const known = mul(L, correct ? sub(one, S) : S);
            const unknown = mul(sub(one, L), correct ? G : sub(one, G));
            const exact = toNumber(div(known, add(known, unknown)));
            // Act
            const ours = posteriorMastery(l, correct, seedParams({ p_S: s, p_G: g }));
            // Assert
            expect(Number.isFinite(ours)).toBe(true);
            expect(Math.abs(ours - clampProbability(exact))).toBeLessThanOrEqual(1e-12 * Math.max(exact, 1e-10));
          }
        }
      }
    }
  });

  it('stays accurate where the textbook wrong-answer formula cancels (P(correct) near 1, G near 0)', () => {
    const params = seedParams({ p_S: 1e-6, p_G: 1e-9 });
    const l = 1 - 1e-9;
    // exact: L*S / (L*S + (1-L)(1-G))
    const exact = (l * 1e-6) / (l * 1e-6 + (1 - l) * (1 - 1e-9));
    expect(posteriorMastery(l, false, params)).toBeCloseTo(exact, 9);
  });

  it('keeps mastery in [0, 1] for any parameters and history', () => {
    fc.assert(
      fc.property(paramsArb, fc.array(fc.boolean(), { maxLength: 200 }), (params, answers) => {
        // Arrange
        let mastery = params.p_L0;
        // Act
        for (const a of answers) mastery = updateMastery(mastery, a, params);
        // Assert
        return mastery >= 0 && mastery <= 1 && !Number.isNaN(mastery);
      }),
    );
  });

  it('gives at least as much mastery after a correct answer as after a wrong one when 1 - S > G', () => {
    fc.assert(
      fc.property(paramsArb, probability, (params, mastery) => {
        fc.pre(1 - params.p_S > params.p_G);
        return updateMastery(mastery, true, params) >= updateMastery(mastery, false, params);
      }),
    );
  });

  it('reports the whole trace as the seed metadata', () => {
    const trace = traceUpdate(0.1, true, seedParams({}));
    expect(trace.observation).toBe('correct');
    expect(trace.p_correct_predicted).toBeCloseTo(0.315, 12);
    expect(trace.p_L_next).toBeCloseTo(0.357143, 6);
  });

  it('propagates NaN mastery as NaN rather than a number', () => {
    expect(Number.isNaN(updateMastery(Number.NaN, true, seedParams({})))).toBe(true);
  });
});

/** A double as an exact fraction [numerator, denominator] of bigints. */
type Fraction = [bigint, bigint];

function exactFraction(x: number): Fraction {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const mantissa = (bits & ((1n << 52n) - 1n)) | (exponent === 0 ? 0n : 1n << 52n);
  const power = (exponent === 0 ? 1 : exponent) - 1075;
  return power >= 0 ? [mantissa << BigInt(power), 1n] : [mantissa, 1n << BigInt(-power)];
}
const add = ([a, b]: Fraction, [c, d]: Fraction): Fraction => [a * d + c * b, b * d];
const sub = ([a, b]: Fraction, [c, d]: Fraction): Fraction => [a * d - c * b, b * d];
const mul = ([a, b]: Fraction, [c, d]: Fraction): Fraction => [a * c, b * d];
const div = ([a, b]: Fraction, [c, d]: Fraction): Fraction => [a * d, b * c];
/** The double nearest a fraction in [0, 1] (200 bits of quotient, far more than a double holds). */
const toNumber = ([a, b]: Fraction): number => Number((a << 200n) / b) / 2 ** 200;
