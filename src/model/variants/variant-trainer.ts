import type { EmSettings } from '../em-trainer.js';
import { BOUND_KEYS, type BktParams, type ParamName } from '../params.js';
import { type ClassPriorGroup, classLogPrior, classPriorGroups } from './class-prior.js';
import {
  VStat,
  type VariantStatisticsLayout,
  accumulateVariantSequence,
  resetVariantStatistics,
  variantStatisticsLayout,
  variantStatisticsLogLikelihood,
} from './variant-kernels.js';

/**
 * The sequences [firstSequence, lastSequence) of one concept with their class indices (see
 * VariantLayout), and the number of classes of each kind.
 */
export interface VariantProblem {
  correct: Uint8Array;
  sequenceStart: Uint32Array;
  firstSequence: number;
  lastSequence: number;
  learnClass: Uint32Array;
  gsClass: Uint32Array;
  /** Prior class per sequence (indexed by sequence). */
  priorClass: Uint32Array;
  priorClasses: number;
  learnClasses: number;
  gsClasses: number;
}

/**
 * Where each parameter lives in a variant parameter vector:
 * [prior x P | learn x R | forget x R | guess x S | slip x S].
 */
export interface ThetaLayout {
  priorAt: number;
  learnAt: number;
  forgetAt: number;
  guessAt: number;
  slipAt: number;
  length: number;
  priorClasses: number;
  learnClasses: number;
  gsClasses: number;
}

/** The vector layout for P prior, R learn and S guess/slip classes. */
export function thetaLayout(priorClasses: number, learnClasses: number, gsClasses: number): ThetaLayout {
  const learnAt = priorClasses;
  const forgetAt = learnAt + learnClasses;
  const guessAt = forgetAt + learnClasses;
  const slipAt = guessAt + gsClasses;
  return { priorAt: 0, learnAt, forgetAt, guessAt, slipAt, length: slipAt + gsClasses, priorClasses, learnClasses, gsClasses };
}

/** A vector with every class at the values of `params` (a restart's starting point). */
export function thetaFromParams(params: BktParams, layout: ThetaLayout): Float64Array {
  const theta = new Float64Array(layout.length);
  theta.fill(params.p_L0, layout.priorAt, layout.learnAt);
  theta.fill(params.p_T, layout.learnAt, layout.forgetAt);
  theta.fill(params.p_F, layout.forgetAt, layout.guessAt);
  theta.fill(params.p_G, layout.guessAt, layout.slipAt);
  theta.fill(params.p_S, layout.slipAt, layout.length);
  return theta;
}

/** The parameter name of each vector entry. */
function entryNames(layout: ThetaLayout): ParamName[] {
  const names: ParamName[] = new Array(layout.length);
  names.fill('p_L0', layout.priorAt, layout.learnAt);
  names.fill('p_T', layout.learnAt, layout.forgetAt);
  names.fill('p_F', layout.forgetAt, layout.guessAt);
  names.fill('p_G', layout.guessAt, layout.slipAt);
  names.fill('p_S', layout.slipAt, layout.length);
  return names;
}

/** Scratch buffers reused across E-steps; grown on demand. */
export class VariantWorkspace {
  filteredKnown = new Float64Array(1024);
  filteredUnknown = new Float64Array(1024);
  stats = new Float64Array(64);

  ensure(longest: number, statsLength: number): void {
    if (this.filteredKnown.length < longest) {
      const size = Math.max(longest, this.filteredKnown.length * 2);
      this.filteredKnown = new Float64Array(size);
      this.filteredUnknown = new Float64Array(size);
    }
    if (this.stats.length !== statsLength) this.stats = new Float64Array(statsLength);
  }
}

/** The statistics layout of a problem. */
export function problemStatisticsLayout(problem: VariantProblem): VariantStatisticsLayout {
  return variantStatisticsLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
}

