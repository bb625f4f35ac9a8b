import { z } from 'zod';
import type { AttemptsTable } from '../data/attempts-table.js';
import { UsageError } from '../errors.js';
import type { FitReport, PredictionMetrics, TrainerOptions } from '../model/fit-types.js';
import { predictionMetrics } from '../model/metrics.js';
import type { BktParams } from '../model/params.js';
import { predictTable, scoredRows } from '../model/predict.js';
import { predictTableVariant, tableColumnSource } from '../model/variants/variant-model.js';
import type { RoleColumns } from '../model/variants/variant-spec.js';
import { toUuid } from '../store/ids.js';
import { seededRandom } from '../model/random.js';
import type {
  BaselineSource,
  ConceptEvaluation,
  CrossValidationMetrics,
  EvaluationReport,
  FoldResult,
  Lift,
  MetricSet,
} from './evaluation-types.js';
import type { ConceptParams } from './params-set.js';
import { subsetByLearners } from './table-subset.js';

export type * from './evaluation-types.js';

/** What `evaluate` may be given besides the data and the params. */
export interface EvaluateOptions {
  /**
   * Rows the baselines' means come from. Default: the evaluated rows themselves (which gives
   * the baselines an in-sample advantage; the report says which was used).
   */
  baselineTable?: AttemptsTable;
  /** Source column of each standard role (ReadSummary.columns): finds the columns variant models name. */
  columns?: RoleColumns;
}

const toMetricSet = (m: PredictionMetrics): MetricSet => ({ n: m.n, auc: m.auc, rmse: m.rmse, log_loss: m.log_loss, accuracy: m.accuracy });

const EMPTY_METRICS: MetricSet = { n: 0, auc: null, rmse: NaN, log_loss: NaN, accuracy: NaN };

function metricsOf(predicted: Float64Array, label: Uint8Array): MetricSet {
  return label.length === 0 ? { ...EMPTY_METRICS } : toMetricSet(predictionMetrics(predicted, label));
}

/** Model against a baseline: positive is better (AUC and accuracy up, RMSE and log loss down). */
export function liftOver(model: MetricSet, baseline: MetricSet): Lift {
  return {
    auc: model.auc === null || baseline.auc === null ? null : model.auc - baseline.auc,
    rmse: baseline.rmse - model.rmse,
    log_loss: baseline.log_loss - model.log_loss,
    accuracy: model.accuracy - baseline.accuracy,
  };
}

/** Mean correctness per concept id (and overall) of a table. */
function meansOf(table: AttemptsTable): { overall: number; byConcept: Map<string, number> } {
  const byConcept = new Map<string, number>();
  let total = 0;
  for (let c = 0; c < table.conceptIds.length; c++) {
    const start = table.sequenceStart[table.conceptSequenceStart[c]];
    const end = table.sequenceStart[table.conceptSequenceStart[c + 1]];
    let sum = 0;
    for (let i = start; i < end; i++) sum += table.correct[i];
    total += sum;
    if (end > start) byConcept.set(table.conceptIds[c], sum / (end - start));
  }
  return { overall: table.length ? total / table.length : NaN, byConcept };
}

/** Row predictions under variant models (a concept without one is standard BKT); unseen classes use the concept-level values. */
function variantPredictions(table: AttemptsTable, entries: ConceptParams[], columns: RoleColumns = {}): Float64Array {
  const byId = new Map(entries.map((e) => [e.concept_id, e]));
  const byConcept = table.conceptIds.map((id) => {
    const e = byId.get(id);
    return e ? { params: e.params, model: e.model } : undefined;
  });
  // Class ids of a fit on the app's tables are UUIDs; a file's raw ids are matched through the same mapping.
  return predictTableVariant(table, byConcept, tableColumnSource(table, columns), toUuid).pCorrect;
}

/** Params per concept index of `table` (undefined where none), from entries keyed by concept id. */
export function paramsForTable(table: AttemptsTable, entries: Iterable<ConceptParams>): (BktParams | undefined)[] {
  const byId = new Map<string, BktParams>();
  for (const e of entries) byId.set(e.concept_id, e.params);
  return table.conceptIds.map((id) => byId.get(id));
}

