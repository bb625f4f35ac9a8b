import { InputError } from '../errors.js';
import { UTF8_HINT } from './input-limits.js';
import type { RowSink } from './row-sink.js';
import type { SinkFactory } from './read-csv.js';

/** One row group of a Parquet file, column by column (values as hyparquet decodes them). */
export interface ParquetBatch {
  /** Number of rows in the batch. */
  length: number;
  /** One array per requested column, in the order asked for. */
  columns: ArrayLike<unknown>[];
  /**
   * The text values that are not valid UTF-8, in row order: the batch row and the position of
   * the column in `columns`. Their place in `columns` holds no string. Empty for a valid batch.
   */
  invalidText: { row: number; column: number }[];
}

/** Top-level column of a Parquet schema: its name and the physical/logical type the file declares. */
export interface ParquetColumnInfo {
  name: string;
  /** Physical type: BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY... */
  type: string | undefined;
  /** Converted type when given (UTF8, TIMESTAMP_MILLIS, DATE, ...). */
  convertedType: string | undefined;
  /** Logical type name when given (STRING, TIMESTAMP, DATE, ...). */
  logicalType: string | undefined;
}

/** An opened Parquet file: its columns and an iterator over its row groups. */
export interface ParquetFile {
  columns: ParquetColumnInfo[];
  rowCount: number;
  /** Row groups in file order, only the named columns (all when omitted). */
  batches(names?: string[]): AsyncGenerator<ParquetBatch>;
}

/**
 * A text value whose bytes are not UTF-8. hyparquet's own decoder turns such bytes into U+FFFD
 * (merging distinct ids), so text is decoded strictly and a bad value is kept apart, for the
 * batch to name its row and column.
 */
