import {
  STATISTICS_LENGTH,
  Stat,
  accumulateSequence,
  mergeStatistics,
  resetStatistics,
  statisticsLogLikelihood,
} from './em-kernels.js';
import { BOUND_KEYS, type BktParams, type ParamBounds, projectOntoBounds } from './params.js';

/** What one EM run needs besides the data. */
export interface EmSettings {
  maxIterations: number;
  /** Stop when one EM step gains at most tolerance x attempts nats. */
  tolerance: number;
  bounds: ParamBounds;
  forgets: boolean;
  fixed: Partial<BktParams>;
  /** `squarem` (default) extrapolates EM steps (Varadhan & Roland 2008); `none` is plain EM. */
  acceleration?: 'squarem' | 'none';
  /**
   * MAP-EM: a Beta prior per parameter, as pseudo-counts (see BetaPrior). EM then climbs the log
   * posterior, log-likelihood + log prior. Absent or null: maximum likelihood.
   */
  prior?: BetaPrior | null;
  /**
   * Plausibility: every M-step keeps G <= (1 - S) - margin, so answers always tell a known learner
   * from an unknown one by at least `margin`. Absent or null: no such constraint (only the box).
   */
  plausibilityMargin?: number | null;
  /**
   * No instant mastery: every M-step keeps the mastery after one correct answer from L0 at most
   * this cap (see maximizeUnderMasteryCap). Absent or null: no such constraint. Ignored when
   * forgetting is fitted.
   */
  masteryCap?: number | null;
}

/**
 * A Beta prior per parameter given by its mean and its strength in pseudo-observations: the
 * M-step adds `mean x strength` imagined "yes" events (learned, slipped, guessed, known at the
 * start) and `(1 - mean) x strength` "no" events to the expected counts, which is the posterior
 * mode under Beta(1 + mean x strength, 1 + (1 - mean) x strength). A parameter without an entry
 * has a flat prior.
 */
export type BetaPrior = Partial<Record<'p_L0' | 'p_T' | 'p_S' | 'p_G' | 'p_F', { mean: number; strength: number }>>;

/** The outcome of one EM run from one start. */
export interface EmResult {
  params: BktParams;
  logLikelihood: number;
  /** The objective EM climbed: logLikelihood plus the log prior density (equal to it without a prior). */
  logPosterior: number;
  /** E-steps computed (each evaluates the log-likelihood of the parameters it starts from). */
  iterations: number;
  converged: boolean;
}

/** The sequences [firstSequence, lastSequence) of one concept, over shared columns. */
export interface SequenceSlice {
  correct: Uint8Array;
  sequenceStart: Uint32Array;
  firstSequence: number;
  lastSequence: number;
  /**
   * Identical sequences computed once (see `distinctSequences`): the representatives' sequence
   * indices and how many sequences each stands for. Absent: every sequence once.
   */
  distinct?: DistinctSequences;
}

/** Distinct answer sequences of a slice and how many sequences each stands for (see `distinctSequences`). */
export interface DistinctSequences {
  sequences: Uint32Array;
  weights: Uint32Array;
}

/**
 * Group the identical answer sequences of [firstSequence, lastSequence): each distinct one is
 * kept once (its first occurrence) with a count. The E-step then costs distinct attempts, not all
 * attempts, with identical results up to summation order (14% fewer on the builder data, far
 * fewer where sequences are short). Content is hashed (FNV-1a over the answers and the length)
 * and compared in full on a hash match, so collisions cannot merge different sequences.
 */