/** Longest sequence and row count of a problem. */
export function problemShape(problem: VariantProblem): { longest: number; attempts: number } {
  let longest = 0;
  for (let q = problem.firstSequence; q < problem.lastSequence; q++) {
    longest = Math.max(longest, problem.sequenceStart[q + 1] - problem.sequenceStart[q]);
  }
  return { longest, attempts: problem.sequenceStart[problem.lastSequence] - problem.sequenceStart[problem.firstSequence] };
}

/**
 * One E-step at `theta` (laid out by `layout`): fills `workspace.stats` (laid out by
 * `statsLayout`) and returns the log-likelihood. The workspace must have been sized with ensure().
 */
export function variantExpectationStep(
  theta: Float64Array,
  layout: ThetaLayout,
  problem: VariantProblem,
  statsLayout: VariantStatisticsLayout,
  workspace: VariantWorkspace,
): number {
  const stats = workspace.stats;
  resetVariantStatistics(stats);
  const learn = theta.subarray(layout.learnAt, layout.forgetAt);
  const forget = theta.subarray(layout.forgetAt, layout.guessAt);
  const guess = theta.subarray(layout.guessAt, layout.slipAt);
  const slip = theta.subarray(layout.slipAt, layout.length);
  const { correct, sequenceStart, learnClass, gsClass, priorClass } = problem;
  const known = workspace.filteredKnown;
  const unknown = workspace.filteredUnknown;
  for (let q = problem.firstSequence; q < problem.lastSequence; q++) {
    const p = priorClass[q];
    accumulateVariantSequence(
      theta[layout.priorAt + p],
      learn,
      forget,
      guess,
      slip,
      learnClass,
      gsClass,
      correct,
      sequenceStart[q],
      sequenceStart[q + 1],
      p,
      statsLayout,
      known,
      unknown,
      stats,
    );
  }
  return variantStatisticsLogLikelihood(stats);
}

/** Pooled (all classes together) expected counts: numerator and denominator of each parameter. */
export function pooledCounts(stats: Float64Array, statsLayout: VariantStatisticsLayout): Record<ParamName, [number, number]> {
  const out: Record<ParamName, [number, number]> = { p_L0: [0, 0], p_T: [0, 0], p_F: [0, 0], p_G: [0, 0], p_S: [0, 0] };
  for (let p = 0; p < statsLayout.priorClasses; p++) {
    out.p_L0[0] += stats[VStat.priorBase + 2 * p];
    out.p_L0[1] += stats[VStat.priorBase + 2 * p + 1];
  }
  for (let r = 0; r < statsLayout.learnClasses; r++) {
    const at = statsLayout.learnBase + 4 * r;
    out.p_T[0] += stats[at];
    out.p_T[1] += stats[at + 1];
    out.p_F[0] += stats[at + 2];
    out.p_F[1] += stats[at + 3];
  }
  for (let g = 0; g < statsLayout.gsClasses; g++) {
    const at = statsLayout.gsBase + 4 * g;
    out.p_G[0] += stats[at];
    out.p_G[1] += stats[at + 1];
    out.p_S[0] += stats[at + 2];
    out.p_S[1] += stats[at + 3];
  }
  return out;
}

function clampTo(name: ParamName, value: number, settings: EmSettings): number {
  const fixed = settings.fixed[name];
  if (fixed !== undefined) return fixed;
  if (name === 'p_F' && !settings.forgets) return 0;
  const [lo, hi] = BOUND_KEYS[name];
  return Math.min(settings.bounds[hi], Math.max(settings.bounds[lo], value));
}

/**
 * The concept-level parameters behind a variant fit: each parameter's pooled M-step value over
 * all its classes (expected counts summed across classes), projected onto the bounds; under
 * `map` with the concept's Beta pseudo-counts added, i.e. the standard model's MAP M-step on the
 * pooled counts (with one class it is that class's value). They are what an unseen class falls
 * back to at prediction time and what the database's base columns hold. A parameter without any
 * expected evidence keeps `fallback`'s value.
 */
