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

  it('clamps to [1e-10, 1 - 1e-10] and keeps the prior when the evidence is below 1e-10', () => {
    expect(clampProbability(-1)).toBe(1e-10);
    expect(clampProbability(2)).toBe(1 - 1e-10);
    // L at the ceiling, S at the floor: a wrong answer has evidence ~ 1e-10 * 1e-10 + ...: prior stands
    const params = seedParams({ p_S: 0, p_G: 1 });
    expect(posteriorMastery(1, false, params)).toBe(clampProbability(1));
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