export function distinctSequences(correct: Uint8Array, sequenceStart: Uint32Array, firstSequence: number, lastSequence: number): DistinctSequences {
  const byHash = new Map<number, number[]>();
  const representative: number[] = [];
  const count: number[] = [];
  for (let q = firstSequence; q < lastSequence; q++) {
    const start = sequenceStart[q];
    const end = sequenceStart[q + 1];
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ correct[i], 0x01000193);
    const bucket = byHash.get(h);
    let found = -1;
    if (bucket) {
      for (const k of bucket) {
        const r = representative[k];
        const rs = sequenceStart[r];
        if (sequenceStart[r + 1] - rs !== end - start) continue;
        let same = true;
        for (let i = 0; i < end - start && same; i++) same = correct[rs + i] === correct[start + i];
        if (same) {
          found = k;
          break;
        }
      }
    }
    if (found >= 0) {
      count[found]++;
    } else {
      const k = representative.length;
      representative.push(q);
      count.push(1);
      if (bucket) bucket.push(k);
      else byHash.set(h, [k]);
    }
  }
  return { sequences: Uint32Array.from(representative), weights: Uint32Array.from(count) };
}

/** Scratch buffers reused across E-steps; grown on demand. */
export class EmWorkspace {
  filteredKnown = new Float64Array(1024);
  filteredUnknown = new Float64Array(1024);
  readonly stats = new Float64Array(STATISTICS_LENGTH);
  /** One weighted sequence's statistics before they are merged. */
  readonly sequenceStats = new Float64Array(STATISTICS_LENGTH);

  ensure(length: number): void {
    if (this.filteredKnown.length < length) {
      const size = Math.max(length, this.filteredKnown.length * 2);
      this.filteredKnown = new Float64Array(size);
      this.filteredUnknown = new Float64Array(size);
    }
  }
}

/** Longest sequence and row count of a slice. */
export function sliceShape(slice: SequenceSlice): { longest: number; attempts: number } {
  let longest = 0;
  for (let q = slice.firstSequence; q < slice.lastSequence; q++) {
    const len = slice.sequenceStart[q + 1] - slice.sequenceStart[q];
    if (len > longest) longest = len;
  }
  const attempts = slice.sequenceStart[slice.lastSequence] - slice.sequenceStart[slice.firstSequence];
  return { longest, attempts };
}

/** One E-step over the slice at `params`: fills `workspace.stats`, returns the log-likelihood. */
export function expectationStep(params: BktParams, slice: SequenceSlice, workspace: EmWorkspace): number {
  const stats = workspace.stats;
  resetStatistics(stats);
  const { correct, sequenceStart } = slice;
  const known = workspace.filteredKnown;
  const unknown = workspace.filteredUnknown;
  const { p_L0, p_T, p_F, p_S, p_G } = params;
  if (slice.distinct) {
    const { sequences, weights } = slice.distinct;
    const single = workspace.sequenceStats;
    for (let k = 0; k < sequences.length; k++) {
      const q = sequences[k];
      if (weights[k] === 1) {
        accumulateSequence(p_L0, p_T, p_F, p_S, p_G, correct, sequenceStart[q], sequenceStart[q + 1], known, unknown, stats);
      } else {
        resetStatistics(single);
        accumulateSequence(p_L0, p_T, p_F, p_S, p_G, correct, sequenceStart[q], sequenceStart[q + 1], known, unknown, single);
        mergeStatistics(stats, single, weights[k]);
      }
    }
  } else {
    for (let q = slice.firstSequence; q < slice.lastSequence; q++) {
      accumulateSequence(p_L0, p_T, p_F, p_S, p_G, correct, sequenceStart[q], sequenceStart[q + 1], known, unknown, stats);
    }
  }
  return statisticsLogLikelihood(stats);
}

/**
 * The M-step: each parameter's expected complete-data log-likelihood is A log p + B log(1 - p),
 * concave in p, so its maximiser on a box is the clamped unconstrained maximiser A / (A + B).
 * Projecting therefore is the exact constrained M-step, and EM still never lowers the likelihood.
 * A Beta prior adds its pseudo-counts to A and B (the MAP M-step, still closed form). With a
 * plausibility margin, S and G are maximised jointly under S + G <= 1 - margin (see
 * maximizeSlipGuess). A parameter with no expected evidence (zero denominator) keeps its value;
 * fixed ones stay fixed, even outside the bounds.
 */
