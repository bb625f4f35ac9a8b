/**
 * E-step and prediction kernels of the BKT model variants (pyBKT's multigs, multilearn,
 * multiprior and multipair), with every class using its own parameters (Badrinath, Wang & Pardos
 * 2021 describe the model; pyBKT 1.4.2's compiled E-step applies class 0's values to every class,
 * which these kernels deliberately do not copy; see docs/algorithms.md).
 *
 * The hidden Markov model is the standard one (Corbett & Anderson 1994) with three indexings:
 * - the first attempt is known with probability `prior[p]`, p the sequence's prior class;
 * - row i emits with `guess[g_i]`, `slip[g_i]`, g_i the row's guess/slip class;
 * - the transition after row i uses `learn[r_i]`, `forget[r_i]`, r_i the row's learn class (so the
 *   last row's learn class is never used).
 * A variant that is off has one class (every index 0).
 *
 * Numerics are those of the standard kernel (src/model/em-kernels.ts): normalised forward pass
 * (Rabiner 1989), backward pass in posterior form, log-likelihood as a carried product of
 * normalisers folded into a Neumaier sum below 1e-280.
 *
 * Statistics layout (one Float64Array, see `variantStatisticsLength`):
 *   [0] log-likelihood sum, [1] its compensation, [2] pending product of normalisers,
 *   then per prior class p at 3 + 2p: expected known at the first attempt, sequences;
 *   then per learn class r at learnBase + 4r: expected unknown->known transitions, expected time
 *   unknown before a transition, expected known->unknown transitions, expected time known before
 *   a transition;
 *   then per guess/slip class g at gsBase + 4g: expected correct answers while unknown, expected
 *   attempts while unknown, expected wrong answers while known, expected attempts while known.
 */

export const VStat = {
  logLikelihood: 0,
  logLikelihoodCompensation: 1,
  pendingScale: 2,
  /** First index of the prior-class block. */
  priorBase: 3,
} as const;

/** Offsets of the per-class blocks for P prior, R learn and S guess/slip classes. */
export interface VariantStatisticsLayout {
  priorClasses: number;
  learnClasses: number;
  gsClasses: number;
  learnBase: number;
  gsBase: number;
  length: number;
}

/** The statistics layout for P prior, R learn and S guess/slip classes. */
export function variantStatisticsLayout(priorClasses: number, learnClasses: number, gsClasses: number): VariantStatisticsLayout {
  const learnBase = VStat.priorBase + 2 * priorClasses;
  const gsBase = learnBase + 4 * learnClasses;
  return { priorClasses, learnClasses, gsClasses, learnBase, gsBase, length: gsBase + 4 * gsClasses };
}

const SCALE_FLOOR = 1e-280;

/** Reset an accumulator before an E-step. */
export function resetVariantStatistics(stats: Float64Array): void {
  stats.fill(0);
  stats[VStat.pendingScale] = 1;
}

function addLogLikelihood(stats: Float64Array, value: number): void {
  const sum = stats[VStat.logLikelihood];
  const next = sum + value;
  stats[VStat.logLikelihoodCompensation] += Math.abs(sum) >= Math.abs(value) ? sum - next + value : value - next + sum;
  stats[VStat.logLikelihood] = next;
}

/** The total log-likelihood (natural log) accumulated so far. */
export function variantStatisticsLogLikelihood(stats: Float64Array): number {
  return stats[VStat.logLikelihood] + stats[VStat.logLikelihoodCompensation] + Math.log(stats[VStat.pendingScale]);
}

/**
 * Forward-backward over the rows [start, end) of one sequence whose prior class is `priorClass`,
 * adding its expected sufficient statistics per class and its log-likelihood to `stats`.
 *
 * Forward (normalised): predicted (u, k) before row i; with g = gsClass[i], eK = P(answer | known)
 * = 1 - slip[g] or slip[g], eU = guess[g] or 1 - guess[g]: z = k eK + u eU, filtered k' = k eK / z,
 * u' = u eU / z; with r = learnClass[i]: next k = k'(1 - forget[r]) + u' learn[r].
 * Backward (posterior form): xi(a -> b) at i = filtered(a) A_r(a, b) smoothed(b) / predicted(b),
 * smoothed(a) at i = sum_b xi(a -> b), counted in learn class r = learnClass[i].
 *
 * `filteredKnown`/`filteredUnknown` are scratch buffers of at least end - start entries. An empty
 * range adds nothing (log-likelihood 0). Allocates nothing.
 */