export function conceptLevelParams(stats: Float64Array, statsLayout: VariantStatisticsLayout, settings: EmSettings, fallback: BktParams): BktParams {
  const pooled = pooledCounts(stats, statsLayout);
  const value = (name: ParamName) => {
    const [yes, total] = pooled[name];
    const prior = settings.prior?.[name];
    const a = yes + (prior ? prior.mean * prior.strength : 0);
    const n = total + (prior ? prior.strength : 0);
    return clampTo(name, n > 0 ? a / n : fallback[name], settings);
  };
  return { p_L0: value('p_L0'), p_T: value('p_T'), p_S: value('p_S'), p_G: value('p_G'), p_F: value('p_F') };
}

/**
 * The prior groups (see ClassPriorGroup) of `settings.prior` for a vector laid out by `layout`,
 * each class weighted by its observations as any E-step's statistics count them: sequences per
 * prior class, transitions per learn class (expected time unknown plus known before one) and rows
 * per guess/slip class (expected attempts unknown plus known). Each of those sums adds one per
 * sequence, transition or row whatever the parameters, so rounding gives the exact count.
 */
export function priorGroupsOf(layout: ThetaLayout, stats: Float64Array, statsLayout: VariantStatisticsLayout, settings: EmSettings): ClassPriorGroup[] {
  if (!settings.prior) return [];
  const count = (n: number, at: (k: number) => number) => Float64Array.from({ length: n }, (_, k) => Math.round(at(k)));
  const sequences = count(layout.priorClasses, (p) => stats[VStat.priorBase + 2 * p + 1]);
  const transitions = count(layout.learnClasses, (r) => stats[statsLayout.learnBase + 4 * r + 1] + stats[statsLayout.learnBase + 4 * r + 3]);
  const rows = count(layout.gsClasses, (g) => stats[statsLayout.gsBase + 4 * g + 1] + stats[statsLayout.gsBase + 4 * g + 3]);
  return classPriorGroups(
    settings.prior,
    [
      { name: 'p_L0', from: layout.priorAt, to: layout.learnAt, observations: sequences },
      { name: 'p_T', from: layout.learnAt, to: layout.forgetAt, observations: transitions },
      { name: 'p_F', from: layout.forgetAt, to: layout.guessAt, observations: transitions },
      { name: 'p_G', from: layout.guessAt, to: layout.slipAt, observations: rows },
      { name: 'p_S', from: layout.slipAt, to: layout.length, observations: rows },
    ],
    (name) => settings.fixed[name] === undefined && (name !== 'p_F' || settings.forgets),
  );
}

/**
 * The M-step, class by class: each parameter's expected complete-data log-likelihood is
 * A log p + B log(1 - p) per class, so the exact box-constrained maximiser is the clamped ratio
 * A / (A + B), as in the standard trainer. A class with no expected evidence takes the pooled
 * value of its parameter (it cannot change the likelihood, and the pooled value is the sensible
 * estimate for it); fixed parameters hold their value in every class; without forgetting, every
 * forget is 0. Under `map` (settings.prior) class c's Beta prior adds its pseudo-counts
 * w_c s m and w_c s (1 - m) (ClassPriorGroup) to A and B: the objective per class stays
 * (A + w_c s m) log p + (B + w_c s (1 - m)) log(1 - p), concave, so the clamped ratio
 * (A + w_c s m) / (A + B + w_c s) is the exact MAP M-step and EM never lowers the log posterior,
 * as `maximizationStep` argues for the standard model. Writes into `out` (may not alias `theta`)
 * and returns it.
 */
