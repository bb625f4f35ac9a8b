import type { AttemptsTable } from '../data/attempts-table.js';

/**
 * The rows of the learners with `keep[learner] === 1`, as a new AttemptsTable with the same id
 * dictionaries (so concept and learner indices mean the same in both). Whole (concept, learner)
 * sequences are kept or dropped, so the sort order and every sequence's row order carry over
 * unchanged; a concept left with no rows has an empty sequence range. O(rows).
 */
export function subsetByLearners(table: AttemptsTable, keep: Uint8Array): AttemptsTable {
  const sequences = table.sequenceStart.length - 1;
  let rows = 0;
  let keptSequences = 0;
  // Concept of each sequence = concept of its first row; sequences are never empty.
  for (let q = 0; q < sequences; q++) {
    const start = table.sequenceStart[q];
    if (keep[table.learner[start]]) {
      rows += table.sequenceStart[q + 1] - start;
      keptSequences++;
    }
  }
  const concept = new Uint32Array(rows);
  const learner = new Uint32Array(rows);
  const correct = new Uint8Array(rows);
  const time = table.time ? new Float64Array(rows) : null;
  const question = table.question ? new Int32Array(rows) : null;
  const classValues = (table.classColumns ?? []).map(() => new Int32Array(rows));
  const sequenceStart = new Uint32Array(keptSequences + 1);
  const conceptSequenceStart = new Uint32Array(table.conceptIds.length + 1);
  let at = 0;
  let out = 0;
  for (let c = 0; c < table.conceptIds.length; c++) {
    conceptSequenceStart[c] = out;
    for (let q = table.conceptSequenceStart[c]; q < table.conceptSequenceStart[c + 1]; q++) {
      const start = table.sequenceStart[q];
      const end = table.sequenceStart[q + 1];
      if (!keep[table.learner[start]]) continue;
      sequenceStart[out++] = at;
      concept.set(table.concept.subarray(start, end), at);
      learner.set(table.learner.subarray(start, end), at);
      correct.set(table.correct.subarray(start, end), at);
      if (time && table.time) time.set(table.time.subarray(start, end), at);
      if (question && table.question) question.set(table.question.subarray(start, end), at);
      classValues.forEach((values, k) => values.set(table.classColumns![k].values.subarray(start, end), at));
      at += end - start;
    }
  }
  conceptSequenceStart[table.conceptIds.length] = out;
  sequenceStart[keptSequences] = at;
  return {
    conceptIds: table.conceptIds,
    learnerIds: table.learnerIds,
    questionIds: table.questionIds,
    length: rows,
    concept,
    learner,
    correct,
    time,
    question,
    sequenceStart,
    conceptSequenceStart,
    ...(table.classColumns ? { classColumns: table.classColumns.map((c, k) => ({ name: c.name, ids: c.ids, values: classValues[k] })) } : {}),
  };
}

/**
 * The rows with `keepRow(row)` true, as a new AttemptsTable with the same id dictionaries.
 * Rows keep their order; a (concept, learner) sequence left empty is dropped. O(rows).
 */
export function subsetRows(table: AttemptsTable, keepRow: (row: number) => boolean): AttemptsTable {
  const keep = new Uint8Array(table.length);
  let rows = 0;
  let sequences = 0;
  for (let q = 0; q < table.sequenceStart.length - 1; q++) {
    let any = false;
    for (let i = table.sequenceStart[q]; i < table.sequenceStart[q + 1]; i++) {
      if (keepRow(i)) {
        keep[i] = 1;
        rows++;
        any = true;
      }
    }
    if (any) sequences++;
  }
  const concept = new Uint32Array(rows);
  const learner = new Uint32Array(rows);
  const correct = new Uint8Array(rows);
  const time = table.time ? new Float64Array(rows) : null;
  const question = table.question ? new Int32Array(rows) : null;
  const sequenceStart = new Uint32Array(sequences + 1);
  const conceptSequenceStart = new Uint32Array(table.conceptIds.length + 1);
  let at = 0;
  let out = 0;
  for (let c = 0; c < table.conceptIds.length; c++) {
    conceptSequenceStart[c] = out;
    for (let q = table.conceptSequenceStart[c]; q < table.conceptSequenceStart[c + 1]; q++) {
      const first = at;
      for (let i = table.sequenceStart[q]; i < table.sequenceStart[q + 1]; i++) {
        if (!keep[i]) continue;
        concept[at] = table.concept[i];
        learner[at] = table.learner[i];
        correct[at] = table.correct[i];
        if (time && table.time) time[at] = table.time[i];
        if (question && table.question) question[at] = table.question[i];
        at++;
      }
      if (at > first) sequenceStart[out++] = first;
    }
  }
  conceptSequenceStart[table.conceptIds.length] = out;
  sequenceStart[sequences] = at;
  return { conceptIds: table.conceptIds, learnerIds: table.learnerIds, questionIds: table.questionIds, length: rows, concept, learner, correct, time, question, sequenceStart, conceptSequenceStart };
}
