import type { AttemptsTable } from '../data/attempts-table.js';

/** One point of a learning curve: the k-th attempt of every learner who made at least k. */
export interface CurvePoint {
  /** Opportunity number, 1-based. */
  opportunity: number;
  /** Learners with at least `opportunity` attempts at the concept (= rows averaged). */
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
  const firstSequence = table.conceptSequenceStart[concept];
  const lastSequence = table.conceptSequenceStart[concept + 1];
  let longest = 0;
  for (let q = firstSequence; q < lastSequence; q++) {
    longest = Math.max(longest, table.sequenceStart[q + 1] - table.sequenceStart[q]);
  }
  const learners = new Float64Array(longest);
  const correct = new Float64Array(longest);
  const predicted = new Float64Array(longest);
  for (let q = firstSequence; q < lastSequence; q++) {
    const start = table.sequenceStart[q];
    const end = table.sequenceStart[q + 1];
    for (let i = start; i < end; i++) {
      const k = i - start;
      learners[k] += 1;
      correct[k] += table.correct[i];
      predicted[k] += predictions[i];
    }
  }
  const points: CurvePoint[] = [];
  for (let k = 0; k < longest; k++) {
    if (learners[k] < minLearners) break;
    points.push({
      opportunity: k + 1,
      n_learners: learners[k],
      observed: correct[k] / learners[k],
      predicted: predicted[k] / learners[k],
    });
  }
  return { points, max_opportunity: longest, min_learners: minLearners, truncated: points.length < longest };
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
 * predictions crowd together. Pure; rows are those of `rows` (all when omitted).
 */
export function calibrationBins(
  predictions: Float64Array,
  correct: Uint8Array,
  rows: { start: number; end: number } = { start: 0, end: predictions.length },
  bins = 10,
): CalibrationBin[] {
  const n = rows.end - rows.start;
  if (n <= 0) return [];
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = rows.start + i;
  order.sort((a, b) => predictions[a] - predictions[b] || a - b);
  const groups = Math.min(bins, n);
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