export function maximizationStep(previous: BktParams, stats: Float64Array, settings: EmSettings): BktParams {
  const prior = settings.prior ?? null;
  const counts = (name: keyof BetaPrior, yes: number, total: number): [number, number] => {
    const p = prior?.[name];
    return p ? [yes + p.mean * p.strength, total - yes + (1 - p.mean) * p.strength] : [yes, total - yes];
  };
  const ratio = ([a, b]: [number, number], fallback: number) => (a + b > 0 ? a / (a + b) : fallback);
  const slip = counts('p_S', stats[Stat.slippedWrong], stats[Stat.knownAttempts]);
  const guess = counts('p_G', stats[Stat.guessedCorrect], stats[Stat.unknownAttempts]);
  const next: BktParams = {
    p_L0: ratio(counts('p_L0', stats[Stat.firstKnown], stats[Stat.sequences]), previous.p_L0),
    p_T: ratio(counts('p_T', stats[Stat.learnTransitions], stats[Stat.unknownBeforeTransition]), previous.p_T),
    p_S: ratio(slip, previous.p_S),
    p_G: ratio(guess, previous.p_G),
    p_F: settings.forgets ? ratio(counts('p_F', stats[Stat.forgetTransitions], stats[Stat.knownBeforeTransition]), previous.p_F) : 0,
  };
  // Fixed values are the caller's explicit choice: held as given, outside the box if need be.
  let projected = { ...projectOntoBounds(next, settings.bounds), ...settings.fixed };
  const cap = settings.forgets ? null : settings.masteryCap;
  if (cap != null && masteryAfterOneCorrect(projected) > cap) {
    const l0 = counts('p_L0', stats[Stat.firstKnown], stats[Stat.sequences]);
    const t = counts('p_T', stats[Stat.learnTransitions], stats[Stat.unknownBeforeTransition]);
    projected = { ...projected, ...maximizeUnderMasteryCap({ p_L0: l0, p_T: t, p_S: slip, p_G: guess }, cap, settings.bounds, settings.fixed) };
  }
  const margin = settings.plausibilityMargin;
  if (margin == null || projected.p_S + projected.p_G <= 1 - margin) return projected;
  const { p_S, p_G } = maximizeSlipGuess(slip, guess, 1 - margin, settings.bounds, settings.fixed);
  return { ...projected, p_S, p_G };
}

/** Mastery after one correct answer from L0 (standard BKT, no forgetting): posterior, then learning. */
export function masteryAfterOneCorrect(params: Pick<BktParams, 'p_L0' | 'p_T' | 'p_S' | 'p_G'>): number {
  const known = params.p_L0 * (1 - params.p_S);
  const posterior = known / (known + (1 - params.p_L0) * params.p_G);
  return posterior + (1 - posterior) * params.p_T;
}

type Counts = [number, number];

/**
 * The exact M-step under "one correct answer from L0 never reaches `cap`" (no instant mastery).
 * Mastery after one correct answer is at most cap exactly when
 *   h = logit(L0) + log(1 - S) - log(G) - log(cap - T) + log(1 - cap) <= 0,
 * a sum of one-parameter terms. For a multiplier mu >= 0 the Lagrangian
 *   sum_p [a_p log p + b_p log(1 - p)] - mu h
 * splits into one concave problem per parameter, each with a closed form:
 *   L0 = (a - mu) / (a + b), S = a / (a + b - mu), G = (a + mu) / (a + b + mu),
 *   T the root in (0, cap) of a/T - b/(1 - T) - mu/(cap - T) = 0 (a quadratic),
 * clamped to the box. h falls as mu grows, so bisection on mu finds h = 0; by Everett's
 * Lagrangian sufficiency theorem the maximiser of the Lagrangian with h = 0 maximises the
 * expected log-likelihood over the whole constrained set. So EM stays monotone. Fixed
 * parameters keep their values.
 */
