/**
 * Column-chunk writers: the formats of writers.ts, fed chunks of columns instead of row objects,
 * so a producer that already holds columns (typed arrays of predictions, decoded Parquet or
 * Arrow batches) writes without building an object per row. A float column may be a
 * Float64Array in which NaN stands for null. Memory holds one chunk at a time.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { ColumnSpec, ExportFormat } from './columns.js';
import { csvField, textValue, toBool, toIso, toNumber, writeChunk } from './values.js';

/** `length` rows, one array of values per column (in the writer's column order). */
export interface ColumnChunk {
  length: number;
  columns: ArrayLike<unknown>[];
}

const isNull = (value: unknown): boolean => value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));

/** The CSV text of each value of a column (empty for null and NaN). */
function csvEncoder(column: ColumnSpec): (value: unknown) => string {
  if (column.type === 'float' || column.type === 'int') {
    return (value) => {
      if (value === null || value === undefined) return '';
      const n = toNumber(value);
      return Number.isNaN(n) ? '' : String(n);
    };
  }
  return (value) => (isNull(value) ? '' : csvField(textValue(value, column)));
}

/** The JSON text of each value of a column (null for null and NaN). */
function jsonEncoder(column: ColumnSpec): (value: unknown) => string {
  switch (column.type) {
    case 'float':
    case 'int':
      return (value) => {
        if (value === null || value === undefined) return 'null';
        const n = toNumber(value);
        return Number.isFinite(n) ? String(n) : 'null';
      };
    case 'bool':
      return (value) => (isNull(value) ? 'null' : toBool(value) ? 'true' : 'false');
    case 'timestamp':
      return (value) => {
        const iso = isNull(value) ? null : toIso(value);
        return iso === null ? 'null' : `"${iso}"`;
      };
    case 'json':
      return (value) => (isNull(value) ? 'null' : typeof value === 'string' ? value : JSON.stringify(value));
    default:
      return (value) => {
        if (isNull(value)) return 'null';
        const text = String(value);
        // Most ids need no escaping: skip JSON.stringify's copy for them.
        return NEEDS_JSON_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
      };
  }
}

/** Characters JSON.stringify would escape in a string (quote, backslash, controls, lone surrogates). */
const NEEDS_JSON_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Rows encoded per string handed to the output: small, so a batch's strings die young. */
const TEXT_BATCH_ROWS = 256;

/**
 * Write column chunks to `out` in `format` (csv, json, ndjson, arrow or parquet; types as in
 * columns.ts); returns the number of rows written. Does not end `out`.
 */
export async function writeColumnChunks(
  chunks: AsyncIterable<ColumnChunk>,
  columns: readonly ColumnSpec[],
  format: ExportFormat,
  out: Writable,
): Promise<number> {
  if (format === 'arrow') return writeArrowChunks(chunks, columns, out);
  if (format === 'parquet') return writeParquetChunks(chunks, columns, out);
  let count = 0;
  if (format === 'csv') {
    const encoders = columns.map(csvEncoder);
    await writeChunk(out, columns.map((c) => csvField(c.name)).join(',') + '\n');
    for await (const chunk of chunks) {
      for (let from = 0; from < chunk.length; from += TEXT_BATCH_ROWS) {
        const to = Math.min(chunk.length, from + TEXT_BATCH_ROWS);
        let text = '';
        for (let i = from; i < to; i++) {
          let line = encoders[0](chunk.columns[0][i]);
          for (let c = 1; c < encoders.length; c++) line += ',' + encoders[c](chunk.columns[c][i]);
          text += line + '\n';
        }
        await writeChunk(out, text);
      }
      count += chunk.length;
    }
    return count;
  }
  const encoders = columns.map(jsonEncoder);
  const keys = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
  const objectText = (chunk: ColumnChunk, i: number): string => {
    let text = '';
    for (let c = 0; c < encoders.length; c++) text += keys[c] + encoders[c](chunk.columns[c][i]);
    return text + '}';
  };
  if (format === 'json') await writeChunk(out, '[');
  for await (const chunk of chunks) {
    for (let from = 0; from < chunk.length; from += TEXT_BATCH_ROWS) {
      const to = Math.min(chunk.length, from + TEXT_BATCH_ROWS);
      let text = '';
      for (let i = from; i < to; i++) {
        text += format === 'json' ? (count + i === 0 ? '\n' : ',\n') + objectText(chunk, i) : objectText(chunk, i) + '\n';
      }
      await writeChunk(out, text);
    }
    count += chunk.length;
  }
  if (format === 'json') await writeChunk(out, count === 0 ? ']\n' : '\n]\n');
  return count;
}

/** Values of one column for the Arrow and Parquet builders: NaN and undefined become null. */
function nullableValues(values: ArrayLike<unknown>, convert: (value: unknown) => unknown): unknown[] {
  const out = new Array<unknown>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = isNull(values[i]) ? null : convert(values[i]);
  return out;
}

async function writeArrowChunks(chunks: AsyncIterable<ColumnChunk>, columns: readonly ColumnSpec[], out: Writable): Promise<number> {
  const { makeData, RecordBatch, RecordBatchFileWriter, Struct, vectorFromArray } = await import('apache-arrow');
  const { arrowSchema, arrowValue } = await import('./arrow-writer.js');
  const schema = arrowSchema(columns);
  const writer = new RecordBatchFileWriter();
  // As in arrow-writer.ts: pump the writer's unbounded queue into `out` ourselves, honouring
  // 'drain', and wait for the queue to empty before building the next batch.
  const queued = (writer as unknown as { _sink?: { _values?: unknown[] } })._sink?._values;
  const piped = (async () => {
    for await (const chunk of writer) if (!out.write(chunk)) await once(out, 'drain');
  })();
  let count = 0;
  const writeBatch = async (chunk: ColumnChunk): Promise<void> => {
    const children = schema.fields.map((f, i) => vectorFromArray(nullableValues(chunk.columns[i], (v) => arrowValue(v, columns[i])), f.type).data[0]);
    writer.write(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: chunk.length, nullCount: 0, children })));
    do await new Promise((resolve) => setImmediate(resolve));
    while ((queued && queued.length > 0) || out.writableNeedDrain);
  };
  try {
    for await (const chunk of chunks) {
      if (chunk.length === 0) continue;
      await writeBatch(chunk);
      count += chunk.length;
    }
    // An empty file still carries its schema (one empty batch keeps every reader happy).
    if (count === 0) await writeBatch({ length: 0, columns: columns.map(() => []) });
    writer.finish();
    await piped;
  } catch (error) {
    writer.abort();
    throw error;
  }
  return count;
}

async function writeParquetChunks(chunks: AsyncIterable<ColumnChunk>, columns: readonly ColumnSpec[], out: Writable): Promise<number> {
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const { parquetSchema, parquetValue } = await import('./parquet-writer.js');
  const bytes = new ByteWriter(1 << 20);
  const writer = new ParquetWriter({ writer: bytes, schema: parquetSchema(columns) });
  const drain = async (): Promise<void> => {
    if (bytes.index === 0) return;
    await writeChunk(out, new Uint8Array(bytes.buffer.slice(0, bytes.index)));
    bytes.index = 0;
  };
  let count = 0;
  for await (const chunk of chunks) {
    if (chunk.length === 0) continue;
    writer.write({
      columnData: columns.map((c, i) => ({ name: c.name, data: nullableValues(chunk.columns[i], (v) => parquetValue(v, c)) })),
      rowGroupSize: chunk.length,
    });
    count += chunk.length;
    await drain();
  }
  writer.finish();
  await drain();
  return count;
}
