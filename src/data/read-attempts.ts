import { z } from 'zod';
import { InputError, NotFoundError, UsageError } from '../errors.js';
import type { AttemptsTable } from './attempts-table.js';
import type { SequenceOrder } from './attempts-table-builder.js';
import { COLUMN_PRESET_NAMES, resolveColumns, type ColumnPreset, type ColumnsUsed } from './columns.js';
import { openInputChunks, readAllBytes, sourceName, assertReadableFile } from './input-stream.js';
import { endOfDayBound, parseTimeString } from './parse-values.js';
import { CSV_PARSERS, readCsv, type CsvParserUsed, type SinkFactory } from './read-csv.js';
import { RowSink, type FilterCounts, type RowFilters } from './row-sink.js';

import { READ_FORMATS, type ReadFormat } from './formats.js';

export { READ_FORMATS, type ReadFormat } from './formats.js';

const columnName = z.string().min(1);
const isoDate = z
  .union([z.string(), z.date()])
  .refine((v) => (typeof v === 'string' ? Number.isFinite(parseTimeString(v)) : Number.isFinite(v.getTime())), {
    message: 'expected an ISO-8601 date or date-time, e.g. 2024-03-01 or 2024-03-01T12:00:00Z',
  });

/**
 * Options of readAttempts (the `bkt fit` / `evaluate` / `update` / `import` input flags).
 * Field docs give the flag each maps from and the default.
 */
export const ReadAttemptsOptionsSchema = z
  .object({
    /** `--input`: path of the attempts file, or `-` for stdin. */
    input: z.string().min(1),
    /**
     * `--format`: csv | ndjson | arrow | parquet | sqlite. Default from the extension (.csv, .ndjson/.jsonl,
     * .arrow/.arrows/.ipc/.feather, .parquet/.pq, .sqlite/.sqlite3/.db; a trailing .gz is ignored); stdin: csv.
     */
    format: z.enum(READ_FORMATS).optional(),
    /** `--col-user` ... `--col-question`: source column per role. Unset: preset, default, then pyBKT name. */
    columns: z
      .object({
        user: columnName.optional(),
        concept: columnName.optional(),
        correct: columnName.optional(),
        time: columnName.optional(),
        order: columnName.optional(),
        question: columnName.optional(),
      })
      .strict()
      .default({}),
    /** Column preset, as in pyBKT: assistments | cognitive-tutor. Default none. */
    preset: z.enum(COLUMN_PRESET_NAMES as [ColumnPreset, ...ColumnPreset[]]).optional(),
    /** `--table`: SQLite table to read. Default `attempts`. Not with `query`. */
    table: z.string().min(1).optional(),
    /** `--query`: SQLite SELECT to read instead of a table. */
    query: z.string().min(1).optional(),
    /** `--concept-id` (repeatable): keep only these concepts. Default all. */
    conceptIds: z.array(z.string().min(1)).optional(),
    /** `--concept-pattern`: keep only concepts whose whole id matches this regular expression (pyBKT's `skills`). Default all. */
    conceptPattern: z.string().min(1).optional(),
    /** `--from-date`: keep attempts answered at or after this ISO date/date-time (UTC unless a zone is given). */
    fromDate: isoDate.optional(),
    /** `--to-date`: keep attempts answered at or before this; a date alone includes that whole day. */
    toDate: isoDate.optional(),
    /** `--min-attempts-per-user`: drop (learner, concept) sequences shorter than this. Default 1. */
    minAttemptsPerUser: z.number().int().min(1).default(1),
    /** Keep each table row's input position (`table.inputRow`, 4 bytes per row), for output in input order. Default false. */
    keepInputRow: z.boolean().default(false),
    /**
     * Extra source columns to carry into the table's `classColumns` (the model variants' class
     * columns). A required one must exist (InputError naming it and `flag`); an optional one is
     * carried when present. Default none.
     */
    classColumns: z
      .array(z.object({ name: columnName, required: z.boolean(), flag: z.string().optional() }).strict())
      .default([]),
    /** CSV parser: `auto` (byte-level fast path, csv-parse from the first quote) or `csv-parse`. Default auto. */
    csvParser: z.enum(CSV_PARSERS).default('auto'),
  })
  .strict()
  .refine((o) => o.table === undefined || o.query === undefined, {
    message: 'give either a table or a query, not both',
    path: ['query'],
  });

