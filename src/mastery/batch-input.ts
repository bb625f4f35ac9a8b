/**
 * Reads the attempts of `bkt update --input` through the shared readers of src/data (CSV,
 * NDJSON, Arrow IPC, Parquet, SQLite; `.gz`; `-` for stdin), so a file is found, decoded and its values
 * judged exactly as `bkt fit` does, with the same messages and exit codes. What differs is what a
 * row becomes: one BatchAttempt in input order with its line (or row) number, and a bad row is
 * rejected on its own ("line 12: column "correct" is "yes"...") while the rest are applied,
 * unless `failFast`. `fit` stops at the first bad row and sorts rows, which is right for fitting
 * but not for an idempotent apply.
 *
 * Columns: those of readAttempts (user_id; concept_id or skill_name; correct; answered_at;
 * question_id or problem_id), also learner_id and timestamp, and the attempt key (attempt_key);
 * `columns` overrides each. Ids map to UUIDs as `bkt import` does (src/store/ids.ts): a UUID is
 * kept, an integer n becomes the UUID of value n, any other text a version-5 UUID.
 */
import { InputError } from '../errors.js';
import { resolveColumns, type ColumnMapping, type ResolvedColumns } from '../data/columns.js';
import { READ_FORMATS, formatFromPath, parseReadAttemptsOptions, readRows, type ReadFormat } from '../data/read-attempts.js';
import { RowSink } from '../data/row-sink.js';
import { toUuid } from '../store/ids.js';
import { hashAttemptKey } from './attempt-key.js';

/** The formats `readBatchAttempts` reads: every format of readAttempts. */
export const BATCH_FORMATS = READ_FORMATS;
/** A value of BATCH_FORMATS. */
export type BatchFormat = ReadFormat;

/** Source column of each batch field (`--col-*` of `bkt update`); unset: the default names. */
export interface BatchColumns {
  user?: string;
  concept?: string;
  correct?: string;
  time?: string;
  question?: string;
  key?: string;
}

/** Names tried after readAttempts' defaults (what `bkt update` has always accepted). */
const BATCH_ALIASES = { user: ['learner_id'], time: ['timestamp'] } as const;
const DEFAULT_KEY_COLUMN = 'attempt_key';

/** One valid attempt of a batch, with its 1-based line in the input. */
export interface BatchAttempt {
  /** 1-based line of a CSV or NDJSON input (the header is line 1), or row of an Arrow or SQLite one. */
  line: number;
  userId: string;
  conceptId: string;
  questionId: string | null;
  correct: boolean;
  /** Epoch ms, or null: stamped when applied. */
  answeredAt: number | null;
  attemptKey: string;
  /** The key was made from the row's position (no time, no key column): see keyUntimedAttempts. */
  positional?: boolean;
}

/** A row of a batch that was not applied, with its 1-based line (or row) and why. */
export interface Rejection {
  line: number;
  reason: string;
}

/** What `readBatchAttempts` returns: the valid attempts in input order and the rejected rows. */
export interface BatchInput {
  attempts: BatchAttempt[];
  rejected: Rejection[];
}

/** Options of `readBatchAttempts`. */
export interface ReadBatchOptions {
  /** A file path, or `-` for stdin. */
  input: string;
  /** Default: by extension, as readAttempts (a trailing .gz ignored); stdin: csv. */
  format?: BatchFormat;
  columns?: BatchColumns;
  /** Throw the InputError of the first bad row instead of rejecting it. */
  failFast?: boolean;
  /** The bytes of `input`, opened by the caller (tests, library callers); `input` then only names them. */
  stream?: NodeJS.ReadableStream;
  /** Stream read for `-` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** The format `input` is read as: `format` when given, else by extension (readAttempts' rule). */
export function formatOf(input: string, format?: BatchFormat): BatchFormat {
  return format ?? formatFromPath(input);
}

/**
 * Read, validate and key every row of a batch. Bad rows are rejected with their line, or with
 * `failFast` the first one throws.
 * @throws UsageError for an unknown extension without `format`; InputError (exit 3) for a
 *   missing or unreadable file, a missing column, a file without attempts, or (failFast) a bad row.
 */
export async function readBatchAttempts(options: ReadBatchOptions): Promise<BatchInput> {
  const columns = options.columns ?? {};
  const mapping: ColumnMapping = { user: columns.user, concept: columns.concept, correct: columns.correct, time: columns.time, question: columns.question };
  const read = parseReadAttemptsOptions({
    input: options.input,
    format: options.format,
    columns: Object.fromEntries(Object.entries(mapping).filter(([, v]) => v !== undefined)),
  });
  const { sink } = await readRows(
    read,
    (names, where, { name, unit }) => {
      const resolved = resolveColumns(names, read.columns, undefined, where, BATCH_ALIASES);
      return new BatchSink(name, unit, resolved, names, keyColumn(names, columns.key, where), options.failFast ?? false);
    },
    { stream: options.stream, stdin: options.stdin },
  );
  return { attempts: sink.attempts, rejected: sink.rejected };
}

/** Position of the attempt key column: the one given (it must exist), else attempt_key when present, else -1. */
function keyColumn(names: readonly string[], given: string | undefined, where: string): number {
  if (given === undefined) return names.indexOf(DEFAULT_KEY_COLUMN);
  const index = names.indexOf(given);
  if (index < 0) {
    const found = names.slice(0, 12).map((n) => JSON.stringify(n)).join(', ');
    throw new InputError(`${where}: no column "${given}" (given with \`columns.key\`); found ${found || 'no columns'}`, 'Pass the exact column name with `columns.key`');
  }
  return index;
}

/**
 * A RowSink that turns each row into a BatchAttempt (ids mapped, key computed) in input order,
 * judging values with RowSink's own rules and messages, and rejecting a bad row by line.
 */
class BatchSink extends RowSink {
  override readonly decodesEveryRow = true;
  readonly attempts: BatchAttempt[] = [];
  readonly rejected: Rejection[] = [];
  private readonly untimedSeen = new Map<string, number>();
  /** toUuid of each id seen: ids repeat on nearly every row, and a name-based UUID costs a SHA-1. */
  private readonly uuids = new Map<string, string>();

