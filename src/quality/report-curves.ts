import { sequenceCount, type AttemptsTable } from '../data/attempts-table.js';

/** One point of a learning curve: the k-th attempt of every learner who made at least k. */
export interface CurvePoint {
  /** Opportunity number, 1-based. */
  opportunity: number;
  /**
   * Sequences with at least `opportunity` attempts (= rows averaged): learners, for one
   * concept's curve; (learner, concept) pairs, for the overall curve.
   */
  n_learners: number;
  /** Share of those k-th attempts answered correctly. */
  observed: number;
  /** Mean predicted P(correct) of those attempts (made before each answer was seen). */
  predicted: number;
}

export interface LearningCurve {
  points: CurvePoint[];
  /** Longest sequence of the concept: the curve would run to here without the cut-off. */
  max_opportunity: number;
  /** The curve stops before the first opportunity with fewer than this many learners. */
  min_learners: number;
  /** True when opportunities were cut off because too few learners remained. */
  truncated: boolean;
}

/**
 * Accumulate the k-th attempt of sequences `firstSequence` to `lastSequence - 1` into per-k
 * counts, then cut before the first k with fewer than `minSequences` sequences. Sequences whose
 * first prediction is NaN (a concept without parameters) are left out when `scoredOnly`.
 */
function curveOverSequences(
  table: AttemptsTable,
  predictions: Float64Array,
  firstSequence: number,
  lastSequence: number,
  minSequences: number,
  scoredOnly: boolean,
): LearningCurve {
  let longest = 0;
  for (let q = firstSequence; q < lastSequence; q++) {
    if (scoredOnly && !Number.isFinite(predictions[table.sequenceStart[q]])) continue;
    longest = Math.max(longest, table.sequenceStart[q + 1] - table.sequenceStart[q]);
  }
  const sequences = new Float64Array(longest);
  const correct = new Float64Array(longest);
  const predicted = new Float64Array(longest);
  for (let q = firstSequence; q < lastSequence; q++) {
    const start = table.sequenceStart[q];
    const end = table.sequenceStart[q + 1];
    if (scoredOnly && !Number.isFinite(predictions[start])) continue;
    for (let i = start; i < end; i++) {
      const k = i - start;
      sequences[k] += 1;
      correct[k] += table.correct[i];
      predicted[k] += predictions[i];
    }
  }
  const points: CurvePoint[] = [];
  for (let k = 0; k < longest; k++) {
    if (sequences[k] < minSequences) break;
    points.push({
      opportunity: k + 1,
      n_learners: sequences[k],
      observed: correct[k] / sequences[k],
      predicted: predicted[k] / sequences[k],
    });
  }
  return { points, max_opportunity: longest, min_learners: minSequences, truncated: points.length < longest };
}

/**
 * Learning curve of concept index `concept` (Corbett & Anderson 1994's "share correct by
 * opportunity"): for k = 1, 2, ..., the observed share correct and the mean prediction over
 * the k-th attempt of each learner's sequence, and how many learners that is. Stops before the
 * first k with fewer than `minLearners` learners (the counts only fall as k grows). Pure;
 * `predictions[i]` is the prediction of row i of `table`.
 */
export function learningCurve(
  table: AttemptsTable,
  predictions: Float64Array,
  concept: number,
  minLearners = 10,
): LearningCurve {
  return curveOverSequences(table, predictions, table.conceptSequenceStart[concept], table.conceptSequenceStart[concept + 1], minLearners, false);
}

/**
 * The learning curve of the whole model: opportunity k pools the k-th attempt of every
 * (learner, concept) sequence of the concepts that have parameters (a finite prediction), so the
 * one chart shows whether the model follows learning across the data. Stops before the first k
 * with fewer than `minSequences` sequences. Pure.
 */
export function overallLearningCurve(table: AttemptsTable, predictions: Float64Array, minSequences = 10): LearningCurve {
  return curveOverSequences(table, predictions, 0, sequenceCount(table), minSequences, true);
}

/** One bin of a calibration plot. */
export interface CalibrationBin {
  /** Rows in the bin. */
  n: number;
  /** Mean predicted P(correct) of the bin's rows. */
  predicted: number;
  /** Share of the bin's rows answered correctly. */
  observed: number;
}

/**
 * Calibration by predicted deciles: the rows sorted by prediction (ties by row order) and cut
 * into `bins` groups of equal size (the first `n mod bins` groups one row larger), each giving
 * its mean prediction and observed share correct. Equal-count groups avoid empty bins where
 * predictions crowd together. Fewer groups are made where `bins` groups would hold fewer than
 * `minGroupSize` rows each (a share correct of 3 rows says nothing), and none when even one group
 * would. Rows with a NaN prediction are left out. Pure; rows are those of `rows` (all when omitted).
 */
export function calibrationBins(
  predictions: Float64Array,
  correct: Uint8Array,
  rows: { start: number; end: number } = { start: 0, end: predictions.length },
  bins = 10,
  minGroupSize = 1,
): CalibrationBin[] {
  let n = 0;
  for (let i = rows.start; i < rows.end; i++) if (!Number.isNaN(predictions[i])) n++;
  if (n <= 0) return [];
  const order = new Uint32Array(n);
  for (let i = rows.start, j = 0; i < rows.end; i++) if (!Number.isNaN(predictions[i])) order[j++] = i;
  order.sort((a, b) => predictions[a] - predictions[b] || a - b);
  const groups = Math.min(bins, Math.floor(n / Math.max(1, minGroupSize)));
  if (groups < 1) return [];
  const base = Math.floor(n / groups);
  const extra = n % groups;
  const out: CalibrationBin[] = [];
  let at = 0;
  for (let g = 0; g < groups; g++) {
    const size = base + (g < extra ? 1 : 0);
    let sumPredicted = 0;
    let sumCorrect = 0;
    for (let j = at; j < at + size; j++) {
      sumPredicted += predictions[order[j]];
      sumCorrect += correct[order[j]];
    }
    out.push({ n: size, predicted: sumPredicted / size, observed: sumCorrect / size });
    at += size;
  }
  return out;
}

/** Counts of `values` in `bins` equal-width bins over [0, 1] (1 falls in the last bin). */
export function unitHistogram(values: readonly number[], bins = 20): number[] {
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))] += 1;
  }
  return counts;
}