/** Options as callers write them (defaults optional). */
export type ReadAttemptsInput = z.input<typeof ReadAttemptsOptionsSchema>;
/** Options after validation (defaults filled in). */
export type ReadAttemptsOptions = z.output<typeof ReadAttemptsOptionsSchema>;

/**
 * Validate raw options; a problem becomes a UsageError (exit 2) naming the option path in
 * backticks (`columns.user`; the CLI shows its flag).
 * @throws UsageError
 */
export function parseReadAttemptsOptions(raw: unknown): ReadAttemptsOptions {
  const result = ReadAttemptsOptionsSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue.path
    .filter((p) => typeof p === 'string' || typeof p === 'number')
    .join('.')
    .replace(/\.\d+$/, '');
  throw new UsageError(`${path ? `\`${path}\`` : 'options'}: ${issue.message}`);
}

/** What was read, for `--json` output and logs (snake_case keys). */
export interface ReadSummary {
  /** The input path, or `stdin`. */
  source: string;
  format: ReadFormat;
  /** CSV only: which parser read the rows (`fast`, `csv-parse`, or `fast+csv-parse` after a quote). */
  parser: CsvParserUsed | null;
  /** Data rows read from the input. */
  rows_read: number;
  /** Rows in the table. */
  rows_kept: number;
  /** Rows dropped by each filter. */
  rows_filtered: FilterCounts;
  /** Source column used for each role (null = absent). */
  columns: ColumnsUsed;
  /** How rows are ordered inside each (concept, learner) sequence. */
  ordered_by: SequenceOrder;
  /** Sequences that were out of order in the input and were sorted. */
  sequences_reordered: number;
  n_concepts: number;
  n_learners: number;
  n_sequences: number;
  /** Requested `conceptIds` that never occur in the input. */
  concepts_not_found: string[];
}

const EXTENSIONS: [RegExp, ReadFormat][] = [
  [/\.csv$/i, 'csv'],
  [/\.(ndjson|jsonl)$/i, 'ndjson'],
  [/\.(arrow|arrows|ipc|feather)$/i, 'arrow'],
  [/\.(parquet|pq)$/i, 'parquet'],
  [/\.(sqlite|sqlite3|db)$/i, 'sqlite'],
];

/**
 * The format named by `input`'s extension (a trailing `.gz` is ignored); stdin is csv.
 * @throws UsageError when the extension is unknown.
 */
export function formatFromPath(input: string): ReadFormat {
  if (input === '-') return 'csv';
  const name = input.replace(/\.gz$/i, '');
  for (const [pattern, format] of EXTENSIONS) if (pattern.test(name)) return format;
  throw new UsageError(
    `\`input\` ${input}: cannot tell the format from the extension`,
    `Pass \`format\` ${READ_FORMATS.join('|')}`,
  );
}

/**
 * The `--concept-pattern` regular expression, anchored at both ends as pyBKT anchors its `skills`
 * pattern (`^(pattern)$`), so `Equation` does not select `Equation Solving`.
 * @throws UsageError for a pattern that is not a valid regular expression.
 */
export function compileConceptPattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch (error) {
    throw new UsageError(`\`conceptPattern\` ${JSON.stringify(pattern)}: not a valid regular expression (${(error as Error).message})`, 'Escape special characters, e.g. "Addition \\(whole numbers\\)"');
  }
}

