/**
 * The one columnar data model every reader produces and every consumer (trainer, updater,
 * evaluator, importer) takes. No per-row objects: typed columns plus id dictionaries.
 *
 * Layout invariants (checked once by the builder, relied on everywhere else):
 * - rows are sorted by (concept, learner, time-or-order, file order);
 * - a sequence is the run of rows of one (concept, learner) pair; `sequenceStart` holds CSR
 *   offsets (0-based, length = sequences + 1, last entry = row count);
 * - `conceptSequenceStart` holds, per concept index, the first sequence index (length =
 *   conceptIds.length + 1), so concept c's rows are
 *   sequenceStart[conceptSequenceStart[c]] .. sequenceStart[conceptSequenceStart[c + 1]].
 */
export interface AttemptsTable {
  /** Concept dictionary: index -> concept id as it appeared in the input. */
  readonly conceptIds: string[];
  /** Learner dictionary: index -> learner id as it appeared in the input. */
  readonly learnerIds: string[];
  /** Question dictionary: index -> question id; empty when the input had no question column. */
  readonly questionIds: string[];

  /** Number of rows (attempts). */
  readonly length: number;
  /** Concept index per row. */
  readonly concept: Uint32Array;
  /** Learner index per row. */
  readonly learner: Uint32Array;
  /** 1 = correct, 0 = wrong, per row. */
  readonly correct: Uint8Array;
  /** Answer time per row in epoch milliseconds; NaN where the input had no time. Null when no row had one. */
  readonly time: Float64Array | null;
  /** Question index per row, -1 for none. Null when the input had no question column. */
  readonly question: Int32Array | null;

  /** CSR row offsets of each (concept, learner) sequence; length = sequenceCount + 1. */
  readonly sequenceStart: Uint32Array;
  /** First sequence of each concept; length = conceptIds.length + 1. */
  readonly conceptSequenceStart: Uint32Array;
  /**
   * Each row's 0-based position in the input (among the rows the reader kept), when the table was
   * built with `keepInputRow`; absent otherwise.
   */
  readonly inputRow?: Uint32Array;

  /**
   * Extra per-row class columns the reader was asked to carry (`--multigs template_id`,
   * `--multiprior cohort`...), each dictionary-encoded in row order. Absent or empty when none
   * was asked for.
   */
  readonly classColumns?: readonly ClassColumn[];
}

/** One carried source column, dictionary-encoded per row (-1 = empty value). */
export interface ClassColumn {
  /** The source column name. */
  readonly name: string;
  /** Dictionary: index -> value as it appeared in the input. */
  readonly ids: string[];
  /** Dictionary index per row, -1 where the value was empty. */
  readonly values: Int32Array;
}

/** The carried class column named `name`, or undefined. */
export function classColumn(table: AttemptsTable, name: string): ClassColumn | undefined {
  return table.classColumns?.find((c) => c.name === name);
}

/** Number of (concept, learner) sequences. */
export function sequenceCount(table: AttemptsTable): number {
  return table.sequenceStart.length - 1;
}

/** Row range [start, end) of concept index `c`. */
export function conceptRowRange(table: AttemptsTable, c: number): [number, number] {
  const s0 = table.conceptSequenceStart[c];
  const s1 = table.conceptSequenceStart[c + 1];
  return [table.sequenceStart[s0], table.sequenceStart[s1]];
}

/** Number of distinct learners with at least one attempt at concept index `c`. */
export function conceptLearnerCount(table: AttemptsTable, c: number): number {
  return table.conceptSequenceStart[c + 1] - table.conceptSequenceStart[c];
}
