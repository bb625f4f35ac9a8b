import { InputError, UsageError } from '../errors.js';
import { AttemptsTableBuilder } from './attempts-table-builder.js';
import { COLUMN_OPTIONS, type ColumnRole, type ResolvedColumns } from './columns.js';
import { MAX_ID_BYTES, TIME_RANGE_TEXT, timeInRange } from './input-limits.js';
import { epochToMs, isBlankString, parseCorrectString, parseOrderString, parseTimeString } from './parse-values.js';

/** Row filters applied while reading (minAttemptsPerUser is applied by the builder). */
export interface RowFilters {
  /** Keep only these concept ids; null = all. */
  conceptIds: ReadonlySet<string> | null;
  /** Keep only concept ids this (anchored) pattern matches, as pyBKT's `skills` regex; null = all. */
  conceptPattern?: RegExp | null;
  /** Keep rows with time >= fromMs (epoch ms); null = no lower bound. */
  fromMs: number | null;
  /** Keep rows with time <= toMs (or < toMs when toInclusive is false); null = no upper bound. */
  toMs: number | null;
  /** False for a date-only `toDate`, whose bound is the next midnight. */
  toInclusive: boolean;
}

/** Filtered-row counters, in the shape of ReadSummary.rows_filtered. */
export interface FilterCounts {
  concept_id: number;
  date: number;
  min_attempts_per_user: number;
}

/**
 * Where every reader's rows go: validates values, applies the concept and date filters, and adds
 * kept rows to an AttemptsTableBuilder. One place for the value rules and the error messages, so
 * all formats (and both CSV paths) accept and reject exactly the same values.
 */
export class RowSink {
  readonly builder = new AttemptsTableBuilder();
  readonly filtered: FilterCounts = { concept_id: 0, date: 0, min_attempts_per_user: 0 };
  rowsRead = 0;
  readonly index: Record<ColumnRole, number>;
  readonly names: Record<ColumnRole, string | null>;
  readonly columnCount: number;
  readonly hasDateFilter: boolean;
  /** Concept ids seen in the input, kept or filtered (to report requested ids that never occur). */
  readonly conceptsSeen = new Set<string>();
  /**
   * True when every CSV row must reach `addRecord` decoded, for a sink that overrides how rows
   * are added; false lets the byte-level CSV path add rows to the builder itself.
   */
  readonly decodesEveryRow: boolean = false;
  /**
   * Position of one more source column whose value readers pass to `addValues` as `extra` (the
   * attempt key of `bkt update --input`); -1 for none.
   */
  extraIndex = -1;

  constructor(
    /** File name for messages (`stdin` for `-`). */
    readonly source: string,
    /** `line` for text formats, `row` for Arrow and SQLite. */
    readonly unit: 'line' | 'row',
    columns: ResolvedColumns,
    /** Number of columns in the source (field-count check for CSV). */
    columnCount: number,
    readonly filters: RowFilters,
    /** Extra columns carried into the table's classColumns: source name and position. */
    readonly classColumns: readonly { name: string; index: number }[] = [],
  ) {
    this.builder.declareClassColumns(classColumns.map((c) => c.name));
    this.index = columns.index;
    this.names = columns.used as unknown as Record<ColumnRole, string | null>;
    this.columnCount = columnCount;
    this.hasDateFilter = filters.fromMs !== null || filters.toMs !== null;
  }

  /** True when the concept is excluded by the conceptIds filter or the concept pattern. */
  conceptExcluded(conceptId: string): boolean {
    this.conceptsSeen.add(conceptId);
    const pattern = this.filters.conceptPattern;
    return (this.filters.conceptIds !== null && !this.filters.conceptIds.has(conceptId)) || (pattern != null && !pattern.test(conceptId));
  }

  /** True when a row with this time (NaN = none) is outside the date filter. */
  timeExcluded(timeMs: number): boolean {
    if (!this.hasDateFilter) return false;
    if (timeMs !== timeMs) return true;
    const { fromMs, toMs, toInclusive } = this.filters;
    return (fromMs !== null && timeMs < fromMs) || (toMs !== null && (toInclusive ? timeMs > toMs : timeMs >= toMs));
  }