export function maximizeUnderMasteryCap(
  counts: Record<'p_L0' | 'p_T' | 'p_S' | 'p_G', Counts>,
  cap: number,
  bounds: ParamBounds,
  fixed: Partial<BktParams>,
): Pick<BktParams, 'p_L0' | 'p_T' | 'p_S' | 'p_G'> {
  const clamp = (name: 'p_L0' | 'p_T' | 'p_S' | 'p_G', v: number) => {
    const [lo, hi] = BOUND_KEYS[name];
    return Math.min(bounds[hi], Math.max(bounds[lo], v));
  };
  const at = (mu: number) => {
    const [aL, bL] = counts.p_L0;
    const [aS, bS] = counts.p_S;
    const [aG, bG] = counts.p_G;
    const [aT, bT] = counts.p_T;
    const p_L0 = fixed.p_L0 ?? clamp('p_L0', aL > mu ? (aL - mu) / (aL + bL) : 0);
    const p_S = fixed.p_S ?? clamp('p_S', bS > mu ? aS / (aS + bS - mu) : 1);
    const p_G = fixed.p_G ?? clamp('p_G', aG + bG + mu > 0 ? (aG + mu) / (aG + bG + mu) : 0);
    // a/T - b/(1 - T) - mu/(cap - T) = 0 is the quadratic (a + b + mu)T^2 - (a(1 + cap) + b cap + mu)T + a cap = 0;
    // its smaller root is the one in (0, min(1, cap)) (written in the cancellation-free form).
    const half = 0.5 * (aT * (1 + cap) + bT * cap + mu);
    const root = half * half - (aT + bT + mu) * aT * cap;
    const p_T = fixed.p_T ?? clamp('p_T', aT > 0 ? (aT * cap) / (half + Math.sqrt(Math.max(0, root))) : 0);
    return { p_L0, p_T, p_S, p_G };
  };
  const excess = (p: Pick<BktParams, 'p_L0' | 'p_T' | 'p_S' | 'p_G'>) => masteryAfterOneCorrect(p) - cap;
  let low = 0;
  let high = 1;
  let best = at(high);
  while (excess(best) > 0 && high < 1e15) {
    low = high;
    high *= 4;
    best = at(high);
  }
  if (excess(best) > 0) return best;
  for (let i = 0; i < 100 && high - low > 1e-12 * high; i++) {
    const mid = 0.5 * (low + high);
    const candidate = at(mid);
    if (excess(candidate) > 0) low = mid;
    else {
      high = mid;
      best = candidate;
    }
  }
  return best;
}

/**
 * The exact M-step for (S, G) under S + G <= limit and the box: maximise
 * aS log S + bS log(1 - S) + aG log G + bG log(1 - G). The objective is concave and separable,
 * so when the box maximiser breaks the constraint the optimum lies on the line S + G = limit,
 * where it is a concave function of S alone: its derivative is found zero by bisection.
 * A fixed S or G stays fixed (the other one is then limited by the line).
 */
export function maximizeSlipGuess(
  [aS, bS]: [number, number],
  [aG, bG]: [number, number],
  limit: number,
  bounds: ParamBounds,
  fixed: Partial<BktParams>,
): { p_S: number; p_G: number } {
  const [sLoKey, sHiKey] = BOUND_KEYS.p_S;
  const [gLoKey, gHiKey] = BOUND_KEYS.p_G;
  if (fixed.p_S !== undefined && fixed.p_G !== undefined) return { p_S: fixed.p_S, p_G: fixed.p_G };
  if (fixed.p_S !== undefined) {
    return { p_S: fixed.p_S, p_G: Math.max(bounds[gLoKey], Math.min(limit - fixed.p_S, aG + bG > 0 ? aG / (aG + bG) : bounds[gLoKey])) };
  }
  if (fixed.p_G !== undefined) {
    return { p_G: fixed.p_G, p_S: Math.max(bounds[sLoKey], Math.min(limit - fixed.p_G, aS + bS > 0 ? aS / (aS + bS) : bounds[sLoKey])) };
  }
  let lo = Math.max(bounds[sLoKey], limit - bounds[gHiKey]);
  let hi = Math.min(bounds[sHiKey], limit - bounds[gLoKey]);
  if (!(lo < hi)) {
    const s = Math.max(bounds[sLoKey], Math.min(bounds[sHiKey], lo));
    return { p_S: s, p_G: Math.max(bounds[gLoKey], Math.min(bounds[gHiKey], limit - s)) };
  }
  // d/dS of the objective along G = limit - S; decreasing in S (concave).
  const slope = (s: number) => aS / s - bS / (1 - s) - aG / (limit - s) + bG / (1 - limit + s);
  if (slope(hi) >= 0) lo = hi;
  else if (slope(lo) <= 0) hi = lo;
  else {
    for (let i = 0; i < 100 && hi - lo > 1e-15; i++) {
      const mid = 0.5 * (lo + hi);
      if (slope(mid) > 0) lo = mid;
      else hi = mid;
    }
  }
  const s = 0.5 * (lo + hi);
  return { p_S: s, p_G: limit - s };
}

