/**
 * The public surface is deliberate: every name `bkt` and `bkt/kernels` export is listed here (a
 * new export is a decision, made by adding it to the list), and every one has a doc comment at its
 * declaration (what an editor shows the user). Read from the TypeScript sources with the compiler.
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ENTRIES = { bkt: 'src/index.ts', 'bkt/kernels': 'src/kernels.ts' } as const;

const program = ts.createProgram(
  Object.values(ENTRIES).map((f) => ROOT + f),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, noEmit: true, skipLibCheck: true },
);
const checker = program.getTypeChecker();

function exportsOf(file: string): { name: string; documented: boolean }[] {
  const source = program.getSourceFile(ROOT + file)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  return checker.getExportsOfModule(moduleSymbol).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const documented = ts.displayPartsToString(target.getDocumentationComment(checker)).trim().length > 0;
    return { name: symbol.getName(), documented };
  });
}

const EXPECTED: Record<keyof typeof ENTRIES, string[]> = {
  bkt: [
    // errors
    'BktError', 'EXIT_CODES', 'ExitCode', 'InputError', 'NotFoundError', 'QualityGateError', 'ScopeError', 'StorageError', 'UsageError', 'redactConnectionString',
    // reading attempts
    'AttemptRows', 'AttemptsTable', 'AttemptsTableBuilder', 'BuildOptions', 'BuildStats', 'COLUMN_PRESETS', 'COLUMN_PRESET_NAMES', 'COLUMN_ROLES', 'CSV_PARSERS',
    'ColumnMapping', 'ColumnPreset', 'ColumnRole', 'ColumnsUsed', 'CsvParserChoice', 'CsvParserUsed', 'DEFAULT_COLUMNS', 'FilterCounts', 'PYBKT_COLUMN_ALIASES',
    'READ_FORMATS', 'ReadAttemptsInput', 'ReadAttemptsOptions', 'ReadAttemptsOptionsSchema', 'ReadFormat', 'ReadSummary', 'SequenceOrder', 'SimulationOptions',
    'conceptLearnerCount', 'conceptRowRange', 'formatFromPath', 'parseReadAttemptsOptions', 'readAttempts', 'sequenceCount', 'simulateAttempts',
    // fitting
    'BUILTIN_DEFAULT_PARAMS', 'BktParams', 'ConceptFitResult', 'ConceptFitStatus', 'DEFAULT_BOUNDS', 'DEFAULT_MASTERY_THRESHOLD', 'DEFAULT_QUALITY_THRESHOLDS',
    'FitAttemptsOptions', 'FitAttemptsResult', 'FitConceptsExtras', 'FitProgress', 'FitReport', 'FitSummary', 'NO_BOUNDS', 'PARAM_NAMES', 'ParamBounds', 'ParamName',
    'PredictionMetrics', 'QualityFinding', 'QualityThresholds', 'QualityVerdict', 'RestartResult', 'TRAINER_DEFAULTS', 'TrainerOptions', 'checkParameterQuality',
    'fitAttempts', 'fitConcepts', 'projectOntoBounds', 'resolveTrainerOptions', 'trainerOptionsSchema',
    // prediction, metrics, evaluation, validation
    'BaselineSource', 'CHECK_STATUSES', 'CheckResult', 'CheckStatus', 'ConceptCrossValidation', 'ConceptEvaluation', 'ConceptEvaluationStatus', 'ConceptParams',
    'ConceptValidation', 'CrossValidateOptions', 'CrossValidateOptionsSchema', 'CrossValidationMetrics', 'CrossValidationResult', 'EvaluateOptions', 'EvaluationReport',
    'FoldResult', 'Lift', 'MetricSet', 'OVERALL_ID', 'PredictOptions', 'PredictResult', 'runPredict', 'TablePredictions', 'ValidateOptions', 'ValidateOptionsInput', 'ValidateOptionsSchema', 'ValidationFailure',
    'ValidationReport', 'areaUnderCurve', 'crossValidate', 'evaluateParams', 'failureLines', 'identifiabilityCheck', 'learnerFolds', 'liftOver', 'masteryAfterCorrectRun',
    'masteryMonotoneCheck', 'masteryReachableCheck', 'paramsByConcept', 'paramsForTable', 'predictTable', 'predictionMetrics', 'scoreConcept', 'subsetByLearners',
    'validateParams', 'validationToJUnit',
    // params files
    'LoadedParams', 'PARAMS_CSV_COLUMNS', 'PARAMS_FILE_FORMAT', 'PARAMS_FILE_VERSION', 'ParamsFileEntry', 'ParamsSource', 'fitReportToCsv', 'fitReportToJson',
    'loadParams', 'readParamsFile', 'writeParamsFile',
    // online update maths
    'PROBABILITY_EPSILON', 'UpdateTrace', 'clampProbability', 'posteriorMastery', 'predictCorrect', 'traceUpdate', 'updateMastery',
    // the Store
    'AttemptOutcome', 'BackendName', 'DEFAULT_DB_PATH', 'DbTarget', 'FinishRunInput', 'ImportResult', 'LedgerRow', 'ListParamsFilter', 'OpenStoreOptions', 'RUN_TRIGGERS',
    'ReadAttemptsFilter', 'ReadAttemptsResult', 'ResolvedParams', 'RunFilter', 'RunRow', 'RunStatus', 'RunTrigger', 'SaveParamsInput', 'SaveParamsOptions',
    'SchemaDifference', 'SkillParamsRow', 'SkippedCounts', 'SnapshotFilter', 'SnapshotInput', 'SnapshotRow', 'StartRunInput', 'StateFilter', 'StateInput', 'Store',
    'StoreTransaction', 'UserSkillStateRow', 'isUuid', 'openStore', 'resolveDbTarget', 'toUuid',
    // mastery services and scopes, export, jobs
    'ADMIN_SCOPE', 'ApplyBatchOptions', 'ApplyOptions', 'AttemptIdentity', 'BatchAttempt', 'BatchColumns', 'BatchInput', 'BatchSummary', 'ConceptSummary', 'EXPORT_FORMATS',
    'EXPORT_KINDS', 'ExportFormat', 'ExportKind', 'ExportOptions', 'KeptState', 'MasteryFilter', 'MasteryItem', 'MasteryResult', 'Outcome', 'ParamsUsed',
    'PersistFitInput', 'PersistFitResult', 'PersistedConcept', 'ReadBatchOptions', 'RebuildOptions', 'RebuildSummary', 'RecomputeHooks', 'RecomputeInput',
    'RecomputeResult', 'Rejection', 'Scope', 'SessionSummary', 'SingleAttempt', 'SnapshotFilterInput', 'UpdateCommitter', 'UpdateCommitterOptions', 'UpdateResult', 'applyAttempt',
    'applyBatch', 'applySession',
    'exportRows', 'hashAttemptKey', 'learnerScope', 'persistFitReport', 'queryMastery', 'readBatchAttempts', 'rebuildStates', 'recompute', 'snapshotStates',
  ],
  'bkt/kernels': [
    'BktParams', 'DistinctSequences', 'EmResult', 'EmSettings', 'EmWorkspace', 'MetricsAccumulator', 'ParamBounds', 'STATISTICS_LENGTH', 'SequenceSlice', 'Stat',
    'accumulateSequence', 'areaUnderCurve', 'areaUnderCurveSplit', 'distinctSequences', 'expectationStep', 'maximizationStep', 'mergeStatistics', 'predictionMetrics',
    'predictSequence', 'projectOntoBounds', 'resetStatistics', 'runEm', 'runPlainEm', 'runSquaremEm', 'sliceShape', 'statisticsLogLikelihood',
  ],
};

describe.each(Object.entries(ENTRIES) as [keyof typeof ENTRIES, string][])('the %s entry point', (entry, file) => {
  const found = exportsOf(file);

  it('exports exactly the listed names', () => {
    expect(found.map((e) => e.name).sort()).toEqual([...EXPECTED[entry]].sort());
  });

  it('has a doc comment on every export', () => {
    expect(found.filter((e) => !e.documented).map((e) => e.name)).toEqual([]);
  });
});
