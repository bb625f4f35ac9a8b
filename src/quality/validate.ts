import { toUuid } from '../store/ids.js';
import { z } from 'zod';
import { clampProbability, updateMastery } from '../model/online-update.js';
import { DEFAULT_BOUNDS, DEFAULT_MASTERY_THRESHOLD, PARAM_NAMES, type BktParams } from '../model/params.js';
import { boundWarnings, checkParameterQuality, DEFAULT_QUALITY_THRESHOLDS, type QualityFinding, type QualityThresholds } from '../model/quality.js';
import { checkVariantQuality } from '../model/variants/variant-quality.js';
import type { VariantModel } from '../model/variants/variant-model.js';
import type { ConceptEvaluation, EvaluationReport, MetricSet } from './evaluation-types.js';
import type { ConceptParams } from './params-set.js';

/**
 * `bkt validate`: the CI gate. Every check, its default and its source are in docs/validation.md.
 */

export const CHECK_STATUSES = ['pass', 'fail', 'warn'] as const;
/** A check's result: pass, fail or warn. */
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One named check of one concept. */
export interface CheckResult {
  /** Stable check name, e.g. `validity`, `mastery_reachable`, `held_out_auc`. */
  name: string;
  status: CheckStatus;
  message: string;
}

/** Every check of one concept. */
export interface ConceptValidation {
  concept_id: string;
  params: BktParams;
  /** Worst status of its checks: fail > warn > pass. */
  status: CheckStatus;
  checks: CheckResult[];
}

/** One failed check, as `bkt validate` prints it. */
export interface ValidationFailure {
  concept_id: string;
  check: string;
  message: string;
}

/** What `validateParams` returns; the gate fails when `summary.failures` is not empty. */
export interface ValidationReport {
  concepts: ConceptValidation[];
  /** Held-out checks over all scored rows together; null without `--input`. */
  overall: { status: CheckStatus; checks: CheckResult[] } | null;
  summary: {
    concepts_checked: number;
    passed: number;
    warned: number;
    failed: number;
    /** Every failing check, named; the gate fails when this is not empty. */
    failures: ValidationFailure[];
    warnings: ValidationFailure[];
  };
  /** The thresholds used, snake_case as every JSON key. */
  thresholds: Record<string, number | string>;
}

const probability = z.number().min(0).max(1);

/** Options of `validate`; every threshold is a flag (docs/validation.md). */
export const ValidateOptionsSchema = z.object({
  /** schema.md: T below this is degenerate. Default 0.001. Flag --min-learn. */
  minLearn: probability.default(DEFAULT_QUALITY_THRESHOLDS.minLearn),
  /** schema.md: (1 - S) - G below this is degenerate. Default 0.1. Flag --min-discrimination. */
  minDiscrimination: z.number().min(0).max(1).default(DEFAULT_QUALITY_THRESHOLDS.minDiscrimination),
  /** schema.md: one correct answer from L0 must raise mastery by this much. Default 0.05. Flag --min-learning-gain. */
  minLearningGain: probability.default(DEFAULT_QUALITY_THRESHOLDS.minLearningGain),
  /**
   * No instant mastery (Baker, Corbett & Aleven 2008 on implausibly fast learning): fewer correct
   * answers in a row than this, from L0, must not reach the threshold. Default 2: one answer
   * never masters a concept. 1 turns the check off. Flag --min-answers-to-master.
   */
  minAnswersToMaster: z.number().int().min(1).max(1000).default(DEFAULT_QUALITY_THRESHOLDS.minAnswersToMaster),
  /**
   * A parameter held on a bound of its fit (or of the default box when the fit's bounds are not
   * recorded): `warn` (default), `fail`, or `off`. Flag --bound-check.
   */
  boundCheck: z.enum(['warn', 'fail', 'off']).default('warn'),
  /** Baker et al. 2008: this many correct answers in a row from L0 must reach the threshold. Default 10. */
  masteryRun: z.number().int().min(1).max(1000).default(10),
  /** Mastery threshold. Default 0.95 (schema.md). */
  masteryThreshold: z.number().gt(0).lt(1).default(DEFAULT_MASTERY_THRESHOLD),
  /** Held-out (with --input): per-concept and overall AUC must be at least this. Default 0.5 (chance). */
  minAuc: probability.default(0.5),
  /** Held-out: RMSE must be at most this. Default 0.5 (a constant 0.5 prediction scores 0.5). */
  maxRmse: probability.default(0.5),
  /**
   * Held-out: RMSE lift over the per-concept mean baseline (baseline RMSE - model RMSE) over all
   * scored rows must be at least this; per concept a shorter lift only warns. Default 0.
   */
  minLift: z.number().min(-1).max(1).default(0),
  /** Held-out checks of a concept with fewer rows than this warn instead of failing (too noisy to gate). Default 50. */
  minHeldOutRows: z.number().int().min(1).default(50),
  /** Identifiability: restarts within this many nats of the best log-likelihood count as equally good. Default 1. */
  identifiabilityGap: z.number().min(0).default(1),
  /** Identifiability: warn when such restarts differ by more than this in some parameter. Default 0.1. */
  identifiabilitySpread: z.number().gt(0).max(1).default(0.1),
});

