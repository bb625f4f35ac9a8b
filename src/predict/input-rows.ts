import { StringDecoder } from 'node:string_decoder';
import { tableFromIpc } from '../data/arrow-ipc.js';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { readAllBytes, openInputChunks } from '../data/input-stream.js';
import type { ReadFormat } from '../data/formats.js';
import { UTF8_HINT } from '../data/input-limits.js';
import { InputError } from '../errors.js';
import type { ColumnSpec, ColumnType } from '../export/columns.js';

/** Input rows in chunks, column by column (values as the format's decoder gives them). */
export interface InputChunk {
  length: number;
  columns: ArrayLike<unknown>[];
}

/** Every column of an input file, typed for output, and its rows again in input order. */
export interface InputRows {
  columns: ColumnSpec[];
  chunks: AsyncGenerator<InputChunk>;
}

const CHUNK_ROWS = 8192;

/**
 * Read an attempts input a second time, all its columns, in file order: what `predict` copies
 * through to its output beside the predictions. Rows are the ones the attempts readers count
 * (CSV and NDJSON skip empty lines). Column types: CSV columns are text (CSV has no types);
 * NDJSON columns take the type of the first object's value; Arrow, Parquet and SQLite keep theirs
 * (64-bit integers as float, exact below 2^53).
 * @throws InputError when the input cannot be read.
 */
export async function openInputRows(input: { input: string; format: ReadFormat; table?: string; query?: string }, source: string): Promise<InputRows> {
  switch (input.format) {
    case 'csv':
      return csvRows(input.input, source);
    case 'ndjson':
      return ndjsonRows(input.input, source);
    case 'arrow':
      return arrowRows(await readAllBytes({ input: input.input }), source);
    case 'parquet':
      return parquetRows(await readAllBytes({ input: input.input }), source);
    case 'sqlite':
      return sqliteRows(input.input, input.table, input.query);
  }
}

function transpose(rows: unknown[][], width: number): InputChunk {
  const columns = Array.from({ length: width }, (_, c) => rows.map((r) => r[c]));
  return { length: rows.length, columns };
}

/** Raw CSV records of an input, header first, in chunks (see csvRecords). */
export interface CsvRecords {
  /** The header record as written in the file (BOM removed). */
  header: string;
  /** Column names parsed from the header. */
  names: string[];
  /** Data records as written (no line end; a quoted field may hold a line break), in chunks. */
  chunks: AsyncGenerator<string[]>;
}

/** Number of double quotes in `text`. */
function quoteCount(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i >= 0; i = text.indexOf('"', i + 1)) n++;
  return n;
}

/**
 * The records of a CSV input as the text they are written in: lines split on LF (a CR before
 * it dropped), empty lines skipped as the attempts readers skip them, and a line with an odd
 * number of quotes joined with the next until the quotes balance (a quoted field holding a line
 * break). No field is split here, so copying records through costs one string per row.
 * @throws InputError for an empty input.
 */
export async function csvRecords(path: string, source: string): Promise<CsvRecords> {
  async function* records(): AsyncGenerator<string[]> {
    let leftover = '';
    let pending = '';
    let first = true;
    // A multi-byte character may straddle two chunks: the decoder holds its first bytes back.
    const decoder = new StringDecoder('utf8');
    for await (const chunk of openInputChunks({ input: path })) {
      let text = leftover + decoder.write(chunk);
      if (first) {
        if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
        first = false;
      }
      const lines = text.split('\n');
      leftover = lines.pop()!;
      const out: string[] = [];
      for (let line of lines) {
        if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
        if (pending !== '') {
          pending += '\n' + line;
          if (quoteCount(pending) % 2 === 0) {
            out.push(pending);
            pending = '';
          }
          continue;
        }
        if (line === '') continue;
        if (line.indexOf('"') >= 0 && quoteCount(line) % 2 === 1) {
          pending = line;
          continue;
        }
        out.push(line);
      }
      if (out.length > 0) yield out;
    }
    leftover += decoder.end();
    let last = leftover.charCodeAt(leftover.length - 1) === 13 ? leftover.slice(0, -1) : leftover;
    if (pending !== '') last = last === '' ? pending : pending + '\n' + last;
    if (last !== '') yield [last];
  }
  const iterator = records();
  let head = await iterator.next();
  while (!head.done && head.value.length === 0) head = await iterator.next();
  if (head.done) throw new InputError(`${source} is empty`, 'Give a header line and at least one attempt');
  const [header, ...rest] = head.value;
  async function* chunks(): AsyncGenerator<string[]> {
    if (rest.length > 0) yield rest;
    for await (const chunk of iterator) yield chunk;
  }
  return { header, names: splitCsvRecord(header), chunks: chunks() };
}

