/**
 * E-step kernels of the BKT hidden Markov model (two states: unknown, known).
 *
 * The model (Corbett & Anderson 1994): P(known at 1) = L0; after each attempt unknown -> known with
 * probability T (learn) and known -> unknown with F (forget, 0 in standard BKT); a known learner
 * answers correctly with 1 - S, an unknown one with G.
 *
 * Numerical choices (see docs/algorithms.md and PERFORMANCE.md):
 * - Both state probabilities are carried and renormalised at every step, never 1 - p(known) from a
 *   rounded p(known): that loses the unknown state once p(known) rounds to 1.
 * - The forward pass is normalised (Rabiner 1989); the backward pass is in posterior form
 *   (smoothed(t) from smoothed(t + 1) and filtered(t)), which cannot overflow like the scaled beta.
 * - The log-likelihood is the log of the product of the normalisers; the product is carried
 *   across steps and sequences and only folded into a compensated (Neumaier) sum when it falls
 *   below 1e-280, so a concept costs a few hundred Math.log calls instead of one per attempt.
 *
 * Every kernel takes typed arrays plus a (start, end) row range, writes into caller-provided
 * buffers, and allocates nothing.
 */

/** Indices into the sufficient-statistics accumulator (a Float64Array of length STATISTICS_LENGTH). */
export const Stat = {
  /** Neumaier sum of log-likelihood chunks (main part). */
  logLikelihood: 0,
  /** Neumaier compensation of the log-likelihood sum. */
  logLikelihoodCompensation: 1,
  /** Running product of normalisers not yet folded into the log-likelihood. */
  pendingScale: 2,
  /** Sum over sequences of P(known at the first attempt | answers). */
  firstKnown: 3,
  /** Number of sequences. */
  sequences: 4,
  /** Expected unknown -> known transitions. */
  learnTransitions: 5,
  /** Expected time in unknown before a transition (t < last). */
  unknownBeforeTransition: 6,
  /** Expected known -> unknown transitions. */
  forgetTransitions: 7,
  /** Expected time in known before a transition (t < last). */
  knownBeforeTransition: 8,
  /** Expected correct answers while unknown. */
  guessedCorrect: 9,
  /** Expected attempts while unknown. */
  unknownAttempts: 10,
  /** Expected wrong answers while known. */
  slippedWrong: 11,
  /** Expected attempts while known. */
  knownAttempts: 12,
} as const;
/** Length of a sufficient-statistics accumulator (see Stat). */
export const STATISTICS_LENGTH = 13;

const SCALE_FLOOR = 1e-280;

/** Reset an accumulator before an E-step. */
export function resetStatistics(stats: Float64Array): void {
  stats.fill(0);
  stats[Stat.pendingScale] = 1;
}

/** Fold a value into the compensated log-likelihood sum (Neumaier's variant of Kahan summation). */
function addLogLikelihood(stats: Float64Array, value: number): void {
  const sum = stats[Stat.logLikelihood];
  const next = sum + value;
  stats[Stat.logLikelihoodCompensation] +=
    Math.abs(sum) >= Math.abs(value) ? sum - next + value : value - next + sum;
  stats[Stat.logLikelihood] = next;
}

/** The total log-likelihood (natural log) accumulated so far, pending scale included. */
export function statisticsLogLikelihood(stats: Float64Array): number {
  return stats[Stat.logLikelihood] + stats[Stat.logLikelihoodCompensation] + Math.log(stats[Stat.pendingScale]);
}

/**
 * Add `weight` times the statistics of `from` to `into`: how a sequence standing for `weight`
 * identical ones is counted (computed once into `from`, then merged), which keeps the hot
 * kernel free of weights.
 */
export function mergeStatistics(into: Float64Array, from: Float64Array, weight = 1): void {
  addLogLikelihood(into, weight * statisticsLogLikelihood(from));
  for (let k = Stat.firstKnown; k < STATISTICS_LENGTH; k++) into[k] += weight * from[k];
}

/**
 * Forward-backward over the rows [start, end) of one sequence, adding its expected sufficient
 * statistics and its log-likelihood to `stats`.
 *
 * Recurrence (forward, normalised): with predicted (u, k) before row i and emissions
 * eK = P(answer | known), eU = P(answer | unknown): z = k·eK + u·eU (the normaliser, P(answer |
 * past)); filtered k' = k·eK / z, u' = u·eU / z; predicted next k = k'(1 - F) + u'T,
 * u = u'(1 - T) + k'F.
 * Backward (posterior form): with smoothed (su, sk) at i + 1 and predicted (pu, pk) at i + 1,
 * xi(a -> b) = filtered(a)·A(a, b)·smoothed(b) / predicted(b), smoothed(a) at i = sum_b xi(a -> b).
 *
 * `filteredKnown` and `filteredUnknown` are scratch buffers of at least end - start entries.
 * An empty range adds nothing (log-likelihood 0).
 */