/** log of the prior density at `params` (up to its constant): sum of a log p + b log(1 - p). 0 without a prior. */
export function logPriorDensity(params: BktParams, settings: EmSettings): number {
  const prior = settings.prior;
  if (!prior) return 0;
  let sum = 0;
  for (const name of ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const) {
    const p = prior[name];
    if (!p || name in settings.fixed || (name === 'p_F' && !settings.forgets)) continue;
    const v = params[name];
    sum += p.mean * p.strength * Math.log(v) + (1 - p.mean) * p.strength * Math.log(1 - v);
  }
  return sum;
}

/**
 * Move `point` (in place) to the plausible point farthest from `anchor` (plausible) on the
 * segment between them, by bisection on the step; it stays at `anchor` when no step is plausible.
 */
function pullBackToPlausible(point: BktParams, anchor: BktParams, free: readonly (keyof BktParams)[], settings: EmSettings): void {
  const target = { ...point };
  const along = (step: number) => {
    for (const name of free) point[name] = anchor[name] + step * (target[name] - anchor[name]);
  };
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 30; i++) {
    const mid = 0.5 * (lo + hi);
    along(mid);
    if (plausible(point, settings)) lo = mid;
    else hi = mid;
  }
  along(lo);
}

/** Whether `params` satisfy the plausibility constraint of `settings` (always, without one). */
function plausible(params: BktParams, settings: EmSettings): boolean {
  const margin = settings.plausibilityMargin;
  const cap = settings.forgets ? null : settings.masteryCap;
  return (margin == null || params.p_S + params.p_G <= 1 - margin + 1e-12) && (cap == null || masteryAfterOneCorrect(params) <= cap + 1e-12);
}

/** The initial parameters projected onto the box, with fixed values and p_F = 0 unless forgetting. */
function startingPoint(initial: BktParams, settings: EmSettings): BktParams {
  const start = { ...projectOntoBounds({ ...initial, ...(settings.forgets ? {} : { p_F: 0 }) }, settings.bounds), ...settings.fixed };
  const margin = settings.plausibilityMargin;
  if (margin != null && start.p_S + start.p_G > 1 - margin) {
    // An implausible start is shrunk toward (0, 0) along its own direction until it is plausible.
    const scale = (1 - margin) / (start.p_S + start.p_G);
    if (!('p_S' in settings.fixed)) start.p_S *= scale;
    if (!('p_G' in settings.fixed)) start.p_G *= scale;
  }
  const cap = settings.forgets ? null : settings.masteryCap;
  if (cap != null && !('p_L0' in settings.fixed)) {
    // A start that masters in one answer gets a smaller L0 (halved until it does not).
    for (let i = 0; i < 60 && masteryAfterOneCorrect(start) > cap; i++) start.p_L0 = Math.max(settings.bounds.L0_min, start.p_L0 / 2);
  }
  return start;
}

/**
 * Baum-Welch EM (Rabiner 1989) for one concept from one starting point, projected onto the
 * bounds at every M-step. Stops when the log-likelihood gain of a step is at most
 * tolerance x attempts, or after maxIterations E-steps. Returns the parameters whose
 * log-likelihood was computed last (so the reported likelihood is exact for them).
 * If rounding ever makes a step lose likelihood, the better earlier parameters are returned.
 */