/** The fields of one CSV record: a plain split when it has no quote, else csv-parse. */
export function splitCsvRecord(record: string): string[] {
  if (record.indexOf('"') < 0) return record.split(',');
  return (parseCsvSync(record, { relax_quotes: true }) as string[][])[0] ?? [''];
}

async function csvRows(path: string, source: string): Promise<InputRows> {
  const { names, chunks: records } = await csvRecords(path, source);
  async function* chunks(): AsyncGenerator<InputChunk> {
    for await (const chunk of records) {
      // Small pieces: a piece's strings die before the young generation is collected twice.
      for (let from = 0; from < chunk.length; from += 1024) {
        const length = Math.min(1024, chunk.length - from);
        const columns: string[][] = names.map(() => new Array<string>(length));
        for (let i = 0; i < length; i++) {
          const fields = splitCsvRecord(chunk[from + i]);
          for (let c = 0; c < names.length; c++) columns[c][i] = fields[c] ?? '';
        }
        yield { length, columns };
      }
    }
  }
  return { columns: names.map((name) => ({ name, type: 'text' as const, nullable: true })), chunks: chunks() };
}

function jsonType(value: unknown): ColumnType {
  if (typeof value === 'number') return 'float';
  if (typeof value === 'boolean') return 'bool';
  return 'text';
}

async function ndjsonRows(path: string, source: string): Promise<InputRows> {
  const lines = (async function* () {
    let leftover = '';
    for await (const chunk of openInputChunks({ input: path })) {
      const text = leftover + chunk.toString('utf8');
      const parts = text.split('\n');
      leftover = parts.pop()!;
      for (const part of parts) yield part;
    }
    if (leftover !== '') yield leftover;
  })();
  let first: Record<string, unknown> | null = null;
  const objects = (async function* () {
    let line = 0;
    for await (let text of lines) {
      line++;
      if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      if (text.trim() === '') continue;
      try {
        yield JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        throw new InputError(`${source} line ${line}: not valid JSON (${(error as Error).message})`, 'Write one JSON object per line');
      }
    }
  })();
  const head = await objects.next();
  if (head.done) throw new InputError(`${source} is empty`, 'Give one JSON object per line');
  first = head.value;
  const names = Object.keys(first);
  async function* chunks(): AsyncGenerator<InputChunk> {
    let rows: unknown[][] = [names.map((n) => first![n] ?? null)];
    for await (const object of objects) {
      rows.push(names.map((n) => object[n] ?? null));
      if (rows.length === CHUNK_ROWS) {
        yield transpose(rows, names.length);
        rows = [];
      }
    }
    if (rows.length > 0) yield transpose(rows, names.length);
  }
  return { columns: names.map((name) => ({ name, type: jsonType(first![name]), nullable: true })), chunks: chunks() };
}

