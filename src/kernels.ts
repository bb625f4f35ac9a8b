/**
 * `bkt/kernels`: the numerical core under `fitConcepts` and `evaluateParams`, for callers who
 * build their own trainer loop or check the maths (docs/algorithms.md). The online update maths
 * (`updateMastery` and its parts) work on single numbers and are exported by `bkt` itself.
 *
 * Kernels are small pure functions over typed arrays and a (start, end) row range: they write into
 * buffers the caller provides and allocate nothing. An AttemptsTable's `correct` column and
 * `sequenceStart` offsets are exactly what they take.
 */
export {
  Stat,
  STATISTICS_LENGTH,
  resetStatistics,
  statisticsLogLikelihood,
  mergeStatistics,
  accumulateSequence,
  predictSequence,
} from './model/em-kernels.js';
export {
  runEm,
  runPlainEm,
  runSquaremEm,
  expectationStep,
  maximizationStep,
  distinctSequences,
  sliceShape,
  EmWorkspace,
  type EmSettings,
  type EmResult,
  type SequenceSlice,
  type DistinctSequences,
} from './model/em-trainer.js';
export { areaUnderCurve, areaUnderCurveSplit, predictionMetrics, MetricsAccumulator } from './model/metrics.js';
export { projectOntoBounds, type BktParams, type ParamBounds } from './model/params.js';
