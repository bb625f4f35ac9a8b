import { updateMastery } from './online-update.js';
import { BOUND_KEYS, type BktParams, DEFAULT_MASTERY_THRESHOLD, type ParamBounds } from './params.js';

/** Thresholds of schema.md's "Parameter quality" rules; each is a flag of `validate`. */
export interface QualityThresholds {
  /** T below this is degenerate (the concept is never learned). Default 0.001. */
  minLearn: number;
  /** (1 - S) - G below this is degenerate (answers barely tell known from unknown). Default 0.1. */
  minDiscrimination: number;
  /** One correct answer from L0 must raise mastery by at least this much. Default 0.05. */
  minLearningGain: number;
  /**
   * No instant mastery: fewer correct answers in a row than this, from L0, must not reach the
   * mastery threshold. Default 2 (one answer never masters a concept); 1 turns the rule off.
   */
  minAnswersToMaster: number;
  /** The mastery threshold of that rule. Default 0.95 (schema.md). */
  masteryThreshold: number;
}

/** schema.md's thresholds for the degeneracy rules. */
export const DEFAULT_QUALITY_THRESHOLDS: Readonly<QualityThresholds> = Object.freeze({
  minLearn: 0.001,
  minDiscrimination: 0.1,
  minLearningGain: 0.05,
  minAnswersToMaster: 2,
  masteryThreshold: DEFAULT_MASTERY_THRESHOLD,
});

/** One violated validity or degeneracy rule. */
export interface QualityFinding {
  /** Stable machine name of the rule, e.g. `S_plus_G_below_1`. */
  rule: string;
  kind: 'invalid' | 'degenerate';
  /** Human text naming the parameter values, e.g. `(1 - S) - G = 0.031 < 0.1`. */
  message: string;
}

/** What `checkParameterQuality` found. */
export interface QualityVerdict {
  /** Every parameter in (0, 1), S + G < 1 and (1 - S) > G. */
  valid: boolean;
  /** Any degeneracy rule fired. */
  degenerate: boolean;
  findings: QualityFinding[];
}

const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));

/**
 * schema.md's validity and degeneracy rules (after Baker, Corbett & Aleven 2008), each violation
 * named. Pure: no I/O. The forget parameter is checked for range only when present (> 0).
 */
export function checkParameterQuality(
  params: BktParams,
  thresholds: QualityThresholds = DEFAULT_QUALITY_THRESHOLDS,
): QualityVerdict {
  const findings: QualityFinding[] = [];
  const invalid = (rule: string, message: string) => findings.push({ rule, kind: 'invalid', message });
  const degenerate = (rule: string, message: string) => findings.push({ rule, kind: 'degenerate', message });

  for (const name of ['p_L0', 'p_T', 'p_S', 'p_G'] as const) {
    const v = params[name];
    if (!(v > 0 && v < 1)) invalid(`${name}_in_open_unit_interval`, `${name} = ${v} is not in (0, 1)`);
  }
  if (!(params.p_F >= 0 && params.p_F < 1)) invalid('p_F_in_unit_interval', `p_F = ${params.p_F} is not in [0, 1)`);
  if (!(params.p_S + params.p_G < 1)) {
    invalid('S_plus_G_below_1', `S + G = ${fmt(params.p_S + params.p_G)} is not < 1`);
  }
  if (!(1 - params.p_S > params.p_G)) {
    invalid('known_beats_guess', `1 - S = ${fmt(1 - params.p_S)} is not > G = ${fmt(params.p_G)}`);
  }

  if (!(params.p_T >= thresholds.minLearn)) {
    degenerate('learn_too_small', `T = ${fmt(params.p_T)} < ${thresholds.minLearn}`);
  }
  const gap = 1 - params.p_S - params.p_G;
  if (!(gap >= thresholds.minDiscrimination)) {
    degenerate('low_discrimination', `(1 - S) - G = ${fmt(gap)} < ${thresholds.minDiscrimination}`);
  }
  const gain = updateMastery(params.p_L0, true, params) - params.p_L0;
  if (!(gain >= thresholds.minLearningGain)) {
    degenerate('small_learning_gain', `one correct answer from L0 raises mastery by ${fmt(gain)} < ${thresholds.minLearningGain}`);
  }

  const instant = answersToMaster(params, thresholds.masteryThreshold, thresholds.minAnswersToMaster);
  if (instant !== null && instant < thresholds.minAnswersToMaster) {
    degenerate(
      'instant_mastery',
      `${instant === 0 ? 'L0 itself' : instant === 1 ? 'one correct answer' : `${instant} correct answers`} from L0 reach${instant === 1 ? 'es' : ''} mastery ${thresholds.masteryThreshold} (fewer than ${thresholds.minAnswersToMaster})`,
    );
  }

  return {
    valid: !findings.some((f) => f.kind === 'invalid'),
    degenerate: findings.some((f) => f.kind === 'degenerate'),
    findings,
  };
}

