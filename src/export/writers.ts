/**
 * Streaming row writers: CSV, JSON (one array, streamed), NDJSON, Arrow IPC (file format) and Parquet.
 *
 * Each writer takes an (async) iterable of plain rows and a typed column list, holds at most one
 * chunk of rows in memory (`chunkRows`, default 8192) and waits for the output to drain before
 * going on, so memory stays constant however many rows pass through.
 */
import type { Writable } from 'node:stream';
import { timestampMs } from '../data/parse-values.js';
import type { ColumnSpec, ExportFormat } from './columns.js';
import { csvField, textValue, toBool, toIso, toNumber, writeChunk, type Row } from './values.js';

export { csvField, writeChunk };

export type { Row };

export interface WriteOptions {
  /** Rows per chunk (and per Arrow record batch). Default 8192. */
  chunkRows?: number;
}

/** Write `rows` to `out` in `format`; returns the number of rows written. Does not end `out`. */
export async function writeRows(
  rows: AsyncIterable<Row> | Iterable<Row>,
  columns: readonly ColumnSpec[],
  format: ExportFormat,
  out: Writable,
  options: WriteOptions = {},
): Promise<number> {
  const chunkRows = options.chunkRows ?? 8192;
  if (format === 'arrow') {
    const { writeArrow } = await import('./arrow-writer.js');
    return writeArrow(rows, columns, out, chunkRows);
  }
  if (format === 'parquet') {
    const { writeParquet } = await import('./parquet-writer.js');
    return writeParquet(rows, columns, out, chunkRows);
  }
  const encode = TEXT_ENCODERS[format];
  let count = 0;
  let buffer: string[] = [];
  if (format === 'csv') buffer.push(columns.map((c) => csvField(c.name)).join(',') + '\n');
  if (format === 'json') buffer.push('[');
  for await (const row of rows) {
    buffer.push(encode(row, columns, count));
    count += 1;
    if (buffer.length >= chunkRows) {
      await writeChunk(out, buffer.join(''));
      buffer = [];
    }
  }
  if (format === 'json') buffer.push(count === 0 ? ']\n' : '\n]\n');
  if (buffer.length > 0) await writeChunk(out, buffer.join(''));
  return count;
}


type Encoder = (row: Row, columns: readonly ColumnSpec[], index: number) => string;

const TEXT_ENCODERS: Record<Exclude<ExportFormat, 'arrow' | 'parquet'>, Encoder> = {
  csv: (row, columns) => columns.map((c) => csvField(textValue(row[c.name], c))).join(',') + '\n',
  ndjson: (row, columns) => JSON.stringify(jsonRow(row, columns)) + '\n',
  json: (row, columns, index) => (index === 0 ? '\n' : ',\n') + JSON.stringify(jsonRow(row, columns)),
};


/** A row with every column normalised to its JSON value (null where absent). */
export function jsonRow(row: Row, columns: readonly ColumnSpec[]): Row {
  const out: Row = {};
  for (const c of columns) out[c.name] = jsonValue(row[c.name], c);
  return out;
}

function jsonValue(value: unknown, column: ColumnSpec): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'float':
    case 'int':
      return toNumber(value);
    case 'bool':
      return toBool(value);
    case 'timestamp':
      return toIso(value);
    case 'json':
      return typeof value === 'string' ? JSON.parse(value) : value;
    default:
      return String(value);
  }
}