/** Options of `validateParams` after defaults. */
export type ValidateOptions = z.output<typeof ValidateOptionsSchema>;
/** Options of `validateParams` as callers write them (every threshold optional). */
export type ValidateOptionsInput = z.input<typeof ValidateOptionsSchema>;

/** Mastery levels the monotonicity check starts from: 0, 0.01, ..., 1 (clamped by the update). */
export const MASTERY_GRID: readonly number[] = Array.from({ length: 101 }, (_, i) => i / 100);

const fmt = (x: number) => (Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(3));

/** schema.md validity rules: one check naming every violated rule. */
function validityCheck(findings: QualityFinding[]): CheckResult {
  const invalid = findings.filter((f) => f.kind === 'invalid');
  return invalid.length === 0
    ? { name: 'validity', status: 'pass', message: 'every parameter in (0, 1), S + G < 1 and 1 - S > G' }
    : { name: 'validity', status: 'fail', message: invalid.map((f) => f.message).join('; ') };
}

const DEGENERACY_CHECKS: ReadonlyArray<{ name: string; rule: string; passMessage: (p: BktParams, o: ValidateOptions) => string }> = [
  { name: 'learn_rate', rule: 'learn_too_small', passMessage: (p, o) => `T = ${fmt(p.p_T)} >= ${o.minLearn}` },
  {
    name: 'discrimination',
    rule: 'low_discrimination',
    passMessage: (p, o) => `(1 - S) - G = ${fmt(1 - p.p_S - p.p_G)} >= ${o.minDiscrimination}`,
  },
  {
    name: 'learning_gain',
    rule: 'small_learning_gain',
    passMessage: (p, o) => `one correct answer from L0 raises mastery by ${fmt(updateMastery(p.p_L0, true, p) - p.p_L0)} >= ${o.minLearningGain}`,
  },
  {
    name: 'instant_mastery',
    rule: 'instant_mastery',
    passMessage: (p, o) =>
      o.minAnswersToMaster <= 1
        ? 'off (--min-answers-to-master 1)'
        : `${o.minAnswersToMaster - 1} correct answer(s) from L0 reach only mastery ${fmt(masteryAfterCorrectRun(p, o.minAnswersToMaster - 1))} < ${o.masteryThreshold}`,
  },
];

/**
 * Bound check: a parameter held on a bound of its fit says more about the bound than about the
 * data (the default box held L0 at 0.5 or G at 0.4 for most concepts of real data). The bounds
 * are the fit's own when the source recorded them (a params file's settings, a row's
 * constraints_applied), else the default box. `warn` by default; null when turned off.
 */
export function boundCheck(entry: ConceptParams, mode: 'warn' | 'fail' | 'off'): CheckResult | null {
  if (mode === 'off') return null;
  const recorded = entry.bounds ?? null;
  const bounds = recorded ?? DEFAULT_BOUNDS;
  const found = boundWarnings(entry.params, bounds, { forgets: entry.params.p_F > 0, plausibilityMargin: entry.plausibilityMargin ?? null });
  const whose = recorded ? 'its fit' : 'the default box (the fit\'s own bounds are not recorded)';
  return found.length
    ? { name: 'bounds', status: mode, message: `${found.map((w) => w.message).join('; ')} of ${whose}` }
    : { name: 'bounds', status: 'pass', message: `no parameter on a bound of ${whose}` };
}