export function variantMaximizationStep(
  theta: Float64Array,
  layout: ThetaLayout,
  stats: Float64Array,
  statsLayout: VariantStatisticsLayout,
  settings: EmSettings,
  out = new Float64Array(layout.length),
  groups: readonly ClassPriorGroup[] = priorGroupsOf(layout, stats, statsLayout, settings),
): Float64Array {
  const pooled = pooledCounts(stats, statsLayout);
  const fallbackOf = (name: ParamName, previous: number) => (pooled[name][1] > 0 ? pooled[name][0] / pooled[name][1] : previous);
  const num = new Float64Array(layout.length);
  const den = new Float64Array(layout.length);
  const set = (index: number, name: ParamName, yes: number, total: number) => {
    num[index] = yes;
    den[index] = total;
    out[index] = clampTo(name, total > 0 ? yes / total : fallbackOf(name, theta[index]), settings);
  };
  for (let p = 0; p < layout.priorClasses; p++) {
    set(layout.priorAt + p, 'p_L0', stats[VStat.priorBase + 2 * p], stats[VStat.priorBase + 2 * p + 1]);
  }
  for (let r = 0; r < layout.learnClasses; r++) {
    const at = statsLayout.learnBase + 4 * r;
    set(layout.learnAt + r, 'p_T', stats[at], stats[at + 1]);
    set(layout.forgetAt + r, 'p_F', stats[at + 2], stats[at + 3]);
  }
  for (let g = 0; g < layout.gsClasses; g++) {
    const at = statsLayout.gsBase + 4 * g;
    set(layout.guessAt + g, 'p_G', stats[at], stats[at + 1]);
    set(layout.slipAt + g, 'p_S', stats[at + 2], stats[at + 3]);
  }
  for (const { name, from, to, mean, strengths } of groups) {
    for (let i = from; i < to; i++) {
      const strength = strengths[i - from];
      if (den[i] + strength > 0) out[i] = clampTo(name, (num[i] + strength * mean) / (den[i] + strength), settings);
    }
  }
  return out;
}

/** The starting vector projected onto the box, with fixed values and forget 0 unless forgetting. */
function startingTheta(initial: Float64Array, layout: ThetaLayout, settings: EmSettings): Float64Array {
  const names = entryNames(layout);
  return initial.map((v, i) => clampTo(names[i], v, settings));
}

export interface VariantEmResult {
  theta: Float64Array;
  logLikelihood: number;
  /** The objective EM climbed: logLikelihood plus the log prior (see ClassPriorGroup); equal to it without a prior. */
  logPosterior: number;
  /** E-steps computed. */
  iterations: number;
  converged: boolean;
}

/** Keep extrapolated points this far inside the box (box-relative) so logits stay finite. */
const BOX_MARGIN = 1e-12;

/**
 * EM for one concept of a variant model from `initial`, SQUAREM-accelerated (Varadhan & Roland
 * 2008, scheme S3, in logit space of each entry's box) unless `settings.acceleration` is 'none';
 * the same monotone guard and stopping rule as the standard trainer (src/model/em-trainer.ts), on
 * the objective EM climbs (the log-likelihood, or under `map` the log posterior): stop when its
 * gain between cycle starts is at most tolerance x attempts, or after maxIterations E-steps;
 * return the parameters whose objective was computed last.
 */