/**
 * Evaluate parameters on attempts: every row predicted before its answer is seen, each
 * (learner, concept) sequence from L0 as pyBKT's `evaluate` does, scored per concept and
 * overall (AUC, RMSE, log loss, accuracy) beside two baselines, predicting the overall mean
 * and the concept's mean correctness (from `options.baselineTable` when given, else from the
 * evaluated rows; a concept missing from the baseline table falls back to its overall mean).
 * Rows of concepts without parameters are not scored and their concepts are reported as
 * `no_params`. Returns the report and the row-aligned predictions (NaN where not scored).
 */
export function evaluateParams(
  table: AttemptsTable,
  entries: Iterable<ConceptParams>,
  options: EvaluateOptions = {},
): { report: EvaluationReport; predictions: Float64Array } {
  const list = [...entries];
  const params = paramsForTable(table, list);
  const pCorrect = list.some((e) => e.model)
    ? variantPredictions(table, list, options.columns)
    : predictTable(table, params).pCorrect;
  const baselineSource: BaselineSource = options.baselineTable ? 'training_data' : 'evaluated_data';

  // Baseline means: from the evaluated rows that are scored (so model and baselines see the same rows), or the training rows.
  let overallMean: number;
  let conceptMean: Map<string, number>;
  if (options.baselineTable) {
    const means = meansOf(options.baselineTable);
    overallMean = means.overall;
    conceptMean = means.byConcept;
  } else {
    const means = meansOf(table);
    conceptMean = means.byConcept;
    let sum = 0;
    let n = 0;
    for (let i = 0; i < table.length; i++) {
      if (Number.isNaN(pCorrect[i])) continue;
      sum += table.correct[i];
      n++;
    }
    overallMean = n ? sum / n : means.overall;
  }

  const baselineOverall = new Float64Array(table.length).fill(overallMean);
  const baselineConcept = new Float64Array(table.length);
  const concepts: ConceptEvaluation[] = [];
  for (let c = 0; c < table.conceptIds.length; c++) {
    const id = table.conceptIds[c];
    const s0 = table.conceptSequenceStart[c];
    const s1 = table.conceptSequenceStart[c + 1];
    const start = table.sequenceStart[s0];
    const end = table.sequenceStart[s1];
    if (end === start) continue;
    const mean = conceptMean.get(id) ?? overallMean;
    baselineConcept.fill(mean, start, end);
    const label = table.correct.subarray(start, end);
    let correct = 0;
    for (let i = 0; i < label.length; i++) correct += label[i];
    const baseOverall = metricsOf(baselineOverall.subarray(start, end), label);
    const baseConcept = metricsOf(baselineConcept.subarray(start, end), label);
    const scored = params[c] !== undefined;
    const model = scored ? metricsOf(pCorrect.subarray(start, end), label) : null;
    concepts.push({
      concept_id: id,
      status: scored ? 'scored' : 'no_params',
      n: end - start,
      n_users: s1 - s0,
      share_correct: correct / (end - start),
      model,
      baseline_overall_mean: baseOverall,
      baseline_concept_mean: baseConcept,
      lift: model ? liftOver(model, baseConcept) : null,
    });
  }

  const model = scoredRows(pCorrect, table.correct);
  // The baselines over exactly the scored rows: NaN-mask them the way the model's rows are.
  const mask = (baseline: Float64Array) => {
    const masked = new Float64Array(table.length);
    for (let i = 0; i < table.length; i++) masked[i] = Number.isNaN(pCorrect[i]) ? NaN : baseline[i];
    const rows = scoredRows(masked, table.correct);
    return metricsOf(rows.predicted, rows.label);
  };
  const overallModel = model.label.length ? metricsOf(model.predicted, model.label) : null;
  const overallBaselineConcept = mask(baselineConcept);
  const overallBaselineOverall = mask(baselineOverall);
  const noParams = concepts.filter((c) => c.status === 'no_params');
  return {
    report: {
      concepts,
      overall: {
        model: overallModel,
        baseline_overall_mean: overallBaselineOverall,
        baseline_concept_mean: overallBaselineConcept,
        lift: overallModel ? liftOver(overallModel, overallBaselineConcept) : null,
        lift_vs_overall_mean: overallModel ? liftOver(overallModel, overallBaselineOverall) : null,
      },
      baseline_source: baselineSource,
      rows_total: table.length,
      rows_scored: model.label.length,
      rows_no_params: noParams.reduce((sum, c) => sum + c.n, 0),
      concepts_no_params: noParams.map((c) => c.concept_id),
    },
    predictions: pCorrect,
  };
}

