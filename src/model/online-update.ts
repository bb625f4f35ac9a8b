import type { BktParams } from './params.js';

/** Floor and ceiling of every probability the online update reads or writes (schema.md). */
export const PROBABILITY_EPSILON = 1e-10;

/** clamp(p) = min(1 - 1e-10, max(1e-10, p)); NaN is not a probability and stays NaN. */
export function clampProbability(p: number): number {
  return Math.min(1 - PROBABILITY_EPSILON, Math.max(PROBABILITY_EPSILON, p));
}

/** P(correct) = L(1 - S) + (1 - L)G, clamped: the prediction before the answer is seen. */
export function predictCorrect(pMastery: number, params: BktParams): number {
  const l = clampProbability(pMastery);
  const s = clampProbability(params.p_S);
  const g = clampProbability(params.p_G);
  return clampProbability(l * (1 - s) + (1 - l) * g);
}

/**
 * Posterior P(known | answer), clamped.
 *
 * Computed by normalising the two unnormalised state weights (known: L·P(answer|known),
 * unknown: (1-L)·P(answer|unknown)) rather than the textbook L·S / (1 - P(correct)): that form
 * cancels catastrophically when P(correct) is near 1 and G near 0 (PERFORMANCE.md). Both are the
 * same number in exact arithmetic. The evidence (the denominator) cannot vanish: with every
 * input clamped to [1e-10, 1 - 1e-10] it is a convex combination of two probabilities that are
 * both at least 1e-10, so schema.md's "below 1e-10 the prior stands" never applies.
 */
export function posteriorMastery(pMastery: number, correct: boolean, params: BktParams): number {
  const l = clampProbability(pMastery);
  const s = clampProbability(params.p_S);
  const g = clampProbability(params.p_G);
  const known = correct ? l * (1 - s) : l * s;
  const unknown = correct ? (1 - l) * g : (1 - l) * (1 - g);
  return clampProbability(known / (known + unknown));
}

/**
 * One BKT step (Corbett & Anderson 1994): the posterior after the answer, then the transition
 * L' = posterior(1 - F) + (1 - posterior)T, clamped. F is 0 in standard BKT.
 * Example: L 0.1, T 0.1, S 0.1, G 0.25 -> correct 0.357143, wrong 0.113139.
 */
export function updateMastery(pMastery: number, correct: boolean, params: BktParams): number {
  const posterior = posteriorMastery(pMastery, correct, params);
  const t = clampProbability(params.p_T);
  const f = params.p_F > 0 ? clampProbability(params.p_F) : 0;
  return clampProbability(posterior * (1 - f) + (1 - posterior) * t);
}

/** The full trace of one update, as the seed's bkt_metadata reports it. */
export interface UpdateTrace {
  p_L_prior: number;
  p_correct_predicted: number;
  p_L_posterior: number;
  p_L_next: number;
  observation: 'correct' | 'wrong';
}

/** One online update with every intermediate value: the prior, the predicted P(correct), the posterior and the next mastery. */
export function traceUpdate(pMastery: number, correct: boolean, params: BktParams): UpdateTrace {
  return {
    p_L_prior: clampProbability(pMastery),
    p_correct_predicted: predictCorrect(pMastery, params),
    p_L_posterior: posteriorMastery(pMastery, correct, params),
    p_L_next: updateMastery(pMastery, correct, params),
    observation: correct ? 'correct' : 'wrong',
  };
}