export function runEm(initial: BktParams, slice: SequenceSlice, settings: EmSettings, workspace = new EmWorkspace()): EmResult {
  return settings.acceleration === 'none'
    ? runPlainEm(initial, slice, settings, workspace)
    : runSquaremEm(initial, slice, settings, workspace);
}

/** Plain Baum-Welch: one E-step and one M-step per iteration. */
export function runPlainEm(initial: BktParams, slice: SequenceSlice, settings: EmSettings, workspace = new EmWorkspace()): EmResult {
  const { longest, attempts } = sliceShape(slice);
  workspace.ensure(longest);
  const threshold = settings.tolerance * Math.max(1, attempts);
  let params = startingPoint(initial, settings);
  let previous = { params, logLikelihood: Number.NEGATIVE_INFINITY, logPosterior: Number.NEGATIVE_INFINITY };
  for (let iteration = 1; iteration <= settings.maxIterations; iteration++) {
    const logLikelihood = expectationStep(params, slice, workspace);
    const logPosterior = logLikelihood + logPriorDensity(params, settings);
    const gain = logPosterior - previous.logPosterior;
    if (gain < 0 && iteration > 1) {
      return { ...previous, iterations: iteration, converged: true };
    }
    if (gain <= threshold) {
      return { params, logLikelihood, logPosterior, iterations: iteration, converged: true };
    }
    if (iteration === settings.maxIterations) {
      return { params, logLikelihood, logPosterior, iterations: iteration, converged: false };
    }
    previous = { params, logLikelihood, logPosterior };
    params = maximizationStep(params, workspace.stats, settings);
  }
  return { ...previous, iterations: settings.maxIterations, converged: false };
}

const FREE_ORDER = ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const;
/** Keep extrapolated points this far inside the box (in box-relative units) so logits stay finite. */
const BOX_MARGIN = 1e-12;

/** The parameters EM moves, each mapped to the logit of its position inside its bound box. */
function freeParameterNames(settings: EmSettings): (typeof FREE_ORDER)[number][] {
  return FREE_ORDER.filter((name) => !(name in settings.fixed) && (name !== 'p_F' || settings.forgets));
}

function boxOf(name: (typeof FREE_ORDER)[number], bounds: ParamBounds): [number, number] {
  const key = name.slice(2);
  return [bounds[`${key}_min` as keyof ParamBounds], bounds[`${key}_max` as keyof ParamBounds]];
}

function toLogit(p: number, lo: number, hi: number): number {
  const width = hi - lo;
  const x = Math.min(1 - BOX_MARGIN, Math.max(BOX_MARGIN, (p - lo) / width));
  return Math.log(x / (1 - x));
}

function fromLogit(y: number, lo: number, hi: number): number {
  const x = 1 / (1 + Math.exp(-y));
  return lo + (hi - lo) * Math.min(1 - BOX_MARGIN, Math.max(BOX_MARGIN, x));
}

/**
 * EM accelerated by SQUAREM (Varadhan & Roland 2008, scheme S3), in logit space of each
 * parameter's box so an extrapolated point always lies inside the bounds. Each cycle takes two
 * EM steps from theta0 (theta1, theta2), extrapolates theta' = theta0 - 2 alpha r + alpha^2 v with
 * r = theta1 - theta0, v = theta2 - 2 theta1 + theta0, alpha = -|r|/|v| (at most -1, at least
 * -maxStep), and evaluates it. The monotone guard: theta' is kept only when its log-likelihood is at
 * least that of theta1, else the cycle ends at theta2, a plain EM step. The next cycle starts from
 * M(theta'), which the evaluation already computed. So the likelihood at cycle starts never falls,
 * as with plain EM. Convergence: the gain between successive cycle starts, against the same
 * tolerance x attempts threshold.
 */