// ---------------------------------------------------------------------------------------------
// Cross-validation

/** Options of `crossValidate` (`bkt evaluate --folds K`, `bkt fit --cv K`). */
export const CrossValidateOptionsSchema = z.object({
  /** Number of folds, split by learner. At least 2. */
  folds: z.number().int().min(2).max(100),
  /** Seed of the learner shuffle. Default 42. */
  seed: z.number().int().default(42),
});

/** Options of `crossValidate`: folds, seed, trainer options. */
export interface CrossValidateOptions {
  folds: number;
  seed?: number;
  /** Trainer settings as `bkt fit` takes them; unset ones take fitConcepts' defaults. */
  trainer: Partial<TrainerOptions>;
  /** The trainer; default `fitConcepts` (src/model/fit-concepts.ts). Injected by tests. */
  fit?: (table: AttemptsTable, options: Partial<TrainerOptions>, extras?: { columns?: RoleColumns }) => Promise<FitReport>;
  /** Source column of each standard role (ReadSummary.columns), for model variants. */
  columns?: RoleColumns;
  /** Called after each fold (progress). */
  onFold?: (fold: number, folds: number) => void;
}

/** Per concept, the mean of its held-out metrics over the folds where it was scored. */
export interface ConceptCrossValidation {
  concept_id: string;
  cv_auc_mean: number | null;
  cv_rmse_mean: number;
  cv_log_loss_mean: number;
  cv_accuracy_mean: number;
  /** Folds in which the concept had held-out rows and parameters. */
  cv_folds_scored: number;
  cv_n: number;
}

