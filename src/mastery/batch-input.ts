/**
 * Reads the attempts of `bkt update --input` row by row (CSV with a header row, or NDJSON),
 * keeping each row's line number, so a bad row is rejected on its own ("line 12: correct is
 * 'yes'") while the rest are applied. `fit`'s columnar readers stop at the first bad row and
 * drop line numbers once sorted, which is right for fitting but not for an idempotent apply.
 *
 * Columns (first present name wins; `columns` overrides): user (user_id, learner_id),
 * concept (concept_id, skill_name), correct (correct), time (answered_at, timestamp),
 * question (question_id, problem_id), key (attempt_key). Ids map to UUIDs as `bkt import` does
 * (src/store/ids.ts): a UUID is kept, an integer n becomes the UUID of value n, any other text
 * a version-5 UUID.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { InputError } from '../errors.js';
import { parseCorrectString, parseTimeString } from '../data/parse-values.js';
import { toUuid } from '../store/ids.js';
import { hashAttemptKey } from './attempt-key.js';
import { csvRecords } from './csv-records.js';
import type { AttemptsTable } from '../data/attempts-table.js';

/** csv and ndjson are read row by row here; arrow and sqlite through `readAttempts` (src/data). */
export const BATCH_FORMATS = ['csv', 'ndjson', 'arrow', 'parquet', 'sqlite'] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

export interface BatchColumns {
  user?: string;
  concept?: string;
  correct?: string;
  time?: string;
  question?: string;
  key?: string;
}

const COLUMN_ALIASES: Record<keyof BatchColumns, string[]> = {
  user: ['user_id', 'learner_id'],
  concept: ['concept_id', 'skill_name'],
  correct: ['correct'],
  time: ['answered_at', 'timestamp'],
  question: ['question_id', 'problem_id'],
  key: ['attempt_key'],
};

/** One valid attempt of a batch, with its 1-based line in the input. */
export interface BatchAttempt {
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

export interface Rejection {
  line: number;
  reason: string;
}

export interface BatchInput {
  attempts: BatchAttempt[];
  rejected: Rejection[];
}

export interface ReadBatchOptions {
  /** A file path, or `-` for stdin. */
  input: string;
  /** Default: by extension (.ndjson/.jsonl -> ndjson), else csv. */
  format?: BatchFormat;
  columns?: BatchColumns;
  /** Throw an InputError at the first bad row instead of rejecting it. */
  failFast?: boolean;
  /** Tests and library callers may pass a stream instead of opening `input`. */
  stream?: Readable;
}

export function formatOf(input: string, format?: BatchFormat): BatchFormat {
  if (format) return format;
  if (/\.(arrows?|ipc|feather)$/i.test(input)) return 'arrow';
  if (/\.(parquet|pq)$/i.test(input)) return 'parquet';
  if (/\.(sqlite3?|db)$/i.test(input)) return 'sqlite';
  return /\.(nd)?jsonl?$/i.test(input) ? 'ndjson' : 'csv';
}

/** Read, validate and key every row. Throws InputError for a missing file or column. */
export async function readBatchAttempts(options: ReadBatchOptions): Promise<BatchInput> {
  const format = formatOf(options.input, options.format);
  const name = options.input === '-' ? 'stdin' : options.input;
  if (format === 'arrow' || format === 'parquet' || format === 'sqlite') {
    // Columnar inputs: the shared reader (it stops at the first bad value, exit 3).
    const { readAttempts } = await import('../data/read-attempts.js');
    const c = options.columns ?? {};
    const { table } = await readAttempts({
      input: options.input,
      format,
      columns: { user: c.user, concept: c.concept, correct: c.correct, time: c.time, question: c.question },
    });
    return batchFromTable(table);
  }
  const stream = options.stream ?? openInput(options.input);
  const builder = new BatchBuilder(name, options.columns ?? {}, options.failFast ?? false);
  if (format === 'csv') {
    let header: string[] | null = null;
    for await (const { record, line } of csvRecords(stream, name)) {
      if (header === null) {
        header = record.map((h) => h.trim());
        builder.setHeader(header);
        continue;
      }
      const values: Record<string, unknown> = {};
      for (let i = 0; i < header.length; i++) values[header[i]] = record[i];
      builder.add(line, values);
    }
    if (header === null) throw new InputError(`${name}: the file is empty`, 'Give a header row and one attempt per line');
  } else {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    let line = 0;
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        builder.reject(line, 'not valid JSON');
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        builder.reject(line, 'not a JSON object');
        continue;
      }
      builder.add(line, value as Record<string, unknown>);
    }
  }
  return builder.result();
}

function openInput(input: string): Readable {
  if (input === '-') return process.stdin;
  const stream = createReadStream(input);
  return stream;
}

class BatchBuilder {
  private readonly attempts: BatchAttempt[] = [];
  private readonly rejected: Rejection[] = [];
  private readonly untimedSeen = new Map<string, number>();
  private names: Record<keyof BatchColumns, string | undefined> | null = null;

  constructor(
    private readonly file: string,
    private readonly columns: BatchColumns,
    private readonly failFast: boolean,
  ) {}

