import type { PredictionMetrics } from './fit-types.js';

/** Predictions are clipped to [eps, 1 - eps] for log loss, as scikit-learn did (1e-15). */
const LOG_LOSS_EPSILON = 1e-15;

/**
 * Area under the ROC curve: the probability that a random correct answer got a higher
 * prediction than a random wrong one, ties counting one half (Mann-Whitney U; equals
 * scikit-learn's roc_auc_score). Null when only one class is present.
 * Sorts the two classes' predictions natively and counts with two pointers: O(n log n), no
 * comparator callbacks.
 */
export function areaUnderCurve(predicted: Float64Array, label: Uint8Array): number | null {
  let positives = 0;
  for (let i = 0; i < label.length; i++) positives += label[i];
  const positive = new Float64Array(positives);
  const negative = new Float64Array(label.length - positives);
  for (let i = 0, p = 0, n = 0; i < label.length; i++) {
    if (label[i]) positive[p++] = predicted[i];
    else negative[n++] = predicted[i];
  }
  return areaUnderCurveSplit(positive, negative);
}

/** AUC from the predictions of correct and of wrong answers, each array sorted in place. */
export function areaUnderCurveSplit(positive: Float64Array, negative: Float64Array): number | null {
  const positives = positive.length;
  const negatives = negative.length;
  if (positives === 0 || negatives === 0) return null;
  positive.sort();
  negative.sort();
  // For each positive: negatives strictly below count 1, equal ones 1/2.
  let below = 0;
  let belowOrEqual = 0;
  let wins = 0;
  for (let p = 0; p < positives; p++) {
    const x = positive[p];
    while (below < negatives && negative[below] < x) below++;
    if (belowOrEqual < below) belowOrEqual = below;
    while (belowOrEqual < negatives && negative[belowOrEqual] <= x) belowOrEqual++;
    wins += below + (belowOrEqual - below) / 2;
  }
  return wins / positives / negatives;
}

/**
 * Metrics accumulated one prediction at a time, holding only the predictions themselves
 * (8 bytes each, split by label for the AUC): the in-sample metrics of a 10 M-attempt concept
 * need no per-row label copy. `expected` sizes are the counts of correct and wrong answers.
 */
export class MetricsAccumulator {
  private readonly positive: Float64Array;
  private readonly negative: Float64Array;
  private nPositive = 0;
  private nNegative = 0;
  private squared = 0;
  private logLoss = 0;
  private hits = 0;

  constructor(expectedCorrect: number, expectedWrong: number) {
    this.positive = new Float64Array(expectedCorrect);
    this.negative = new Float64Array(expectedWrong);
  }

  add(p: number, y: number): void {
    const error = y - p;
    this.squared += error * error;
    const clipped = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
    this.logLoss -= y ? Math.log(clipped) : Math.log(1 - clipped);
    this.hits += (p >= 0.5 ? 1 : 0) === y ? 1 : 0;
    if (y) this.positive[this.nPositive++] = p;
    else this.negative[this.nNegative++] = p;
  }

  result(): PredictionMetrics {
    const n = this.nPositive + this.nNegative;
    return {
      auc: areaUnderCurveSplit(this.positive.subarray(0, this.nPositive), this.negative.subarray(0, this.nNegative)),
      rmse: Math.sqrt(this.squared / n),
      log_loss: this.logLoss / n,
      accuracy: this.hits / n,
      n,
    };
  }
}

/**
 * AUC, RMSE, log loss (natural log, mean) and accuracy (predict correct when p >= 0.5) of
 * predictions against 0/1 labels. All NaN-free inputs; an empty input gives NaN metrics.
 */
export function predictionMetrics(predicted: Float64Array, label: Uint8Array): PredictionMetrics {
  const n = label.length;
  let squared = 0;
  let logLoss = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const p = predicted[i];
    const y = label[i];
    const error = y - p;
    squared += error * error;
    const clipped = Math.min(1 - LOG_LOSS_EPSILON, Math.max(LOG_LOSS_EPSILON, p));
    logLoss -= y ? Math.log(clipped) : Math.log(1 - clipped);
    hits += (p >= 0.5 ? 1 : 0) === y ? 1 : 0;
  }
  return {
    auc: areaUnderCurve(predicted, label),
    rmse: Math.sqrt(squared / n),
    log_loss: logLoss / n,
    accuracy: hits / n,
    n,
  };
}