/** What `crossValidate` returns: held-out metrics per fold, per concept and overall. */
export interface CrossValidationResult extends CrossValidationMetrics {
  per_concept: ConceptCrossValidation[];
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/**
 * Fold of each learner index: a seeded Fisher-Yates shuffle of the learners, then fold =
 * position mod K. Deterministic for a given (learner count, K, seed).
 */
export function learnerFolds(learners: number, folds: number, seed: number): Uint8Array {
  const order = Array.from({ length: learners }, (_, i) => i);
  const random = seededRandom(seed, 'cv-folds', folds);
  for (let i = learners - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const fold = new Uint8Array(learners);
  order.forEach((learner, position) => {
    fold[learner] = position % folds;
  });
  return fold;
}

/**
 * K-fold cross-validation split by learner: each fold fits every concept on the other folds'
 * learners (with `trainer`, as `bkt fit` would) and scores its own learners' attempts, each
 * sequence from L0. Held-out rows of concepts the training part could not fit are counted, not
 * scored. Returns per-fold metrics and their means in the shape `bkt fit --cv` stores.
 * Throws UsageError when there are fewer learners than folds.
 */
export async function crossValidate(table: AttemptsTable, options: CrossValidateOptions): Promise<CrossValidationResult> {
  const { folds, seed } = CrossValidateOptionsSchema.parse({ folds: options.folds, seed: options.seed });
  if (table.learnerIds.length < folds) {
    throw new UsageError(`\`folds\` ${folds} needs at least ${folds} learners; the input has ${table.learnerIds.length}`, 'Use fewer folds');
  }
  const fit = options.fit ?? (await import('../model/fit-concepts.js')).fitConcepts;
  const foldOf = learnerFolds(table.learnerIds.length, folds, seed);
  const perFold: FoldResult[] = [];
  const conceptFolds = new Map<string, MetricSet[]>();
  for (let k = 0; k < folds; k++) {
    const trainKeep = new Uint8Array(foldOf.length);
    const testKeep = new Uint8Array(foldOf.length);
    for (let l = 0; l < foldOf.length; l++) {
      if (foldOf[l] === k) testKeep[l] = 1;
      else trainKeep[l] = 1;
    }
    const train = subsetByLearners(table, trainKeep);
    const test = subsetByLearners(table, testKeep);
    const fitted = await fit(train, options.trainer, { columns: options.columns });
    const entries: ConceptParams[] = fitted.concepts
      .filter((c) => c.status === 'fitted' && c.params)
      .map((c) => ({ concept_id: c.concept_id, params: c.params as BktParams, ...(c.model ? { model: c.model } : {}) }));
    const { report } = evaluateParams(test, entries, { columns: options.columns });
    for (const c of report.concepts) {
      if (!c.model) continue;
      const list = conceptFolds.get(c.concept_id) ?? [];
      list.push(c.model);
      conceptFolds.set(c.concept_id, list);
    }
    perFold.push({
      fold: k,
      train_learners: trainKeep.reduce((a, b) => a + b, 0),
      test_learners: testKeep.reduce((a, b) => a + b, 0),
      train_rows: train.length,
      test_rows: test.length,
      metrics: report.overall.model,
      rows_no_params: report.rows_no_params,
    });
    options.onFold?.(k + 1, folds);
  }
  const scored = perFold.map((f) => f.metrics).filter((m): m is MetricSet => m !== null);
  const aucs = scored.map((m) => m.auc).filter((a): a is number => a !== null);
  const perConcept: ConceptCrossValidation[] = [...conceptFolds.entries()].map(([id, ms]) => {
    const conceptAucs = ms.map((m) => m.auc).filter((a): a is number => a !== null);
    return {
      concept_id: id,
      cv_auc_mean: conceptAucs.length ? mean(conceptAucs) : null,
      cv_rmse_mean: mean(ms.map((m) => m.rmse)),
      cv_log_loss_mean: mean(ms.map((m) => m.log_loss)),
      cv_accuracy_mean: mean(ms.map((m) => m.accuracy)),
      cv_folds_scored: ms.length,
      cv_n: ms.reduce((sum, m) => sum + m.n, 0),
    };
  });
  return {
    cv_auc_mean: aucs.length ? mean(aucs) : null,
    cv_rmse_mean: mean(scored.map((m) => m.rmse)),
    cv_log_loss_mean: mean(scored.map((m) => m.log_loss)),
    cv_accuracy_mean: mean(scored.map((m) => m.accuracy)),
    cv_folds: folds,
    cv_seed: seed,
    per_fold: perFold,
    per_concept: perConcept,
  };
}

/**
 * The cross-validation figures `bkt fit --cv K` stores in one concept's params `metrics` JSON:
 * the overall fold means and per-fold values, plus that concept's own fold means when it was
 * scored (`cv_concept`). Never placeholders: a figure that could not be computed is null.
 */
export function crossValidationMetricsForParams(cv: CrossValidationResult, conceptId?: string): Record<string, unknown> {
  const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
  const concept = conceptId === undefined ? undefined : cv.per_concept.find((c) => c.concept_id === conceptId);
  return {
    cv_auc_mean: finite(cv.cv_auc_mean),
    cv_rmse_mean: finite(cv.cv_rmse_mean),
    cv_log_loss_mean: finite(cv.cv_log_loss_mean),
    cv_accuracy_mean: finite(cv.cv_accuracy_mean),
    cv_folds: cv.cv_folds,
    cv_seed: cv.cv_seed,
    cv_per_fold: cv.per_fold.map((f) => ({
      fold: f.fold,
      n: f.metrics?.n ?? 0,
      auc: finite(f.metrics?.auc ?? null),
      rmse: finite(f.metrics?.rmse ?? null),
      log_loss: finite(f.metrics?.log_loss ?? null),
      accuracy: finite(f.metrics?.accuracy ?? null),
    })),
    ...(concept
      ? {
          cv_concept: {
            auc_mean: finite(concept.cv_auc_mean),
            rmse_mean: finite(concept.cv_rmse_mean),
            log_loss_mean: finite(concept.cv_log_loss_mean),
            accuracy_mean: finite(concept.cv_accuracy_mean),
            folds_scored: concept.cv_folds_scored,
            n: concept.cv_n,
          },
        }
      : {}),
  };
}