  /** An InputError for `value` in column `role` at `line`. */
  valueError(role: ColumnRole, line: number, value: unknown, expected: string, hint: string): InputError {
    const shown =
      typeof value === 'string'
        ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)
        : value === undefined
          ? 'missing'
          : value === null
            ? 'empty'
            : String(value).slice(0, 60);
    return new InputError(`${this.source} ${this.unit} ${line}: column "${this.names[role]}" is ${shown}; expected ${expected}`, hint);
  }

  /** Add one CSV record (all fields as strings). */
  addRecord(fields: readonly string[], line: number): void {
    if (fields.length !== this.columnCount) {
      throw new InputError(
        `${this.source} line ${line}: ${fields.length} field${fields.length === 1 ? '' : 's'}, but the header has ${this.columnCount}`,
        'Quote values that contain commas, or remove the extra or missing fields',
      );
    }
    const ix = this.index;
    this.addValues(
      fields[ix.user],
      fields[ix.concept],
      fields[ix.correct],
      ix.time >= 0 ? fields[ix.time] : null,
      ix.order >= 0 ? fields[ix.order] : null,
      ix.question >= 0 ? fields[ix.question] : null,
      line,
      false,
      this.classColumns.length > 0 ? this.classColumns.map((c) => fields[c.index]) : undefined,
      this.extraIndex >= 0 ? fields[this.extraIndex] : null,
    );
  }

  /** The values of the carried class columns in a record keyed by column name (NDJSON, Arrow, SQLite rows). */
  classValuesOf(get: (name: string) => unknown): unknown[] | undefined {
    return this.classColumns.length > 0 ? this.classColumns.map((c) => get(c.name)) : undefined;
  }

  /**
   * A row that cannot be read at all (not a JSON object, a required field missing). This sink
   * throws `error`; a sink that rejects bad rows one by one records it and reading goes on.
   */
  badRow(error: InputError, _line: number): void {
    throw error;
  }

  /**
   * Add one row from any reader. Values may be strings, numbers, booleans, bigints, Dates or
   * null. `timeIsMs`: the time value is already epoch ms (Arrow timestamp and date columns), so
   * the seconds-or-milliseconds rule is not applied. `extra`: the value of column `extraIndex`
   * (unused here).
   * @throws InputError for a missing id, a bad correct value, time or order.
   */
  addValues(
    user: unknown,
    concept: unknown,
    correct: unknown,
    time: unknown,
    order: unknown,
    question: unknown,
    line: number,
    timeIsMs: boolean,
    classValues?: readonly unknown[],
    _extra: unknown = null,
  ): void {
    this.rowsRead++;
    const conceptId = this.idValue('concept', concept, line);
    if (this.conceptExcluded(conceptId)) {
      this.filtered.concept_id++;
      return;
    }
    const correctValue = this.correctValue(correct, line);
    const timeMs = this.timeValue(time, line, timeIsMs);
    if (this.timeExcluded(timeMs)) {
      this.filtered.date++;
      return;
    }
    const orderValue = this.orderValue(order, line);
    const userId = this.idValue('user', user, line);
    const questionId = this.optionalId(question, line);
    const b = this.builder;
    b.addIndexed(
      b.learnerIndex(userId),
      b.conceptIndex(conceptId),
      correctValue,
      timeMs,
      orderValue,
      questionId === null ? -1 : b.questionIndex(questionId),
    );
    if (classValues === undefined && this.classColumns.length > 0) {
      // A reader that does not pass them would silently put every row in one class.
      throw new UsageError(
        `${this.source}: this input format cannot carry the column "${this.classColumns[0].name}" the model variants need`,
        'Convert the input to CSV, NDJSON, Arrow or SQLite',
      );
    }
    if (classValues !== undefined) {
      for (let slot = 0; slot < classValues.length; slot++) {
        const id = this.optionalId(classValues[slot], line, this.classColumns[slot].name);
        if (id !== null) b.setClass(slot, b.classIndex(slot, id));
      }
    }
  }

  idValue(role: 'user' | 'concept', value: unknown, line: number): string {
    if (typeof value === 'string' && value !== '') return this.checkedId(role, value, line);
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value === 'bigint') return String(value);
    if (value === null || value === undefined || value === '') {
      throw new InputError(
        `${this.source} ${this.unit} ${line}: column "${this.names[role]}" is empty; every attempt needs a ${role} id`,
        `Fill it in or drop the row, or map another column with ${COLUMN_OPTIONS[role]}`,
      );
    }
    throw this.valueError(role, line, value, `a ${role} id (text or integer)`, `Map another column with ${COLUMN_OPTIONS[role]}`);
  }

  /**
   * `value` when it fits MAX_ID_BYTES; else an InputError naming the column and line (an id is
   * printed and stored everywhere, so a huge one is a broken file, see input-limits.ts).
   */
  checkedId(role: 'user' | 'concept' | 'question', value: string, line: number, column?: string): string {
    // A JS string of n UTF-16 units has between n and 3n UTF-8 bytes: count only when it matters.
    if (value.length * 3 <= MAX_ID_BYTES) return value;
    const bytes = Buffer.byteLength(value);
    if (bytes <= MAX_ID_BYTES) return value;
    const name = column ?? this.names[role] ?? role;
    throw new InputError(
      `${this.source} ${this.unit} ${line}: column "${name}" holds an id of ${bytes} bytes; ids are at most ${MAX_ID_BYTES} bytes (UTF-8)`,
      `Check that the column really holds ids, or map another column with ${COLUMN_OPTIONS[role]}`,
    );
  }

  correctValue(value: unknown, line: number): 0 | 1 {
    let v = -1;
    if (typeof value === 'string') v = parseCorrectString(value);
    else if (typeof value === 'number') v = value === 0 || value === 1 ? value : -1;
    else if (typeof value === 'boolean') v = value ? 1 : 0;
    else if (typeof value === 'bigint') v = value === 0n ? 0 : value === 1n ? 1 : -1;
    if (v === 0 || v === 1) return v;
    throw this.valueError(
      'correct',
      line,
      value,
      '0, 1, true or false',
      `Fix the value, or map another column with ${COLUMN_OPTIONS.correct}`,
    );
  }

  timeValue(value: unknown, line: number, timeIsMs: boolean): number {
    if (value === null || value === undefined) return NaN;
    let ms = NaN;
    if (typeof value === 'string') {
      if (isBlankString(value)) return NaN;
      ms = parseTimeString(value);
    } else if (typeof value === 'number') {
      ms = timeIsMs ? value : epochToMs(value);
    } else if (typeof value === 'bigint') {
      ms = timeIsMs ? Number(value) : epochToMs(Number(value));
    } else if (value instanceof Date) {
      ms = value.getTime();
    }
    if (timeInRange(ms)) return ms;
    throw this.valueError(
      'time',
      line,
      value,
      `an ISO-8601 date-time (2024-03-01T12:00:00Z) or epoch seconds or milliseconds, ${TIME_RANGE_TEXT}`,
      `Fix the value, or map another column with ${COLUMN_OPTIONS.time}`,
    );
  }

  orderValue(value: unknown, line: number): number {
    if (value === null || value === undefined) return NaN;
    let v = NaN;
    if (typeof value === 'string') {
      if (isBlankString(value)) return NaN;
      v = parseOrderString(value);
    } else if (typeof value === 'number') {
      v = value;
    } else if (typeof value === 'bigint') {
      v = Number(value);
    }
    if (Number.isFinite(v)) return v;
    throw this.valueError('order', line, value, 'a number', `Fix the value, or map another column with ${COLUMN_OPTIONS.order}`);
  }

  /** A question (or, with `column`, a class column) id: null when empty; length-checked. */
  optionalId(value: unknown, line: number, column?: string): string | null {
    if (value === null || value === undefined) return null;
    if (typeof value === 'string') return isBlankString(value) ? null : this.checkedId('question', value, line, column);
    return String(value);
  }
}
