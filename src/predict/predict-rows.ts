import type { AttemptsTable } from '../data/attempts-table.js';
import { sequenceParameterBuffers, type RowParameters, type SequenceParameterBuffers } from './row-parameters.js';

/** Per-row predictions, indexed by input row when the table kept `inputRow`, else by table row. */
export interface RowPredictions {
  /** P(correct) before the row's answer is seen (pyBKT's `correct_predictions`); NaN = no parameters. */
  correct: Float64Array;
  /** P(known) before the row's answer is seen (pyBKT's `state_predictions`); NaN = no parameters. */
  stateBefore: Float64Array;
  /** P(known) after the row's answer is seen, before the learning transition; NaN = no parameters. */
  stateAfter: Float64Array;
}

/**
 * One sequence's predictions with per-row parameters (pyBKT's `predict_onestep`, Badrinath, Wang
 * & Pardos 2021). With K the predicted P(known) before row i (K = prior at the first row):
 * correct[i] = K(1 - s_i) + (1 - K)g_i; the answer gives the posterior
 * K' = K·e_known / (K·e_known + (1 - K)·e_unknown) with e the emission of the answer
 * (right: 1 - s_i, g_i; wrong: s_i, 1 - g_i); then K = K'(1 - f_i) + (1 - K')l_i for row i + 1.
 * Both state probabilities are carried, so P(unknown) is never 1 - a rounded P(known). An
 * answer the parameters call impossible (zero evidence) leaves the state unchanged.
 * Row i's results go to index `outIndex[i]` (or i when null).
 */
export function predictSequenceRows(
  prior: number,
  parameters: SequenceParameterBuffers,
  correct: Uint8Array,
  start: number,
  end: number,
  outIndex: Uint32Array | null,
  out: RowPredictions,
): void {
  let known = prior;
  let unknown = 1 - prior;
  const { guess, slip, learn, forget } = parameters;
  for (let i = start; i < end; i++) {
    const k = i - start;
    const g = guess[k];
    const s = slip[k];
    const at = outIndex === null ? i : outIndex[i];
    out.correct[at] = known * (1 - s) + unknown * g;
    out.stateBefore[at] = known;
    const right = correct[i] === 1;
    const a = known * (right ? 1 - s : s);
    const b = unknown * (right ? g : 1 - g);
    const z = a + b;
    const fk = z > 0 ? a / z : known;
    const fu = z > 0 ? b / z : unknown;
    out.stateAfter[at] = fk;
    known = fk * (1 - forget[k]) + fu * learn[k];
    unknown = fu * (1 - learn[k]) + fk * forget[k];
  }
}

/**
 * Predict every row of `table`: each (learner, concept) sequence starts again from its prior and
 * is filtered through its own answers in table order, as pyBKT's `predict` does. Rows of concepts
 * without parameters stay NaN. When the table kept `inputRow`, results are in input order with
 * `inputRows` entries (rows the reader dropped stay NaN). Memory: three Float64 arrays plus
 * buffers for the longest sequence.
 */
export function predictRows(table: AttemptsTable, parameters: RowParameters, inputRows = table.length): RowPredictions {
  const size = table.inputRow ? inputRows : table.length;
  const out: RowPredictions = {
    correct: new Float64Array(size).fill(Number.NaN),
    stateBefore: new Float64Array(size).fill(Number.NaN),
    stateAfter: new Float64Array(size).fill(Number.NaN),
  };
  let longest = 0;
  for (let q = 0; q + 1 < table.sequenceStart.length; q++) longest = Math.max(longest, table.sequenceStart[q + 1] - table.sequenceStart[q]);
  const buffers = sequenceParameterBuffers(longest);
  const outIndex = table.inputRow ?? null;
  for (let c = 0; c < table.conceptIds.length; c++) {
    if (!parameters.hasConcept(c)) continue;
    for (let q = table.conceptSequenceStart[c]; q < table.conceptSequenceStart[c + 1]; q++) {
      const start = table.sequenceStart[q];
      const end = table.sequenceStart[q + 1];
      const prior = parameters.fillSequence(c, start, end, buffers);
      predictSequenceRows(prior, buffers, table.correct, start, end, outIndex, out);
    }
  }
  return out;
}