/**
 * Empirical degeneracy 1 (Baker, Corbett & Aleven 2008): a correct answer must never lower
 * mastery. Checked from every level of MASTERY_GRID. With forgetting (p_F > 0) mastery decays
 * between attempts by design, so a correct answer is compared with what the transition alone
 * would give, L(1 - F) + (1 - L)T: the answer itself must not push mastery down.
 */
export function masteryMonotoneCheck(params: BktParams): CheckResult {
  // The same clamping as updateMastery, so the two sides differ only by the answer's evidence.
  const f = params.p_F > 0 ? clampProbability(params.p_F) : 0;
  const t = clampProbability(params.p_T);
  let worst = { fall: 0, level: 0, after: 0, reference: 0 };
  for (const grid of MASTERY_GRID) {
    const level = clampProbability(grid);
    const after = updateMastery(level, true, params);
    const reference = f > 0 ? clampProbability(level * (1 - f) + (1 - level) * t) : level;
    const fall = reference - after;
    if (fall > worst.fall) worst = { fall, level, after, reference };
  }
  // 1e-12 absorbs rounding of the clamped arithmetic; a real fall is far larger.
  if (worst.fall > 1e-12) {
    const why = f > 0 && t + f > 1 ? `; T + F = ${fmt(t + f)} > 1 makes a likelier known state less likely known next` : '';
    return {
      name: 'mastery_monotone',
      status: 'fail',
      message: `mastery falls after a correct answer by up to ${fmt(worst.fall)}: from ${fmt(worst.level)} to ${fmt(worst.after)}${f > 0 ? ` where the transition alone gives ${fmt(worst.reference)}` : ''}${why}`,
    };
  }
  return { name: 'mastery_monotone', status: 'pass', message: `mastery never falls after a correct answer (grid of ${MASTERY_GRID.length} levels)` };
}

/** Mastery after `run` correct answers in a row, starting from L0. */
export function masteryAfterCorrectRun(params: BktParams, run: number): number {
  let mastery = params.p_L0;
  for (let i = 0; i < run; i++) mastery = updateMastery(mastery, true, params);
  return mastery;
}

/**
 * Empirical degeneracy 2 (Baker, Corbett & Aleven 2008): after `run` correct answers in a row
 * from L0, mastery must reach the threshold.
 */
export function masteryReachableCheck(params: BktParams, run: number, threshold: number): CheckResult {
  const mastery = masteryAfterCorrectRun(params, run);
  return mastery >= threshold
    ? { name: 'mastery_reachable', status: 'pass', message: `${run} correct answers from L0 reach mastery ${fmt(mastery)} >= ${threshold}` }
    : { name: 'mastery_reachable', status: 'fail', message: `${run} correct answers from L0 reach only mastery ${fmt(mastery)} < ${threshold}` };
}

/**
 * Identifiability: restarts whose log-likelihoods lie within `gap` nats of the best, yet whose
 * parameters differ by more than `spread`, mean the data do not pin the parameters down: a
 * warning, never a failure. Returns null when there is no restart metadata to check.
 */
export function identifiabilityCheck(
  restarts: ConceptParams['restarts'],
  gap: number,
  spread: number,
): CheckResult | null {
  if (!restarts || restarts.length < 2) return null;
  const finite = restarts.filter((r) => Number.isFinite(r.log_likelihood));
  if (finite.length < 2) return null;
  const best = Math.max(...finite.map((r) => r.log_likelihood));
  const close = finite.filter((r) => r.log_likelihood >= best - gap);
  let worst = { name: '', range: 0 };
  for (const name of PARAM_NAMES) {
    const values = close.map((r) => r.params[name]).filter((v) => Number.isFinite(v));
    if (values.length < 2) continue;
    const range = Math.max(...values) - Math.min(...values);
    if (range > worst.range) worst = { name, range };
  }
  if (close.length >= 2 && worst.range > spread) {
    return {
      name: 'identifiability',
      status: 'warn',
      message: `${close.length} restarts within ${gap} nats of the best log-likelihood disagree on ${worst.name} by ${fmt(worst.range)} > ${spread}: the data do not pin the parameters down`,
    };
  }
  return {
    name: 'identifiability',
    status: 'pass',
    message: `${close.length} of ${finite.length} restarts within ${gap} nats of the best; parameters agree within ${spread}`,
  };
}