  constructor(
    source: string,
    unit: 'line' | 'row',
    columns: ResolvedColumns,
    names: readonly string[],
    keyIndex: number,
    private readonly failFast: boolean,
  ) {
    super(source, unit, columns, names.length, { conceptIds: null, fromMs: null, toMs: null, toInclusive: true });
    this.extraIndex = keyIndex;
  }

  override addRecord(fields: readonly string[], line: number): void {
    try {
      super.addRecord(fields, line);
    } catch (error) {
      // The field-count check: addValues rejects its own errors.
      if (!(error instanceof InputError)) throw error;
      this.rowsRead++;
      this.badRow(error, line);
    }
  }

  override addValues(
    user: unknown,
    concept: unknown,
    correct: unknown,
    time: unknown,
    _order: unknown,
    question: unknown,
    line: number,
    timeIsMs: boolean,
    _classValues?: readonly unknown[],
    key: unknown = null,
  ): void {
    this.rowsRead++;
    let attempt: BatchAttempt;
    try {
      // The order column plays no part in an update (rows are applied by time, then input order).
      attempt = {
        line,
        userId: this.uuid(this.idValue('user', trimmed(user), line)),
        conceptId: this.uuid(this.idValue('concept', trimmed(concept), line)),
        correct: this.correctValue(correct, line) === 1,
        answeredAt: null,
        questionId: null,
        attemptKey: '',
      };
      const ms = this.timeValue(time, line, timeIsMs);
      attempt.answeredAt = Number.isNaN(ms) ? null : ms;
      const questionId = this.optionalId(trimmed(question), line);
      attempt.questionId = questionId === null ? null : this.uuid(questionId);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      return this.badRow(error, line);
    }
    const explicitKey = key === null || key === undefined ? '' : String(key).trim();
    if (explicitKey !== '') attempt.attemptKey = explicitKey;
    else if (attempt.answeredAt !== null) attempt.attemptKey = hashAttemptKey(attempt);
    else {
      const identity = `${attempt.userId}|${attempt.conceptId}|${attempt.questionId}|${attempt.correct}`;
      const occurrence = this.untimedSeen.get(identity) ?? 0;
      this.untimedSeen.set(identity, occurrence + 1);
      attempt.attemptKey = hashAttemptKey(attempt, occurrence);
      attempt.positional = true;
    }
    this.attempts.push(attempt);
  }

  private uuid(id: string): string {
    let mapped = this.uuids.get(id);
    if (mapped === undefined) {
      mapped = toUuid(id);
      this.uuids.set(id, mapped);
    }
    return mapped;
  }

  /**
   * failFast: throw; else record the row's reason without the `file line N: ` prefix (or
   * `file (table "t") row N: `, as the SQLite reader names its source) and go on.
   */
  override badRow(error: InputError, line: number): void {
    if (this.failFast) throw error;
    const message = error.message;
    const place = ` ${this.unit} ${line}: `;
    const at = message.startsWith(this.source) ? message.indexOf(place, this.source.length) : -1;
    const between = at >= 0 ? message.slice(this.source.length, at) : null;
    const prefixed = between !== null && (between === '' || /^ \([^)]*\)$/.test(between));
    this.rejected.push({ line, reason: prefixed ? message.slice(at + place.length) : message });
  }
}

/** Ids and questions are compared trimmed (a CSV field " 7" is learner 7). */
function trimmed(value: unknown): unknown {
  return typeof value === 'string' ? value.trim() : value;
}