async function arrowRows(bytes: Uint8Array, source: string): Promise<InputRows> {
  const arrow = await import('apache-arrow');
  let table: import('apache-arrow').Table;
  try {
    table = await tableFromIpc(arrow, bytes);
  } catch (error) {
    throw new InputError(`${source}: not an Arrow IPC file or stream (${(error as Error).message})`, 'Pass `format` to name the real format');
  }
  const typeOf = (type: import('apache-arrow').DataType): ColumnType => {
    if (arrow.DataType.isTimestamp(type) || arrow.DataType.isDate(type)) return 'timestamp';
    if (arrow.DataType.isBool(type)) return 'bool';
    if (arrow.DataType.isInt(type)) return type.bitWidth <= 32 ? 'int' : 'float';
    if (arrow.DataType.isFloat(type)) return 'float';
    return 'text';
  };
  const columns = table.schema.fields.map((f) => ({ name: f.name, type: typeOf(f.type), nullable: true }));
  const { invalidTextRows } = await import('../data/read-arrow.js');
  async function* chunks(): AsyncGenerator<InputChunk> {
    let rowStart = 0;
    for (const batch of table.batches) {
      // Every column is written out: apache-arrow would decode invalid UTF-8 as U+FFFD.
      table.schema.fields.forEach((field, c) => {
        const [bad] = invalidTextRows(arrow, batch.getChildAt(c)!);
        if (bad !== undefined) throw new InputError(`${source} row ${rowStart + bad + 1}: column "${field.name}" is not valid UTF-8`, UTF8_HINT);
      });
      rowStart += batch.numRows;
      const values = table.schema.fields.map((_, c) => {
        const child = batch.getChildAt(c)!;
        return Array.from({ length: batch.numRows }, (_, i) => child.get(i));
      });
      yield { length: batch.numRows, columns: values };
    }
  }
  return { columns, chunks: chunks() };
}

async function parquetRows(bytes: Uint8Array, source: string): Promise<InputRows> {
  const { invalidParquetTextError, openParquet } = await import('../data/read-parquet.js');
  const parquet = await openParquet(bytes, source);
  const typeOf = (c: (typeof parquet.columns)[number]): ColumnType => {
    if (c.convertedType?.startsWith('TIMESTAMP') || c.convertedType === 'DATE' || c.logicalType === 'TIMESTAMP' || c.logicalType === 'DATE') return 'timestamp';
    if (c.type === 'BOOLEAN') return 'bool';
    if (c.type === 'INT32') return 'int';
    if (c.type === 'INT64' || c.type === 'FLOAT' || c.type === 'DOUBLE') return 'float';
    return 'text';
  };
  return {
    columns: parquet.columns.map((c) => ({ name: c.name, type: typeOf(c), nullable: true })),
    chunks: checkedText(parquet.batches()),
  };
  /** Every row is written out: a text value that is not UTF-8 stops the read, naming its row and column. */
  async function* checkedText(batches: AsyncGenerator<import('../data/read-parquet.js').ParquetBatch>): AsyncGenerator<InputChunk> {
    let rowStart = 0;
    for await (const batch of batches) {
      const [bad] = batch.invalidText;
      if (bad !== undefined) throw invalidParquetTextError(source, rowStart + bad.row + 1, parquet.columns[bad.column].name);
      rowStart += batch.length;
      yield batch;
    }
  }
}

async function sqliteRows(path: string, table: string | undefined, query: string | undefined): Promise<InputRows> {
  const { default: Database } = await import('better-sqlite3');
  const { DEFAULT_SQLITE_TABLE } = await import('../data/read-sqlite.js');
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const sql = query ?? `SELECT * FROM "${(table ?? DEFAULT_SQLITE_TABLE).replace(/"/g, '""')}"`;
  const stmt = db.prepare(sql);
  const declared = stmt.columns();
  const typeOf = (declaredType: string | null): ColumnType => {
    const t = (declaredType ?? '').toUpperCase();
    if (/INT/.test(t)) return 'float';
    if (/REAL|FLOA|DOUB|NUMERIC|DECIMAL/.test(t)) return 'float';
    if (/BOOL/.test(t)) return 'bool';
    return 'text';
  };
  stmt.raw(true);
  async function* chunks(): AsyncGenerator<InputChunk> {
    try {
      let rows: unknown[][] = [];
      for (const row of stmt.iterate() as Iterable<unknown[]>) {
        rows.push(row);
        if (rows.length === CHUNK_ROWS) {
          yield transpose(rows, declared.length);
          rows = [];
        }
      }
      if (rows.length > 0) yield transpose(rows, declared.length);
    } finally {
      db.close();
    }
  }
  return { columns: declared.map((c) => ({ name: c.name, type: typeOf(c.type), nullable: true })), chunks: chunks() };
}
