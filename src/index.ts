/**
 * bkt as a library: `import { readAttempts, fitConcepts, openStore, applyAttempt } from 'bkt'`.
 *
 * This list is deliberate: everything here is documented in docs/library.md and kept stable;
 * modules not re-exported here (or in `bkt/kernels`) are internal and may change without notice.
 * The CLI is a thin layer over exactly these functions, so a library call and the matching
 * `bkt` command give the same numbers.
 *
 * Sections: errors; reading attempts; fitting; prediction and metrics; evaluation and
 * cross-validation; validation; params files; the online update maths; the Store; the mastery
 * services (each takes a caller Scope); export; fit-and-persist jobs.
 */

// ------------------------------------------------------------------ errors and exit codes
export {
  EXIT_CODES,
  type ExitCode,
  BktError,
  UsageError,
  InputError,
  NotFoundError,
  StorageError,
  QualityGateError,
  ScopeError,
  redactConnectionString,
} from './errors.js';

// ------------------------------------------------------------------ reading attempts
export { type AttemptsTable, sequenceCount, conceptRowRange, conceptLearnerCount } from './data/attempts-table.js';
export {
  AttemptsTableBuilder,
  type AttemptRows,
  type BuildOptions,
  type BuildStats,
  type SequenceOrder,
} from './data/attempts-table-builder.js';
export {
  readAttempts,
  parseReadAttemptsOptions,
  formatFromPath,
  ReadAttemptsOptionsSchema,
  READ_FORMATS,
  type ReadAttemptsInput,
  type ReadAttemptsOptions,
  type ReadFormat,
  type ReadSummary,
} from './data/read-attempts.js';
export type { FilterCounts } from './data/row-sink.js';
export {
  COLUMN_ROLES,
  COLUMN_PRESETS,
  COLUMN_PRESET_NAMES,
  DEFAULT_COLUMNS,
  PYBKT_COLUMN_ALIASES,
  type ColumnRole,
  type ColumnMapping,
  type ColumnPreset,
  type ColumnsUsed,
} from './data/columns.js';
export { CSV_PARSERS, type CsvParserChoice, type CsvParserUsed } from './data/read-csv.js';
export { simulateAttempts, type SimulationOptions } from './model/simulate.js';

// ------------------------------------------------------------------ fitting
export {
  type BktParams,
  type ParamBounds,
  type ParamName,
  PARAM_NAMES,
  DEFAULT_BOUNDS,
  NO_BOUNDS,
  BUILTIN_DEFAULT_PARAMS,
  DEFAULT_MASTERY_THRESHOLD,
  projectOntoBounds,
} from './model/params.js';
export {
  fitConcepts,
  resolveTrainerOptions,
  trainerOptionsSchema,
  TRAINER_DEFAULTS,
  type FitProgress,
  type FitConceptsExtras,
} from './model/fit-concepts.js';
export type {
  TrainerOptions,
  ConceptFitResult,
  ConceptFitStatus,
  FitReport,
  FitSummary,
  RestartResult,
  PredictionMetrics,
} from './model/fit-types.js';
export {
  checkParameterQuality,
  DEFAULT_QUALITY_THRESHOLDS,
  type QualityThresholds,
  type QualityFinding,
  type QualityVerdict,
} from './model/quality.js';
export { fitAttempts, type FitAttemptsOptions, type FitAttemptsResult } from './fit/fit-attempts.js';

// ------------------------------------------------------------------ prediction and metrics
export { predictTable, scoreConcept, type TablePredictions } from './model/predict.js';
export { areaUnderCurve, predictionMetrics } from './model/metrics.js';
export { runPredict, type PredictOptions, type PredictResult } from './predict/run-predict.js';

// ------------------------------------------------------------------ evaluation and cross-validation
export {
  evaluateParams,
  crossValidate,
  learnerFolds,
  liftOver,
  paramsForTable,
  CrossValidateOptionsSchema,
  type EvaluateOptions,
  type CrossValidateOptions,
  type CrossValidationResult,
  type ConceptCrossValidation,
} from './quality/evaluate.js';
export type {
  MetricSet,
  Lift,
  ConceptEvaluation,
  ConceptEvaluationStatus,
  BaselineSource,
  EvaluationReport,
  FoldResult,
  CrossValidationMetrics,
} from './quality/evaluation-types.js';
export { type ConceptParams, paramsByConcept } from './quality/params-set.js';
export { subsetByLearners } from './quality/table-subset.js';

