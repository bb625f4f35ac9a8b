/** Result shapes of `evaluate` and `evaluate --folds`; JSON keys snake_case, as every bkt output. */

/** Prediction metrics over a set of rows, each prediction made before its answer is seen. */
export interface MetricSet {
  /** Rows scored. */
  n: number;
  /** ROC AUC (ties counted half, as sklearn's roc_auc_score); null when only one class is present. */
  auc: number | null;
  rmse: number;
  /** Mean negative log-likelihood per row (natural log), predictions clamped to [1e-15, 1 - 1e-15]. */
  log_loss: number;
  /** Share of rows where (p >= 0.5) equals the answer. */
  accuracy: number;
}

/** How much better the model is than a baseline: positive means better (AUC and accuracy up, RMSE and log loss down). */
export interface Lift {
  auc: number | null;
  rmse: number;
  log_loss: number;
  accuracy: number;
}

/** scored, or no_params when the concept had no parameters. */
export type ConceptEvaluationStatus = 'scored' | 'no_params';

/** One concept's held-out metrics beside its baselines. */
export interface ConceptEvaluation {
  concept_id: string;
  /** `no_params`: the concept has attempts but no parameters; its rows are not scored (never at 0.5). */
  status: ConceptEvaluationStatus;
  /** Attempts of the concept in the evaluated data. */
  n: number;
  n_users: number;
  share_correct: number;
  /** Null when `no_params`. */
  model: MetricSet | null;
  /** Predicting the overall mean correctness for every row. */
  baseline_overall_mean: MetricSet;
  /** Predicting the concept's own mean correctness for every row. */
  baseline_concept_mean: MetricSet;
  /** Model against the per-concept mean baseline (the stronger of the two); null when `no_params`. */
  lift: Lift | null;
}

/** Where the baselines' means come from. */
export type BaselineSource = 'evaluated_data' | 'training_data';

/** What `evaluateParams` returns (`bkt evaluate --json`). */
export interface EvaluationReport {
  concepts: ConceptEvaluation[];
  overall: {
    model: MetricSet | null;
    baseline_overall_mean: MetricSet;
    baseline_concept_mean: MetricSet;
    /** Model against the per-concept mean baseline over all scored rows. */
    lift: Lift | null;
    /** Model against the overall mean baseline over all scored rows. */
    lift_vs_overall_mean: Lift | null;
  };
  /**
   * `evaluated_data`: the baselines' means are computed on the evaluated rows themselves (an
   * in-sample advantage for the baselines); `training_data`: on the training rows given.
   */
  baseline_source: BaselineSource;
  rows_total: number;
  rows_scored: number;
  rows_no_params: number;
  concepts_no_params: string[];
}

/** One fold of `crossValidate`. */
export interface FoldResult {
  fold: number;
  train_learners: number;
  test_learners: number;
  train_rows: number;
  test_rows: number;
  /** Held-out metrics over the scored rows of the fold. */
  metrics: MetricSet | null;
  /** Held-out rows of concepts the fold's training part could not fit (skipped, failed, or absent). */
  rows_no_params: number;
}

/** Cross-validation summary, in the shape `bkt fit --cv K` stores in params metrics. */
export interface CrossValidationMetrics {
  cv_auc_mean: number | null;
  cv_rmse_mean: number;
  cv_log_loss_mean: number;
  cv_accuracy_mean: number;
  cv_folds: number;
  cv_seed: number;
  per_fold: FoldResult[];
}