  setHeader(header: string[]): void {
    this.names = resolveColumns(header, this.columns, this.file);
  }

  add(line: number, values: Record<string, unknown>): void {
    // NDJSON has no header: resolve columns from the first object's keys.
    if (this.names === null) this.names = resolveColumns(Object.keys(values), this.columns, this.file);
    const n = this.names;
    const text = (col: string | undefined): string => {
      if (col === undefined) return '';
      const v = values[col];
      return v === null || v === undefined ? '' : String(v).trim();
    };
    const user = text(n.user);
    if (user === '') return this.reject(line, `column "${n.user}" is empty; expected a user id`);
    const concept = text(n.concept);
    if (concept === '') return this.reject(line, `column "${n.concept}" is empty; expected a concept id`);
    const correctRaw = text(n.correct);
    const correct = parseCorrectString(correctRaw);
    if (correct < 0) return this.reject(line, `column "${n.correct}" is "${correctRaw}"; expected 0, 1, true or false`);
    let answeredAt: number | null = null;
    const timeRaw = text(n.time);
    if (timeRaw !== '') {
      answeredAt = parseTimeString(timeRaw);
      if (Number.isNaN(answeredAt)) return this.reject(line, `column "${n.time}" is "${timeRaw}"; expected an ISO-8601 time or epoch number`);
    }
    const questionRaw = text(n.question);
    const attempt: BatchAttempt = {
      line,
      userId: toUuid(user),
      conceptId: toUuid(concept),
      questionId: questionRaw === '' ? null : toUuid(questionRaw),
      correct: correct === 1,
      answeredAt,
      attemptKey: '',
    };
    const explicitKey = text(n.key);
    if (explicitKey !== '') attempt.attemptKey = explicitKey;
    else if (answeredAt !== null) attempt.attemptKey = hashAttemptKey(attempt);
    else {
      const identity = `${attempt.userId}|${attempt.conceptId}|${attempt.questionId}|${attempt.correct}`;
      const occurrence = this.untimedSeen.get(identity) ?? 0;
      this.untimedSeen.set(identity, occurrence + 1);
      attempt.attemptKey = hashAttemptKey(attempt, occurrence);
      attempt.positional = true;
    }
    this.attempts.push(attempt);
  }

  reject(line: number, reason: string): void {
    if (this.failFast) throw new InputError(`${this.file} line ${line}: ${reason}`, 'Fix the row or drop --fail-fast to skip bad rows');
    this.rejected.push({ line, reason });
  }

  result(): BatchInput {
    return { attempts: this.attempts, rejected: this.rejected };
  }
}

function resolveColumns(header: string[], explicit: BatchColumns, file: string): Record<keyof BatchColumns, string | undefined> {
  const present = new Set(header);
  const out = {} as Record<keyof BatchColumns, string | undefined>;
  for (const key of Object.keys(COLUMN_ALIASES) as (keyof BatchColumns)[]) {
    const wanted = explicit[key];
    if (wanted !== undefined) {
      if (!present.has(wanted)) {
        throw new InputError(`${file}: column "${wanted}" (--col-${key}) is not in the header (${header.join(', ')})`, 'Check the column name');
      }
      out[key] = wanted;
    } else {
      out[key] = COLUMN_ALIASES[key].find((name) => present.has(name));
    }
  }
  for (const required of ['user', 'concept', 'correct'] as const) {
    if (out[required] === undefined) {
      throw new InputError(
        `${file}: no ${required} column (looked for ${COLUMN_ALIASES[required].join(', ')})`,
        `Map it with --col-${required} NAME`,
      );
    }
  }
  return out;
}

/**
 * The attempts of an AttemptsTable (what every `src/data` reader returns) as a batch. `line` is the
 * 1-based row of the table (its rows are sorted by concept, learner and time). Ids map as in files.
 */
export function batchFromTable(table: AttemptsTable): BatchInput {
  const users = table.learnerIds.map(toUuid);
  const concepts = table.conceptIds.map(toUuid);
  const questions = table.questionIds.map(toUuid);
  const untimedSeen = new Map<string, number>();
  const attempts: BatchAttempt[] = new Array(table.length);
  for (let i = 0; i < table.length; i++) {
    const t = table.time ? table.time[i] : Number.NaN;
    const q = table.question ? table.question[i] : -1;
    const a: BatchAttempt = {
      line: i + 1,
      userId: users[table.learner[i]],
      conceptId: concepts[table.concept[i]],
      questionId: q >= 0 ? questions[q] : null,
      correct: table.correct[i] === 1,
      answeredAt: Number.isNaN(t) ? null : t,
      attemptKey: '',
    };
    if (a.answeredAt !== null) a.attemptKey = hashAttemptKey(a);
    else {
      const identity = `${a.userId}|${a.conceptId}|${a.questionId}|${a.correct}`;
      const occurrence = untimedSeen.get(identity) ?? 0;
      untimedSeen.set(identity, occurrence + 1);
      a.attemptKey = hashAttemptKey(a, occurrence);
      a.positional = true;
    }
    attempts[i] = a;
  }
  return { attempts, rejected: [] };
}
