import type { AttemptsTable } from '../data/attempts-table.js';
import { predictSequence } from './em-kernels.js';
import { MetricsAccumulator } from './metrics.js';
import type { PredictionMetrics } from './fit-types.js';
import type { BktParams } from './params.js';

/** Per-row predictions for a whole table. */
export interface TablePredictions {
  /** P(correct) before each answer is seen; NaN for rows of concepts without parameters. */
  pCorrect: Float64Array;
  /** P(known) before each answer is seen; NaN where no parameters. */
  pMastery: Float64Array;
}

/**
 * Predict every attempt before its answer is seen, each (learner, concept) sequence starting
 * again from L0 (pyBKT's `predict`/`evaluate`). `paramsByConcept[c]` gives concept index c's
 * parameters, or undefined when it has none (its rows stay NaN: never scored at 0.5).
 */
export function predictTable(table: AttemptsTable, paramsByConcept: (BktParams | undefined)[]): TablePredictions {
  const pCorrect = new Float64Array(table.length).fill(Number.NaN);
  const pMastery = new Float64Array(table.length).fill(Number.NaN);
  for (let c = 0; c < table.conceptIds.length; c++) {
    const params = paramsByConcept[c];
    if (!params) continue;
    for (let q = table.conceptSequenceStart[c]; q < table.conceptSequenceStart[c + 1]; q++) {
      predictSequence(
        params.p_L0,
        params.p_T,
        params.p_F,
        params.p_S,
        params.p_G,
        table.correct,
        table.sequenceStart[q],
        table.sequenceStart[q + 1],
        pCorrect,
        pMastery,
      );
    }
  }
  return { pCorrect, pMastery };
}

/** The rows [start, end) whose prediction is a number, compacted into new arrays for metrics. */
export function scoredRows(
  predicted: Float64Array,
  correct: Uint8Array,
  start = 0,
  end = predicted.length,
): { predicted: Float64Array; label: Uint8Array } {
  let n = 0;
  for (let i = start; i < end; i++) if (!Number.isNaN(predicted[i])) n++;
  const outPredicted = new Float64Array(n);
  const outLabel = new Uint8Array(n);
  for (let i = start, k = 0; i < end; i++) {
    if (Number.isNaN(predicted[i])) continue;
    outPredicted[k] = predicted[i];
    outLabel[k++] = correct[i];
  }
  return { predicted: outPredicted, label: outLabel };
}

/**
 * In-sample (or held-out) metrics of one concept's rows under `params`, each row predicted
 * before its answer is seen. Memory: the predictions only (8 bytes per attempt), plus a buffer
 * of the longest sequence.
 */
export function scoreConcept(table: AttemptsTable, conceptIndex: number, params: BktParams): PredictionMetrics {
  const firstSequence = table.conceptSequenceStart[conceptIndex];
  const lastSequence = table.conceptSequenceStart[conceptIndex + 1];
  let longest = 0;
  let correctCount = 0;
  for (let q = firstSequence; q < lastSequence; q++) {
    longest = Math.max(longest, table.sequenceStart[q + 1] - table.sequenceStart[q]);
  }
  const rowStart = table.sequenceStart[firstSequence];
  const rowEnd = table.sequenceStart[lastSequence];
  for (let i = rowStart; i < rowEnd; i++) correctCount += table.correct[i];
  const metrics = new MetricsAccumulator(correctCount, rowEnd - rowStart - correctCount);
  const buffer = new Float64Array(longest);
  for (let q = firstSequence; q < lastSequence; q++) {
    const start = table.sequenceStart[q];
    const end = table.sequenceStart[q + 1];
    predictSequence(params.p_L0, params.p_T, params.p_F, params.p_S, params.p_G, table.correct, start, end, buffer, undefined, start);
    for (let i = start; i < end; i++) metrics.add(buffer[i - start], table.correct[i]);
  }
  return metrics.result();
}