class InvalidUtf8Text {
  constructor(readonly bytes: Uint8Array) {}
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * hyparquet's text parser, strict: every STRING/UTF8 column and every unannotated BYTE_ARRAY one
 * (hyparquet's `utf8` default) goes through it, once per dictionary entry for dictionary pages.
 */
const STRICT_TEXT_PARSERS = {
  stringFromBytes(bytes: Uint8Array | undefined): unknown {
    if (!bytes) return bytes;
    try {
      return strictUtf8.decode(bytes);
    } catch {
      return new InvalidUtf8Text(bytes);
    }
  },
} as unknown as Partial<import('hyparquet').ParquetParsers>;

/** The invalid UTF-8 text values of a batch's columns, in row order (see ParquetBatch.invalidText). */
function invalidTextOf(columns: ArrayLike<unknown>[]): { row: number; column: number }[] {
  const found: { row: number; column: number }[] = [];
  columns.forEach((values, column) => {
    // Typed arrays (numbers, bigints) hold no text.
    if (!Array.isArray(values)) return;
    for (let row = 0; row < values.length; row++) if (values[row] instanceof InvalidUtf8Text) found.push({ row, column });
  });
  return found.sort((a, b) => a.row - b.row || a.column - b.column);
}

/** The InputError for a text value of a Parquet file that is not valid UTF-8 (`row` is 1-based). */
export function invalidParquetTextError(source: string, row: number, column: string): InputError {
  return new InputError(`${source} row ${row}: column "${column}" is not valid UTF-8`, UTF8_HINT);
}

/**
 * Open Parquet bytes with hyparquet (pure JavaScript; chosen over parquet-wasm and
 * @dsnp/parquetjs by measured read speed, see docs/data-formats.md). Reading goes one row group
 * at a time, so only one group's decoded columns are held at once. Text is decoded strictly: a
 * value that is not UTF-8 is listed in its batch's `invalidText` for the caller to refuse or reject.
 * @throws InputError when the bytes are not a Parquet file.
 */
export async function openParquet(bytes: Uint8Array, source: string): Promise<ParquetFile> {
  const { parquetMetadata, parquetSchema, parquetRead } = await import('hyparquet');
  // hyparquet wants an ArrayBuffer of exactly the file.
  const file =
    bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
      ? (bytes.buffer as ArrayBuffer)
      : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  let metadata: import('hyparquet').FileMetaData;
  try {
    if (bytes.byteLength < 12) throw new Error('too short');
    metadata = parquetMetadata(file);
  } catch (error) {
    throw new InputError(`${source}: not a Parquet file (${(error as Error).message})`, 'Pass `format` to name the real format');
  }
  const schema = parquetSchema(metadata);
  const columns: ParquetColumnInfo[] = schema.children.map((child) => ({
    name: child.element.name,
    type: child.element.type,
    convertedType: child.element.converted_type,
    logicalType: child.element.logical_type?.type,
  }));
  const rowCount = Number(metadata.num_rows);
  async function* batches(names?: string[]): AsyncGenerator<ParquetBatch> {
    const wanted = names ?? columns.map((c) => c.name);
    let rowStart = 0;
    for (const group of metadata.row_groups) {
      const length = Number(group.num_rows);
      const rowEnd = rowStart + length;
      const out: ArrayLike<unknown>[] = wanted.map(() => []);
      try {
        await parquetRead({
          file,
          metadata,
          rowStart,
          rowEnd,
          columns: wanted,
          parsers: STRICT_TEXT_PARSERS,
          onChunk: (chunk) => {
            // A chunk may cover more than the group asked for; keep the group's rows only.
            const k = wanted.indexOf(chunk.columnName);
            if (k < 0) return;
            const skip = Math.max(0, rowStart - chunk.rowStart);
            const data = chunk.columnData as ArrayLike<unknown> & { slice(a: number, b: number): ArrayLike<unknown> };
            const take = Math.min(data.length - skip, rowEnd - Math.max(rowStart, chunk.rowStart));
            const part = skip === 0 && take === data.length ? data : data.slice(skip, skip + take);
            const current = out[k];
            out[k] = current.length === 0 ? part : concatValues(current, part);
          },
        });
      } catch (error) {
        throw new InputError(`${source}: cannot decode row group at row ${rowStart + 1} (${(error as Error).message})`, 'Check the file, e.g. by reading it with pyarrow');
      }
      yield { length, columns: out, invalidText: invalidTextOf(out) };
      rowStart = rowEnd;
    }
  }
  return { columns, rowCount, batches };
}

function concatValues(a: ArrayLike<unknown>, b: ArrayLike<unknown>): unknown[] {
  const out = new Array<unknown>(a.length + b.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  for (let i = 0; i < b.length; i++) out[a.length + i] = b[i];
  return out;
}

/**
 * Read a Parquet file into a RowSink. Ids may be strings or integers (INT64 comes back as
 * bigint); `correct` bool, integer or string; time a TIMESTAMP or DATE column (hyparquet gives
 * Dates), an integer epoch (seconds or ms by the usual rule) or ISO strings. Errors name the
 * 1-based row, as the Arrow reader's do. A text value that is not UTF-8 is a bad row (the sink
 * throws, or rejects that row on its own).
 * @throws InputError when the bytes are not Parquet, the file has no rows, or a value is bad.
 */
export async function readParquet(bytes: Uint8Array, source: string, makeSink: SinkFactory): Promise<RowSink> {
  const parquet = await openParquet(bytes, source);
  const names = parquet.columns.map((c) => c.name);
  if (names.length === 0) throw new InputError(`${source} is empty`, 'Write a table with user_id, concept_id and correct columns');
  const sink = makeSink(names, `${source} (Parquet schema)`);
  if (parquet.rowCount === 0) throw new InputError(`${source} has no rows`, 'Give a table with at least one attempt');
  const ix = sink.index;
  const roles = [ix.user, ix.concept, ix.correct, ix.time, ix.order, ix.question, sink.extraIndex];
  const classIndex = sink.classColumns.map((c) => c.index);
  const wanted = [...new Set([...roles, ...classIndex].filter((i) => i >= 0))].map((i) => names[i]);
  const position = (i: number) => (i >= 0 ? wanted.indexOf(names[i]) : -1);
  const [pu, pc, pk, pt, po, pq, px] = roles.map(position);
  const classPositions = classIndex.map(position);
  let row = 0;
  for await (const batch of parquet.batches(wanted)) {
    const col = (p: number) => (p >= 0 ? batch.columns[p] : null);
    const user = col(pu)!;
    const concept = col(pc)!;
    const correct = col(pk)!;
    const time = col(pt);
    const order = col(po);
    const question = col(pq);
    const classes = classPositions.map((p) => col(p)!);
    const extra = col(px);
    const invalid = batch.invalidText;
    let nextInvalid = 0;
    for (let i = 0; i < batch.length; i++) {
      row++;
      if (nextInvalid < invalid.length && invalid[nextInvalid].row === i) {
        const column = wanted[invalid[nextInvalid].column];
        while (nextInvalid < invalid.length && invalid[nextInvalid].row === i) nextInvalid++;
        sink.rowsRead++;
        sink.badRow(invalidParquetTextError(source, row, column), row);
        continue;
      }
      sink.addValues(
        user[i],
        concept[i],
        correct[i],
        time ? time[i] : null,
        order ? order[i] : null,
        question ? question[i] : null,
        row,
        false,
        classes.length > 0 ? classes.map((c) => c[i]) : undefined,
        extra ? extra[i] : null,
      );
    }
  }
  return sink;
}
