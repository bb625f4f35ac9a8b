import type { BetaPrior } from './em-trainer.js';
import type { BktParams, ParamBounds } from './params.js';
import type { BoundWarning, QualityFinding, QualityThresholds } from './quality.js';
import type { VariantModel } from './variants/variant-model.js';
import type { RoleColumns, VariantSpec } from './variants/variant-spec.js';

/** Trainer settings shared by `fit`, `recompute`, `evaluate --folds` and `fit --cv`. */
export interface TrainerOptions {
  /** The fitting method (`map`, `box`, `mle`; see FIT_METHODS); sets the next five options' defaults. Default map. */
  method: 'map' | 'box' | 'mle';
  /** Random restarts per concept; the best log-likelihood wins (ties: lowest restart index). Default 5. */
  restarts: number;
  /** Seed of the restart generator; each (concept, restart) draws from its own derived stream. Default 42. */
  seed: number;
  /** EM iterations per restart at most. Default 1000. */
  maxIterations: number;
  /** Stop when the log-likelihood gain of one EM step is at most tolerance x n_attempts (nats per attempt). Default 1e-9. */
  tolerance: number;
  /** Box every M-step projects onto. Default: the method's (NO_BOUNDS for map and mle, DEFAULT_BOUNDS for box). */
  bounds: ParamBounds;
  /** MAP-EM: a Beta prior per parameter (mean, strength in pseudo-observations); null = maximum likelihood. Default: DEFAULT_PRIOR with map. */
  prior: BetaPrior | null;
  /** Every M-step keeps G <= (1 - S) - this margin; null = no such constraint. */
  plausibilityMargin: number | null;
  /** Every M-step keeps the mastery after one correct answer from L0 at most this; null = no such constraint. */
  masteryCap: number | null;
  /**
   * How the kept restart is chosen: `best` = the highest objective (log posterior, the
   * log-likelihood without a prior); `plausible` = the highest among restarts whose parameters are
   * valid, not degenerate and on no bound, falling back to `best` when none is.
   */
  restartSelection: 'best' | 'plausible';
  /** Fit the forgetting parameter p_F (otherwise held at 0). Default false. */
  forgets: boolean;
  /** Parameters held fixed at the given values (`--fix p_G=0.25`). Default {}. */
  fixed: Partial<BktParams>;
  /**
   * Per concept id, parameters held fixed for that concept only (`--fix-from FILE`); they take
   * precedence over `fixed` for the same parameter. Default none.
   */
  fixedByConcept?: Record<string, Partial<BktParams>>;
  /** Concepts with fewer attempts are skipped, never fitted. Default 10. */
  minAttempts: number;
  /** Concepts with fewer distinct learners are skipped. Default 3. */
  minUsers: number;
  /** Worker threads; 0 = decide from the work size and the cores. Results do not depend on it. Default 0. */
  workers: number;
  /** Quality thresholds for each fit's verdict. */
  quality: QualityThresholds;
  /** Model variants (multigs, multilearn, multiprior, multipair) and their columns. Default none (standard BKT). */
  variants?: VariantSpec;
  /** Explicit initial parameters per restart (tests against pyBKT's recorded starts). */
  initialParams?: (conceptId: string, restart: number) => BktParams | undefined;
  /**
   * `--warm-start`: parameters to start one extra restart from (index `restarts`), e.g. the
   * concept's active set, so a refit near the last optimum converges in a few steps.
   */
  warmStarts?: (conceptId: string) => BktParams | undefined;
}

/** In-sample (or held-out) prediction metrics, each prediction made before its answer is seen. */
export interface PredictionMetrics {
  auc: number | null;
  rmse: number;
  log_loss: number;
  accuracy: number;
  n: number;
}

/** One restart's outcome, kept in fit metadata (identifiability checks compare them). */
export interface RestartResult {
  restart: number;
  initial: BktParams;
  params: BktParams;
  log_likelihood: number;
  /** Log-likelihood plus log prior density: what EM climbed (equal to log_likelihood without a prior). */
  log_posterior: number;
  iterations: number;
  converged: boolean;
  /** True for the restart started from a warm start. */
  warm_start?: boolean;
}

/** A concept's fit status: fitted, skipped (too few attempts or learners), failed, or not_found (a requested concept with no attempts in the input, exit 4). */
export type ConceptFitStatus = 'fitted' | 'skipped' | 'failed' | 'not_found';

/** One concept's result as `bkt fit --json` prints it (snake_case keys, as the schema). */
export interface ConceptFitResult {
  concept_id: string;
  /**
   * The concept's name as `bkt import` kept it (null when it has none), when the attempts came
   * from a database, where concept ids are UUIDs; absent for a file, whose ids are its names.
   */
  concept_label?: string | null;
  status: ConceptFitStatus;
  /** Why the concept was skipped or failed; null when fitted. */
  reason: string | null;
  params: BktParams | null;
  log_likelihood: number | null;
  iterations: number | null;
  converged: boolean | null;
  n_attempts: number;
  n_users: number;
  metrics: PredictionMetrics | null;
  valid: boolean | null;
  degenerate: boolean | null;
  /** Each violated validity or degeneracy rule, named. */
  violations: QualityFinding[];
  /** Parameters held on a bound of the fit (box or plausibility margin), named; empty when none. */
  warnings: BoundWarning[];
  restarts: RestartResult[];
  /** The parameters the warm-start restart began from; null without one. */
  warm_start: BktParams | null;
  /** Cross-validation figures (`bkt fit --cv K`), stored with the params' metrics; absent without --cv. */
  cv?: Record<string, unknown>;
  /** A variant fit's class parameters (`params` then holds the concept-level values); absent for standard BKT. */
  model?: VariantModel;
}

/** Totals of a fit, as `bkt fit --json` prints them under `summary`. */
export interface FitSummary {
  concepts_total: number;
  fitted: number;
  skipped: number;
  failed: number;
  /** Requested concepts with no attempts in the input (set when there are any). */
  not_found?: number;
  invalid: number;
  degenerate: number;
  /** Fitted concepts with a parameter held on a bound (see ConceptFitResult.warnings). */
  at_bound: number;
  n_attempts: number;
  total_log_likelihood: number;
  seconds: number;
  workers: number;
}

/** What `fitConcepts` returns: each concept's result, the totals and the settings used. */
export interface FitReport {
  concepts: ConceptFitResult[];
  summary: FitSummary;
  /** The trainer settings used (bounds, restarts, seed, tolerance...), stored in params metrics. */
  settings: Omit<TrainerOptions, 'initialParams' | 'warmStarts' | 'quality'> & { quality: QualityThresholds };
}

/** Progress of `fitConcepts`, in restarts. */
export interface FitProgress {
  restartsDone: number;
  restartsTotal: number;
}

/** What `fitConcepts` may be given besides the table and the trainer options. */
export interface FitConceptsExtras {
  /** Fit only these concept indices of the table (default: all). */
  conceptIndices?: number[];
  onProgress?: (progress: FitProgress) => void;
  /** Source column of each standard role (ReadSummary.columns): lets variants refuse per-attempt prior columns. */
  columns?: RoleColumns;
}
