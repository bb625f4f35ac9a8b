/**
 * Activate only when better: before a new fit replaces a concept's active parameters, both are
 * scored on attempts the new fit did not see, and the active set stays when the new one is worse
 * by more than a margin. docs/validation.md explains the choices.
 */
import type { AttemptsTable } from '../data/attempts-table.js';
import { predictSequence } from '../model/em-kernels.js';
import type { PredictionMetrics } from '../model/fit-types.js';
import { predictionMetrics } from '../model/metrics.js';
import type { BktParams } from '../model/params.js';
import { learnerFolds } from '../quality/evaluate.js';
import { subsetByLearners, subsetRows } from '../quality/table-subset.js';

/** Where the held-out attempts come from: a seeded share of the learners, or every attempt from a date on. */
export type HoldoutSpec = { kind: 'learners'; fraction: number; seed: number } | { kind: 'from'; date: string; ms: number };

/** Default share of learners held out: 1 in 5 (the fold 0 of a 5-fold split by learner). */
export const DEFAULT_HOLDOUT_FOLDS = 5;
/** Default margin: keep the active set when the new fit's held-out RMSE is worse by more than this. */
export const DEFAULT_ACTIVATION_MARGIN = 0.005;
/** Fewer held-out attempts than this for a concept: too noisy to compare, the new fit is activated. */
export const MIN_COMPARISON_ROWS = 50;

export interface HoldoutSplit {
  /** The attempts a candidate that must be compared is fitted on. */
  train: AttemptsTable;
  /** Whether a row of the full table is held out. */
  heldOut: (row: number) => boolean;
  /** What was held out, for summaries. */
  description: string;
}

/**
 * Split `table` for the comparison. `learners`: fold 0 of a seeded 5-fold split by learner is
 * held out (learnerFolds, as `--cv`), the rest is the training part. `from`: attempts answered
 * at or after the date are held out; rows without a time stay in training.
 */
export function holdoutSplit(table: AttemptsTable, spec: HoldoutSpec): HoldoutSplit {
  if (spec.kind === 'learners') {
    const folds = Math.max(2, Math.round(1 / spec.fraction));
    const fold = learnerFolds(table.learnerIds.length, folds, spec.seed);
    const keep = new Uint8Array(fold.length);
    for (let l = 0; l < fold.length; l++) keep[l] = fold[l] === 0 ? 0 : 1;
    return {
      train: subsetByLearners(table, keep),
      heldOut: (row) => keep[table.learner[row]] === 0,
      description: `1 in ${folds} learners held out (seed ${spec.seed})`,
    };
  }
  const time = table.time;
  const heldOut = (row: number) => time !== null && time[row] >= spec.ms;
  return { train: subsetRows(table, (row) => !heldOut(row)), heldOut, description: `attempts from ${spec.date} on held out` };
}

/**
 * Metrics of one concept's held-out rows under `params`: each whole sequence is predicted
 * (so a held-out answer is predicted from the learner's earlier answers, as in use) and only
 * held-out rows are scored. Null when the concept has no held-out row.
 */
export function heldOutMetrics(table: AttemptsTable, conceptIndex: number, params: BktParams, heldOut: (row: number) => boolean): PredictionMetrics | null {
  const first = table.conceptSequenceStart[conceptIndex];
  const last = table.conceptSequenceStart[conceptIndex + 1];
  const predicted: number[] = [];
  const label: number[] = [];
  let buffer = new Float64Array(64);
  for (let q = first; q < last; q++) {
    const start = table.sequenceStart[q];
    const end = table.sequenceStart[q + 1];
    let any = false;
    for (let i = start; i < end && !any; i++) any = heldOut(i);
    if (!any) continue;
    if (buffer.length < end - start) buffer = new Float64Array(end - start);
    predictSequence(params.p_L0, params.p_T, params.p_F, params.p_S, params.p_G, table.correct, start, end, buffer, undefined, start);
    for (let i = start; i < end; i++) {
      if (!heldOut(i)) continue;
      predicted.push(buffer[i - start]);
      label.push(table.correct[i]);
    }
  }
  if (label.length === 0) return null;
  return predictionMetrics(Float64Array.from(predicted), Uint8Array.from(label));
}

export type ActivationDecision = 'activate' | 'keep_active' | 'activate_uncompared' | 'force';

/** Both sides of one comparison, as stored in the run summary and the new row's metrics. */
export interface ActivationComparison {
  decision: ActivationDecision;
  /** Why, in words. */
  reason: string;
  active_params_id: string;
  holdout: string;
  margin: number;
  candidate: PredictionMetrics | null;
  active: PredictionMetrics | null;
}

/**
 * Decide one concept: keep the active set when the candidate's held-out RMSE exceeds the
 * active set's by more than `margin`; too few held-out rows (MIN_COMPARISON_ROWS) cannot tell,
 * and `force` activates whatever the figures say. Pure.
 */
export function decideActivation(
  candidate: PredictionMetrics | null,
  active: PredictionMetrics | null,
  options: { margin: number; force: boolean; activeParamsId: string; holdout: string },
): ActivationComparison {
  const base = { active_params_id: options.activeParamsId, holdout: options.holdout, margin: options.margin, candidate, active };
  const rows = candidate?.n ?? 0;
  const worse = candidate && active ? candidate.rmse - active.rmse : 0;
  if (!candidate || !active || rows < MIN_COMPARISON_ROWS) {
    return { ...base, decision: 'activate_uncompared', reason: `only ${rows} held-out attempts (< ${MIN_COMPARISON_ROWS}): too few to compare` };
  }
  const figures = `held-out RMSE ${candidate.rmse.toFixed(5)} vs active ${active.rmse.toFixed(5)} on ${rows} attempts`;
  if (worse > options.margin) {
    return options.force
      ? { ...base, decision: 'force', reason: `${figures}: worse by ${worse.toFixed(5)} > margin ${options.margin}, activated by --force` }
      : { ...base, decision: 'keep_active', reason: `${figures}: worse by ${worse.toFixed(5)} > margin ${options.margin}; the active set stays` };
  }
  return { ...base, decision: 'activate', reason: `${figures}: not worse by more than ${options.margin}` };
}