export function accumulateVariantSequence(
  prior: number,
  learn: Float64Array,
  forget: Float64Array,
  guess: Float64Array,
  slip: Float64Array,
  learnClass: Uint32Array,
  gsClass: Uint32Array,
  correct: Uint8Array,
  start: number,
  end: number,
  priorClass: number,
  layout: VariantStatisticsLayout,
  filteredKnown: Float64Array,
  filteredUnknown: Float64Array,
  stats: Float64Array,
): void {
  const n = end - start;
  if (n <= 0) return;
  let scale = stats[VStat.pendingScale];
  let predKnown = prior;
  let predUnknown = 1 - prior;
  for (let i = 0; i < n; i++) {
    const row = start + i;
    const c = correct[row];
    const g = gsClass[row];
    const pS = slip[g];
    const pG = guess[g];
    const a = predKnown * (c === 1 ? 1 - pS : pS);
    const b = predUnknown * (c === 1 ? pG : 1 - pG);
    const z = a + b;
    const inverse = 1 / z;
    const fk = a * inverse;
    const fu = b * inverse;
    filteredKnown[i] = fk;
    filteredUnknown[i] = fu;
    scale *= z;
    if (scale < SCALE_FLOOR) {
      addLogLikelihood(stats, Math.log(scale));
      scale = 1;
    }
    const r = learnClass[row];
    const pT = learn[r];
    const pF = forget[r];
    predKnown = fk * (1 - pF) + fu * pT;
    predUnknown = fu * (1 - pT) + fk * pF;
  }
  stats[VStat.pendingScale] = scale;

  const { learnBase, gsBase } = layout;
  let smoothKnown = filteredKnown[n - 1];
  let smoothUnknown = filteredUnknown[n - 1];
  {
    const row = start + n - 1;
    const c = correct[row];
    const at = gsBase + 4 * gsClass[row];
    stats[at] += c * smoothUnknown;
    stats[at + 1] += smoothUnknown;
    stats[at + 2] += (1 - c) * smoothKnown;
    stats[at + 3] += smoothKnown;
  }
  for (let i = n - 2; i >= 0; i--) {
    const row = start + i;
    const r = learnClass[row];
    const pT = learn[r];
    const pF = forget[r];
    const fk = filteredKnown[i];
    const fu = filteredUnknown[i];
    const pk = fk * (1 - pF) + fu * pT;
    const pu = fu * (1 - pT) + fk * pF;
    const rk = pk > 0 ? smoothKnown / pk : 0;
    const ru = pu > 0 ? smoothUnknown / pu : 0;
    const xiUK = fu * pT * rk;
    const xiKU = fk * pF * ru;
    const su = xiUK + fu * (1 - pT) * ru;
    const sk = fk * (1 - pF) * rk + xiKU;
    const lt = learnBase + 4 * r;
    stats[lt] += xiUK;
    stats[lt + 1] += su;
    stats[lt + 2] += xiKU;
    stats[lt + 3] += sk;
    const c = correct[row];
    const at = gsBase + 4 * gsClass[row];
    stats[at] += c * su;
    stats[at + 1] += su;
    stats[at + 2] += (1 - c) * sk;
    stats[at + 3] += sk;
    smoothKnown = sk;
    smoothUnknown = su;
  }
  const pb = VStat.priorBase + 2 * priorClass;
  stats[pb] += smoothKnown;
  stats[pb + 1] += 1;
}

/**
 * One-step-ahead predictions of one sequence under per-row parameters: for row i,
 * outCorrect[i - outOffset] = P(correct at i | earlier answers) = K(1 - slip[g_i]) + (1 - K)guess[g_i],
 * outMastery[i - outOffset] = K, the predicted P(known) before the answer, and
 * outPosterior[i - outOffset] = P(known) after the answer (before the transition). The
 * filter uses each row's own classes, so these are exact for the variant model.
 * Optional outputs may be omitted.
 */
export function predictVariantSequence(
  prior: number,
  learn: Float64Array,
  forget: Float64Array,
  guess: Float64Array,
  slip: Float64Array,
  learnClass: Uint32Array,
  gsClass: Uint32Array,
  correct: Uint8Array,
  start: number,
  end: number,
  outCorrect: Float64Array,
  outMastery?: Float64Array,
  outPosterior?: Float64Array,
  outOffset = 0,
): void {
  let predKnown = prior;
  let predUnknown = 1 - prior;
  for (let row = start; row < end; row++) {
    const g = gsClass[row];
    const pS = slip[g];
    const pG = guess[g];
    outCorrect[row - outOffset] = predKnown * (1 - pS) + predUnknown * pG;
    if (outMastery) outMastery[row - outOffset] = predKnown;
    const c = correct[row];
    const a = predKnown * (c === 1 ? 1 - pS : pS);
    const b = predUnknown * (c === 1 ? pG : 1 - pG);
    const z = a + b;
    const fk = a / z;
    const fu = b / z;
    if (outPosterior) outPosterior[row - outOffset] = fk;
    const r = learnClass[row];
    const pT = learn[r];
    const pF = forget[r];
    predKnown = fk * (1 - pF) + fu * pT;
    predUnknown = fu * (1 - pT) + fk * pF;
  }
}