export function runSquaremEm(initial: BktParams, slice: SequenceSlice, settings: EmSettings, workspace = new EmWorkspace()): EmResult {
  const { longest, attempts } = sliceShape(slice);
  workspace.ensure(longest);
  const threshold = settings.tolerance * Math.max(1, attempts);
  const free = freeParameterNames(settings);
  const boxes = free.map((name) => boxOf(name, settings.bounds));
  const toVector = (p: BktParams) => free.map((name, k) => toLogit(p[name], boxes[k][0], boxes[k][1]));

  let theta0 = startingPoint(initial, settings);
  let previous = { params: theta0, logLikelihood: Number.NEGATIVE_INFINITY, logPosterior: Number.NEGATIVE_INFINITY };
  let maxStep = 4;
  let eSteps = 0;
  const budgetLeft = () => settings.maxIterations - eSteps;
  const objective = (params: BktParams, logLikelihood: number) => logLikelihood + logPriorDensity(params, settings);

  for (;;) {
    const ll0 = expectationStep(theta0, slice, workspace);
    const lp0 = objective(theta0, ll0);
    eSteps++;
    if (lp0 < previous.logPosterior) {
      return { ...previous, iterations: eSteps, converged: true };
    }
    if (lp0 - previous.logPosterior <= threshold) {
      return { params: theta0, logLikelihood: ll0, logPosterior: lp0, iterations: eSteps, converged: true };
    }
    if (budgetLeft() <= 0) return { params: theta0, logLikelihood: ll0, logPosterior: lp0, iterations: eSteps, converged: false };
    previous = { params: theta0, logLikelihood: ll0, logPosterior: lp0 };

    const theta1 = maximizationStep(theta0, workspace.stats, settings);
    const ll1 = expectationStep(theta1, slice, workspace);
    const lp1 = objective(theta1, ll1);
    eSteps++;
    const theta2 = maximizationStep(theta1, workspace.stats, settings);
    if (lp1 - lp0 <= threshold || budgetLeft() <= 1 || free.length === 0) {
      // Too close to the optimum for extrapolation to pay: finish with plain steps.
      theta0 = lp1 >= lp0 ? theta2 : theta1;
      continue;
    }

    const x0 = toVector(theta0);
    const x1 = toVector(theta1);
    const x2 = toVector(theta2);
    let rr = 0;
    let vv = 0;
    const r = x0.map((v, k) => x1[k] - v);
    const v = x0.map((value, k) => x2[k] - 2 * x1[k] + value);
    for (let k = 0; k < r.length; k++) {
      rr += r[k] * r[k];
      vv += v[k] * v[k];
    }
    let alpha = vv > 0 ? -Math.sqrt(rr / vv) : -1;
    alpha = Math.max(-maxStep, Math.min(-1, alpha));
    const extrapolated: BktParams = { ...theta2 };
    free.forEach((name, k) => {
      extrapolated[name] = fromLogit(x0[k] - 2 * alpha * r[k] + alpha * alpha * v[k], boxes[k][0], boxes[k][1]);
    });
    // An extrapolated point outside the plausible region is pulled back along the segment from
    // theta2 (plausible) to the largest plausible step: the M-step from an implausible point
    // would not be guaranteed to climb.
    if (alpha !== -1 && !plausible(extrapolated, settings)) pullBackToPlausible(extrapolated, theta2, free, settings);
    const tryExtrapolated = alpha !== -1 && plausible(extrapolated, settings);
    const llExtrapolated = tryExtrapolated ? expectationStep(extrapolated, slice, workspace) : Number.NEGATIVE_INFINITY;
    if (tryExtrapolated) eSteps++;
    const lpExtrapolated = tryExtrapolated ? objective(extrapolated, llExtrapolated) : Number.NEGATIVE_INFINITY;
    if (Number.isFinite(lpExtrapolated) && lpExtrapolated >= lp1) {
      theta0 = maximizationStep(extrapolated, workspace.stats, settings);
      if (alpha === -maxStep) maxStep *= 4;
    } else {
      theta0 = theta2;
      if (alpha !== -1) maxStep = Math.max(1, maxStep / 4);
    }
  }
}