/** Epoch ms of a filter date; `endOfDay` moves a date without time to the end of that day. */
function filterBound(value: string | Date | undefined, endOfDay: boolean): { ms: number | null; inclusive: boolean } {
  if (value === undefined) return { ms: null, inclusive: true };
  if (value instanceof Date) return { ms: value.getTime(), inclusive: true };
  const nextMidnight = endOfDay ? endOfDayBound(value) : null;
  if (nextMidnight !== null) return { ms: nextMidnight, inclusive: false };
  return { ms: parseTimeString(value), inclusive: true };
}

/** Where a read's bytes come from besides the path (see InputSource). */
export interface ReadIo {
  /** Stream read for `-` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
  /** The bytes of `input`, opened by the caller; `input` then only names them in messages. */
  stream?: NodeJS.ReadableStream;
}

/** Makes the sink once the source's column names are known; `where` names the place for messages. */
export type RowSinkFactory<S extends RowSink> = (names: string[], where: string, source: { name: string; unit: 'line' | 'row' }) => S;

/**
 * The readers behind readAttempts, without the table: read `options.input` in its format into
 * the sink `makeSink` creates (a RowSink, or a subclass that handles rows its own way, such as
 * `bkt update`'s batch reader). Same format detection, file errors and messages as readAttempts;
 * the sink decides what a row becomes and whether a bad row stops the read.
 * @throws UsageError for options that do not fit the format; InputError (exit 3) as readAttempts.
 */
export async function readRows<S extends RowSink>(
  options: ReadAttemptsOptions,
  makeSink: RowSinkFactory<S>,
  io: ReadIo = {},
): Promise<{ sink: S; format: ReadFormat; source: string; parser: CsvParserUsed | null }> {
  const format = options.format ?? formatFromPath(options.input);
  const source = sourceName(options.input);
  if ((options.table !== undefined || options.query !== undefined) && format !== 'sqlite') {
    throw new UsageError(`\`${options.table !== undefined ? 'table' : 'query'}\` applies only to SQLite input (format is ${format})`);
  }
  if (format === 'sqlite' && (options.input === '-' || io.stream !== undefined)) {
    throw new UsageError(`\`input\` ${options.input}: SQLite cannot be read from ${options.input === '-' ? 'stdin' : 'a stream'}`, 'Pass the path of the .sqlite file');
  }
  const unit = format === 'csv' || format === 'ndjson' ? 'line' : 'row';
  const factory: SinkFactory = (names, where) => makeSink(names, where, { name: source, unit });
  let sink: RowSink;
  let parser: CsvParserUsed | null = null;
  const input = { input: options.input, stdin: io.stdin, stream: io.stream };
  switch (format) {
    case 'csv': {
      const result = await readCsv(openInputChunks(input), source, factory, options.csvParser);
      sink = result.sink;
      parser = result.parser;
      break;
    }
    case 'ndjson': {
      const { readNdjson } = await import('./read-ndjson.js');
      sink = await readNdjson(openInputChunks(input), source, factory);
      break;
    }
    case 'arrow': {
      const { readArrow } = await import('./read-arrow.js');
      sink = await readArrow(await readAllBytes(input), source, factory);
      break;
    }
    case 'parquet': {
      const { readParquet } = await import('./read-parquet.js');
      sink = await readParquet(await readAllBytes(input), source, factory);
      break;
    }
    case 'sqlite': {
      await assertReadableFile(options.input);
      const { readSqlite } = await import('./read-sqlite.js');
      sink = await readSqlite(options.input, { table: options.table, query: options.query }, factory);
      break;
    }
  }
  return { sink: sink as S, format, source, parser };
}

/**
 * Read an attempts file (CSV, NDJSON, Arrow IPC, Parquet or SQLite; `-` = stdin; gzip recognised by its
 * magic bytes) into one AttemptsTable, applying the concept, date and per-user filters.
 *
 * Columns: `columns` mapping, else the preset, else `user_id, concept_id, correct, answered_at,
 * order_id, question_id`, else pyBKT's `skill_name` / `problem_id`. Rows are ordered per
 * (concept, learner) by time, else order, else file order; ties keep file order (see
 * docs/data-formats.md). Times: ISO-8601 (UTC unless a zone is given) or epoch numbers (below
 * 1e11 seconds, else milliseconds).
 *
 * @param io.stdin stream read for `-` (default process.stdin).
 * @throws UsageError for invalid options (bad flag value, unknown extension, --table on a CSV).
 * @throws InputError (exit 3) for an unreadable, empty or malformed input, naming file, line,
 *   column and value.
 */