export function runVariantEm(
  initial: Float64Array,
  problem: VariantProblem,
  settings: EmSettings,
  workspace = new VariantWorkspace(),
): VariantEmResult {
  const layout = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
  const statsLayout = problemStatisticsLayout(problem);
  const { longest, attempts } = problemShape(problem);
  workspace.ensure(longest, statsLayout.length);
  const threshold = settings.tolerance * Math.max(1, attempts);
  const names = entryNames(layout);
  const free: number[] = [];
  for (let i = 0; i < layout.length; i++) {
    const name = names[i];
    if (settings.fixed[name] === undefined && (name !== 'p_F' || settings.forgets)) free.push(i);
  }
  const lo = free.map((i) => settings.bounds[BOUND_KEYS[names[i]][0]]);
  const hi = free.map((i) => settings.bounds[BOUND_KEYS[names[i]][1]]);
  // The prior's class weights are counts of the data: read once, from the first E-step.
  let groups: ClassPriorGroup[] | null = null;
  // The E-step's log-likelihood and the objective EM climbs (log posterior under `map`).
  const eStep = (theta: Float64Array) => {
    const ll = variantExpectationStep(theta, layout, problem, statsLayout, workspace);
    groups ??= priorGroupsOf(layout, workspace.stats, statsLayout, settings);
    return { ll, lp: groups.length > 0 ? ll + classLogPrior(theta, groups) : ll };
  };
  const mStep = (theta: Float64Array) => variantMaximizationStep(theta, layout, workspace.stats, statsLayout, settings, undefined, groups!);

  let theta0 = startingTheta(initial, layout, settings);
  let previous = { theta: theta0, ll: Number.NEGATIVE_INFINITY, lp: Number.NEGATIVE_INFINITY };
  let eSteps = 0;
  const plain = settings.acceleration === 'none';
  let maxStep = 4;

  for (;;) {
    const at0 = eStep(theta0);
    eSteps++;
    if (at0.lp < previous.lp) {
      return { theta: previous.theta, logLikelihood: previous.ll, logPosterior: previous.lp, iterations: eSteps, converged: true };
    }
    if (at0.lp - previous.lp <= threshold) return { theta: theta0, logLikelihood: at0.ll, logPosterior: at0.lp, iterations: eSteps, converged: true };
    if (eSteps >= settings.maxIterations) return { theta: theta0, logLikelihood: at0.ll, logPosterior: at0.lp, iterations: eSteps, converged: false };
    previous = { theta: theta0, ll: at0.ll, lp: at0.lp };
    const theta1 = mStep(theta0);
    if (plain) {
      theta0 = theta1;
      continue;
    }
    const at1 = eStep(theta1);
    eSteps++;
    const theta2 = mStep(theta1);
    if (at1.lp - at0.lp <= threshold || settings.maxIterations - eSteps <= 1 || free.length === 0) {
      theta0 = at1.lp >= at0.lp ? theta2 : theta1;
      continue;
    }
    // Extrapolate in logit space of each free entry's box.
    const logit = (p: number, k: number) => {
      const x = Math.min(1 - BOX_MARGIN, Math.max(BOX_MARGIN, (p - lo[k]) / (hi[k] - lo[k])));
      return Math.log(x / (1 - x));
    };
    let rr = 0;
    let vv = 0;
    const x0 = new Float64Array(free.length);
    const r = new Float64Array(free.length);
    const v = new Float64Array(free.length);
    for (let k = 0; k < free.length; k++) {
      const i = free[k];
      if (!(hi[k] > lo[k])) continue;
      const a = logit(theta0[i], k);
      const b = logit(theta1[i], k);
      const c = logit(theta2[i], k);
      x0[k] = a;
      r[k] = b - a;
      v[k] = c - 2 * b + a;
      rr += r[k] * r[k];
      vv += v[k] * v[k];
    }
    let alpha = vv > 0 ? -Math.sqrt(rr / vv) : -1;
    alpha = Math.max(-maxStep, Math.min(-1, alpha));
    if (alpha === -1) {
      theta0 = theta2;
      continue;
    }
    const extrapolated = Float64Array.from(theta2);
    for (let k = 0; k < free.length; k++) {
      if (!(hi[k] > lo[k])) continue;
      const y = x0[k] - 2 * alpha * r[k] + alpha * alpha * v[k];
      const x = 1 / (1 + Math.exp(-y));
      extrapolated[free[k]] = lo[k] + (hi[k] - lo[k]) * Math.min(1 - BOX_MARGIN, Math.max(BOX_MARGIN, x));
    }
    const atExtrapolated = eStep(extrapolated);
    eSteps++;
    if (Number.isFinite(atExtrapolated.lp) && atExtrapolated.lp >= at1.lp) {
      theta0 = mStep(extrapolated);
      if (alpha === -maxStep) maxStep *= 4;
    } else {
      theta0 = theta2;
      maxStep = Math.max(1, maxStep / 4);
    }
  }
}