export function accumulateSequence(
  pL0: number,
  pT: number,
  pF: number,
  pS: number,
  pG: number,
  correct: Uint8Array,
  start: number,
  end: number,
  filteredKnown: Float64Array,
  filteredUnknown: Float64Array,
  stats: Float64Array,
): void {
  const n = end - start;
  if (n <= 0) return;
  const stay = 1 - pT;
  const keep = 1 - pF;
  const knownWrong = pS;
  const knownSpan = 1 - pS - pS; // eK(correct) - eK(wrong)
  const unknownWrong = 1 - pG;
  const unknownSpan = pG - (1 - pG);

  let scale = stats[Stat.pendingScale];
  let predKnown = pL0;
  let predUnknown = 1 - pL0;
  for (let i = 0; i < n; i++) {
    const c = correct[start + i];
    const a = predKnown * (knownWrong + c * knownSpan);
    const b = predUnknown * (unknownWrong + c * unknownSpan);
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
    predKnown = fk * keep + fu * pT;
    predUnknown = fu * stay + fk * pF;
  }
  stats[Stat.pendingScale] = scale;

  let learnTransitions = 0;
  let unknownBefore = 0;
  let forgetTransitions = 0;
  let knownBefore = 0;
  let guessedCorrect = 0;
  let unknownAttempts = 0;
  let slippedWrong = 0;
  let knownAttempts = 0;

  let smoothKnown = filteredKnown[n - 1];
  let smoothUnknown = filteredUnknown[n - 1];
  {
    const c = correct[start + n - 1];
    unknownAttempts += smoothUnknown;
    knownAttempts += smoothKnown;
    guessedCorrect += c * smoothUnknown;
    slippedWrong += (1 - c) * smoothKnown;
  }
  for (let i = n - 2; i >= 0; i--) {
    const fk = filteredKnown[i];
    const fu = filteredUnknown[i];
    const pk = fk * keep + fu * pT;
    const pu = fu * stay + fk * pF;
    const rk = pk > 0 ? smoothKnown / pk : 0;
    const ru = pu > 0 ? smoothUnknown / pu : 0;
    const xiUK = fu * pT * rk;
    const xiKU = fk * pF * ru;
    // su + sk = 1 in exact arithmetic; the drift is O(n eps), so no renormalising division here.
    const su = xiUK + fu * stay * ru;
    const sk = fk * keep * rk + xiKU;
    learnTransitions += xiUK;
    forgetTransitions += xiKU;
    unknownBefore += su;
    knownBefore += sk;
    const c = correct[start + i];
    unknownAttempts += su;
    knownAttempts += sk;
    guessedCorrect += c * su;
    slippedWrong += (1 - c) * sk;
    smoothKnown = sk;
    smoothUnknown = su;
  }

  stats[Stat.firstKnown] += smoothKnown;
  stats[Stat.sequences] += 1;
  stats[Stat.learnTransitions] += learnTransitions;
  stats[Stat.unknownBeforeTransition] += unknownBefore;
  stats[Stat.forgetTransitions] += forgetTransitions;
  stats[Stat.knownBeforeTransition] += knownBefore;
  stats[Stat.guessedCorrect] += guessedCorrect;
  stats[Stat.unknownAttempts] += unknownAttempts;
  stats[Stat.slippedWrong] += slippedWrong;
  stats[Stat.knownAttempts] += knownAttempts;
}

/**
 * One-step-ahead predictions: out[i] = P(correct at row i | rows start..i-1 of its sequence),
 * i.e. L(1 - S) + (1 - L)G with L the predicted mastery before the answer is seen (pyBKT's
 * `predict`). Also writes the predicted mastery before each row into `outMastery` when given.
 * Row i is written at index i - outOffset (0 writes at the row's own index).
 */
export function predictSequence(
  pL0: number,
  pT: number,
  pF: number,
  pS: number,
  pG: number,
  correct: Uint8Array,
  start: number,
  end: number,
  outCorrect: Float64Array,
  outMastery?: Float64Array,
  outOffset = 0,
): void {
  let predKnown = pL0;
  let predUnknown = 1 - pL0;
  for (let i = start; i < end; i++) {
    outCorrect[i - outOffset] = predKnown * (1 - pS) + predUnknown * pG;
    if (outMastery) outMastery[i - outOffset] = predKnown;
    const c = correct[i];
    const a = predKnown * (pS + c * (1 - 2 * pS));
    const b = predUnknown * (1 - pG + c * (2 * pG - 1));
    const z = a + b;
    const fk = a / z;
    const fu = b / z;
    predKnown = fk * (1 - pF) + fu * pT;
    predUnknown = fu * (1 - pT) + fk * pF;
  }
}