export async function readAttempts(
  rawOptions: ReadAttemptsInput,
  io: ReadIo = {},
): Promise<{ table: AttemptsTable; summary: ReadSummary }> {
  const options = parseReadAttemptsOptions(rawOptions);
  const from = filterBound(options.fromDate, false);
  const to = filterBound(options.toDate, true);
  if (from.ms !== null && to.ms !== null && from.ms > to.ms) {
    throw new UsageError('`fromDate` is after `toDate`', 'Swap them');
  }
  const conceptPattern = options.conceptPattern === undefined ? null : compileConceptPattern(options.conceptPattern);
  const filters: RowFilters = {
    conceptIds: options.conceptIds ? new Set(options.conceptIds) : null,
    conceptPattern,
    fromMs: from.ms,
    toMs: to.ms,
    toInclusive: to.inclusive,
  };
  const { sink, format, source, parser } = await readRows(
    options,
    (names, where, { name, unit }) => {
      const columns = resolveColumns(names, options.columns, options.preset, where);
      if (columns.index.time < 0 && (from.ms !== null || to.ms !== null)) {
        throw new InputError(
          `${where}: \`fromDate\`/\`toDate\` need a time column, but there is no "${options.columns.time ?? 'answered_at'}"`,
          'Map the time column with `columns.time`, or drop the date filters',
        );
      }
      const carried: { name: string; index: number }[] = [];
      for (const wanted of options.classColumns) {
        if (carried.some((c) => c.name === wanted.name)) continue;
        const index = names.indexOf(wanted.name);
        if (index < 0) {
          if (!wanted.required) continue;
          const shown = names.slice(0, 12).map((n) => JSON.stringify(n)).join(', ');
          throw new InputError(
            `${where}: no column "${wanted.name}"${wanted.flag ? ` (given with ${wanted.flag})` : ''}; found ${shown}`,
            `Pass the exact column name${wanted.flag ? ` with ${wanted.flag}` : ''}`,
          );
        }
        carried.push({ name: wanted.name, index });
      }
      return new RowSink(name, unit, columns, names.length, filters, carried);
    },
    io,
  );

  if (conceptPattern !== null && ![...sink.conceptsSeen].some((id) => conceptPattern.test(id))) {
    const some = [...sink.conceptsSeen].slice(0, 3).map((id) => JSON.stringify(id));
    throw new NotFoundError(
      `\`conceptPattern\` ${JSON.stringify(options.conceptPattern)}: no concept in ${source} matches`,
      `Its ids look like ${some.join(', ')}; the pattern must match a whole id`,
    );
  }
  const table = sink.builder.build({ minAttemptsPerSequence: options.minAttemptsPerUser, keepInputRow: options.keepInputRow });
  const stats = sink.builder.buildStats!;
  sink.filtered.min_attempts_per_user = stats.rowsDroppedShortSequences;
  const summary: ReadSummary = {
    source,
    format,
    parser,
    rows_read: sink.rowsRead,
    rows_kept: table.length,
    rows_filtered: { ...sink.filtered },
    columns: { ...(sink.names as unknown as ColumnsUsed) },
    ordered_by: stats.orderedBy,
    sequences_reordered: stats.sequencesSorted,
    n_concepts: table.conceptIds.length,
    n_learners: table.learnerIds.length,
    n_sequences: table.sequenceStart.length - 1,
    concepts_not_found: options.conceptIds ? options.conceptIds.filter((c) => !sink.conceptsSeen.has(c)) : [],
  };
  return { table, summary };
}