/** Held-out checks on one metric set (a concept's or the overall one). */
function heldOutChecks(model: MetricSet, rmseLift: number, options: ValidateOptions, gate: boolean, scope: 'concept' | 'overall'): CheckResult[] {
  const soft = (ok: boolean): CheckStatus => (ok ? 'pass' : gate ? 'fail' : 'warn');
  const tooFew = gate ? '' : ` (only ${model.n} rows < ${options.minHeldOutRows}: warning, not failure)`;
  const checks: CheckResult[] = [];
  if (model.auc === null) {
    checks.push({ name: 'held_out_auc', status: 'warn', message: `AUC undefined on ${model.n} rows: only one class of answer` });
  } else {
    const ok = model.auc >= options.minAuc;
    checks.push({ name: 'held_out_auc', status: soft(ok), message: `AUC ${fmt(model.auc)} ${ok ? '>=' : '<'} ${options.minAuc}${ok ? '' : tooFew}` });
  }
  const rmseOk = model.rmse <= options.maxRmse;
  checks.push({ name: 'held_out_rmse', status: soft(rmseOk), message: `RMSE ${fmt(model.rmse)} ${rmseOk ? '<=' : '>'} ${options.maxRmse}${rmseOk ? '' : tooFew}` });
  const liftOk = rmseLift >= options.minLift;
  // The per-concept mean is the best constant for RMSE on the very rows scored, so one concept's
  // model can trail it slightly while ranking answers well: per concept a short lift warns, over
  // all rows together it fails.
  checks.push({
    name: 'held_out_lift',
    status: liftOk ? 'pass' : scope === 'overall' ? 'fail' : 'warn',
    message: `RMSE lift over the per-concept mean ${fmt(rmseLift)} ${liftOk ? '>=' : '<'} ${options.minLift}${liftOk || scope === 'overall' ? '' : ' (per concept a warning; the overall lift gates)'}`,
  });
  return checks;
}

function worstStatus(checks: readonly CheckResult[]): CheckStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (checks.some((c) => c.status === 'warn')) return 'warn';
  return 'pass';
}

/**
 * Run every check on each concept's parameters; with `heldOut` (an `evaluate` of these params
 * on `--input`) also the held-out thresholds per concept and overall. Pure: no I/O. Returns
 * per concept each check {name, status, message}; the gate fails when `summary.failures` is
 * not empty.
 */