/**
 * The fewest correct answers in a row from L0 that bring mastery to `threshold`, looking at most
 * `limit - 1` answers ahead; null when fewer than `limit` answers do not reach it. 0 means L0
 * itself is at the threshold. Baker, Corbett & Aleven (2008) treat such implausibly fast
 * learning as a sign of a degenerate model.
 */
export function answersToMaster(params: BktParams, threshold: number, limit: number): number | null {
  let mastery = params.p_L0;
  for (let answers = 0; answers < limit; answers++) {
    if (mastery >= threshold) return answers;
    mastery = updateMastery(mastery, true, params);
  }
  return null;
}

/** How close (absolute) a parameter must be to a bound to count as held on it. */
export const ON_BOUND_TOLERANCE = 1e-6;

/** A parameter that sits on a bound of the fit: the data pushed it there, so its value says more about the bound than the data. */
export interface BoundWarning {
  /** `on_bound` (a box bound) or `on_plausibility_constraint` (G = (1 - S) - margin). */
  rule: 'on_bound' | 'on_plausibility_constraint';
  /** The parameter, or `p_S+p_G` for the plausibility constraint. */
  parameter: string;
  /** The bound's key (`G_max`, ...) or `plausibility_margin`. */
  bound: string;
  value: number;
  message: string;
}

/**
 * Which fitted parameters sit on a bound (within ON_BOUND_TOLERANCE): on the box `bounds`, or on
 * the plausibility line S + G = 1 - margin when a margin was used. Fixed parameters are the
 * caller's choice, never reported; p_F only when forgetting was fitted. Pure.
 */
export function boundWarnings(
  params: BktParams,
  bounds: ParamBounds,
  options: { fixed?: Partial<BktParams>; forgets?: boolean; plausibilityMargin?: number | null } = {},
): BoundWarning[] {
  const warnings: BoundWarning[] = [];
  const fixed = options.fixed ?? {};
  for (const name of ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const) {
    if (name in fixed || (name === 'p_F' && !options.forgets)) continue;
    const [loKey, hiKey] = BOUND_KEYS[name];
    const value = params[name];
    for (const key of [loKey, hiKey]) {
      if (Math.abs(value - bounds[key]) <= ON_BOUND_TOLERANCE) {
        warnings.push({ rule: 'on_bound', parameter: name, bound: key, value, message: `${name} = ${fmt(value)} is on its bound ${key} = ${bounds[key]}` });
        break;
      }
    }
  }
  const margin = options.plausibilityMargin;
  if (margin != null && !('p_S' in fixed && 'p_G' in fixed) && Math.abs(1 - params.p_S - params.p_G - margin) <= ON_BOUND_TOLERANCE) {
    warnings.push({
      rule: 'on_plausibility_constraint',
      parameter: 'p_S+p_G',
      bound: 'plausibility_margin',
      value: params.p_S + params.p_G,
      message: `(1 - S) - G = ${fmt(1 - params.p_S - params.p_G)} is held on the plausibility margin ${margin}`,
    });
  }
  return warnings;
}
