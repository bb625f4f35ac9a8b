import { updateMastery } from './online-update.js';
import type { BktParams } from './params.js';

/** Thresholds of schema.md's "Parameter quality" rules; each is a flag of `validate`. */
export interface QualityThresholds {
  /** T below this is degenerate (the concept is never learned). Default 0.001. */
  minLearn: number;
  /** (1 - S) - G below this is degenerate (answers barely tell known from unknown). Default 0.1. */
  minDiscrimination: number;
  /** One correct answer from L0 must raise mastery by at least this much. Default 0.05. */
  minLearningGain: number;
}

/** schema.md's thresholds for the degeneracy rules. */
export const DEFAULT_QUALITY_THRESHOLDS: Readonly<QualityThresholds> = Object.freeze({
  minLearn: 0.001,
  minDiscrimination: 0.1,
  minLearningGain: 0.05,
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

  return {
    valid: !findings.some((f) => f.kind === 'invalid'),
    degenerate: findings.some((f) => f.kind === 'degenerate'),
    findings,
  };
}