export function validateParams(
  entries: readonly ConceptParams[],
  optionsInput: ValidateOptionsInput = {},
  heldOut?: EvaluationReport,
): ValidationReport {
  const options = ValidateOptionsSchema.parse(optionsInput);
  const thresholds = {
    minLearn: options.minLearn,
    minDiscrimination: options.minDiscrimination,
    minLearningGain: options.minLearningGain,
    minAnswersToMaster: options.minAnswersToMaster,
    masteryThreshold: options.masteryThreshold,
  };
  const heldOutByConcept = new Map<string, ConceptEvaluation>();
  for (const c of heldOut?.concepts ?? []) heldOutByConcept.set(c.concept_id, c);

  const concepts: ConceptValidation[] = entries.map((entry) => {
    const { params } = entry;
    const verdict = checkParameterQuality(params, thresholds);
    const checks: CheckResult[] = [validityCheck(verdict.findings)];
    for (const d of DEGENERACY_CHECKS) {
      const finding = verdict.findings.find((f) => f.rule === d.rule);
      checks.push(finding ? { name: d.name, status: 'fail', message: finding.message } : { name: d.name, status: 'pass', message: d.passMessage(params, options) });
    }
    const bounds = boundCheck(entry, options.boundCheck);
    if (bounds) checks.push(bounds);
    checks.push(masteryMonotoneCheck(params));
    checks.push(masteryReachableCheck(params, options.masteryRun, options.masteryThreshold));
    if (heldOut) {
      const evaluation = heldOutByConcept.get(entry.concept_id);
      if (!evaluation || evaluation.model === null || evaluation.n === 0) {
        checks.push({ name: 'held_out', status: 'warn', message: 'no attempts of this concept in --input: held-out thresholds not checked' });
      } else {
        checks.push(...heldOutChecks(evaluation.model, evaluation.lift?.rmse ?? 0, options, evaluation.n >= options.minHeldOutRows, 'concept'));
      }
    }
    if (entry.model) checks.push(variantClassesCheck(params, entry.model, thresholds));
    const identifiability = identifiabilityCheck(entry.restarts, options.identifiabilityGap, options.identifiabilitySpread);
    if (identifiability) checks.push(identifiability);
    return { concept_id: entry.concept_id, params, status: worstStatus(checks), checks };
  });

  let overall: ValidationReport['overall'] = null;
  if (heldOut) {
    const checks = heldOut.overall.model
      ? heldOutChecks(heldOut.overall.model, heldOut.overall.lift?.rmse ?? 0, options, true, 'overall')
      : [{ name: 'held_out', status: 'fail' as const, message: 'no row of --input could be scored: no concept there has parameters' }];
    overall = { status: worstStatus(checks), checks };
  }

  const failures: ValidationFailure[] = [];
  const warnings: ValidationFailure[] = [];
  for (const c of concepts) {
    for (const check of c.checks) {
      if (check.status === 'fail') failures.push({ concept_id: c.concept_id, check: check.name, message: check.message });
      if (check.status === 'warn') warnings.push({ concept_id: c.concept_id, check: check.name, message: check.message });
    }
  }
  for (const check of overall?.checks ?? []) {
    if (check.status === 'fail') failures.push({ concept_id: OVERALL_ID, check: check.name, message: check.message });
    if (check.status === 'warn') warnings.push({ concept_id: OVERALL_ID, check: check.name, message: check.message });
  }

  return {
    concepts,
    overall,
    summary: {
      concepts_checked: concepts.length,
      passed: concepts.filter((c) => c.status === 'pass').length,
      warned: concepts.filter((c) => c.status === 'warn').length,
      failed: concepts.filter((c) => c.status === 'fail').length,
      failures,
      warnings,
    },
    thresholds: Object.fromEntries(Object.entries(options).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v])),
  };
}

/**
 * A variant fit's classes (items, learner groups, item pairs): the validity and degeneracy rules
 * applied to each class's parameters (the concept-level values for the rest). Fails naming, per
 * variant and rule, how many classes break it and the first one.
 */
export function variantClassesCheck(params: BktParams, model: VariantModel, thresholds: QualityThresholds): CheckResult {
  const classFindings = checkVariantQuality(params, model, thresholds).findings.filter((f) => /^multi(gs|learn|prior|pair)_/.test(f.rule));
  const counts = model.variants.map((v) => {
    const list = v === 'multigs' ? model.gs : v === 'multilearn' ? model.learn : v === 'multiprior' ? model.prior : model.pair;
    return `${v} (${list?.length ?? 0} classes)`;
  });
  return classFindings.length === 0
    ? { name: 'classes', status: 'pass', message: `every class of ${counts.join(', ')} passes the validity and degeneracy rules` }
    : { name: 'classes', status: 'fail', message: classFindings.map((f) => f.message).join('; ') };
}

/** The pseudo concept id under which overall held-out checks are reported. */
export const OVERALL_ID = '(overall)';

/**
 * One line per failure, as `bkt validate` prints them on stderr; a concept with an imported name
 * (`labels`, by UUID as Store.labels gives them) is written `<id> (<name>)`.
 */
export function failureLines(report: ValidationReport, labels?: ReadonlyMap<string, string>): string[] {
  return report.summary.failures.map((f) => {
    const label = f.concept_id === OVERALL_ID ? undefined : labels?.get(toUuid(f.concept_id));
    return `concept ${f.concept_id}${label ? ` (${label})` : ''}: ${f.check} failed: ${f.message}; see docs/validation.md`;
  });
}