// ------------------------------------------------------------------ validation checks
export {
  validateParams,
  ValidateOptionsSchema,
  CHECK_STATUSES,
  OVERALL_ID,
  masteryMonotoneCheck,
  masteryReachableCheck,
  masteryAfterCorrectRun,
  identifiabilityCheck,
  failureLines,
  type CheckStatus,
  type CheckResult,
  type ConceptValidation,
  type ValidationFailure,
  type ValidationReport,
  type ValidateOptions,
  type ValidateOptionsInput,
} from './quality/validate.js';
export { validationToJUnit } from './quality/junit.js';

// ------------------------------------------------------------------ params files
export {
  readParamsFile,
  writeParamsFile,
  fitReportToCsv,
  fitReportToJson,
  PARAMS_FILE_FORMAT,
  PARAMS_FILE_VERSION,
  PARAMS_CSV_COLUMNS,
  type ParamsFileEntry,
} from './params-file.js';
export { loadParams, type ParamsSource, type LoadedParams } from './quality/load-params.js';

// ------------------------------------------------------------------ the online update maths
export {
  predictCorrect,
  posteriorMastery,
  updateMastery,
  traceUpdate,
  clampProbability,
  PROBABILITY_EPSILON,
  type UpdateTrace,
} from './model/online-update.js';

// ------------------------------------------------------------------ the Store
export { openStore, resolveDbTarget, DEFAULT_DB_PATH } from './store/open-store.js';
export {
  RUN_TRIGGERS,
  type Store,
  type StoreTransaction,
  type OpenStoreOptions,
  type DbTarget,
  type BackendName,
  type SkillParamsRow,
  type UserSkillStateRow,
  type SnapshotRow,
  type RunRow,
  type RunTrigger,
  type RunStatus,
  type LedgerRow,
  type AttemptOutcome,
  type ResolvedParams,
  type ReadAttemptsFilter,
  type ReadAttemptsResult,
  type SkippedCounts,
  type ImportResult,
  type SaveParamsInput,
  type SaveParamsOptions,
  type ListParamsFilter,
  type StartRunInput,
  type FinishRunInput,
  type StateFilter,
  type StateInput,
  type SnapshotFilter,
  type SnapshotInput,
  type RunFilter,
} from './store/store.js';
export type { SchemaDifference } from './store/schema.js';
export { toUuid, isUuid } from './store/ids.js';

// ------------------------------------------------------------------ mastery services and caller scopes
export { type Scope, ADMIN_SCOPE, learnerScope } from './mastery/scope.js';
export {
  applyAttempt,
  applyBatch,
  type SingleAttempt,
  type ApplyOptions,
  type ApplyBatchOptions,
  type UpdateResult,
  type ParamsUsed,
  type BatchSummary,
} from './mastery/update-service.js';
export type { Outcome } from './mastery/apply-core.js';
export { UpdateCommitter, type UpdateCommitterOptions } from './mastery/update-committer.js';
export {
  readBatchAttempts,
  type BatchAttempt,
  type BatchInput,
  type BatchColumns,
  type Rejection,
  type ReadBatchOptions,
} from './mastery/batch-input.js';
export { hashAttemptKey, type AttemptIdentity } from './mastery/attempt-key.js';
export {
  applySession,
  rebuildStates,
  type SessionSummary,
  type RebuildOptions,
  type RebuildSummary,
  type KeptState,
} from './mastery/session-update.js';
export {
  queryMastery,
  snapshotStates,
  type MasteryFilter,
  type MasteryItem,
  type MasteryResult,
  type ConceptSummary,
  type SnapshotFilterInput,
} from './mastery/query.js';

// ------------------------------------------------------------------ export
export { exportRows, type ExportOptions } from './export/export-rows.js';
export { EXPORT_KINDS, EXPORT_FORMATS, type ExportKind, type ExportFormat } from './export/columns.js';

// ------------------------------------------------------------------ fit-and-persist jobs
export { persistFitReport, type PersistFitInput, type PersistFitResult, type PersistedConcept } from './jobs/persist-fit.js';
export { recompute, type RecomputeInput, type RecomputeResult, type RecomputeHooks } from './jobs/recompute.js';
