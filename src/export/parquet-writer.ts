/**
 * Parquet writer (hyparquet-writer, pure JavaScript; chosen by measured speed, see
 * docs/data-formats.md). One row group per chunk of rows, and each group's bytes go to the output
 * as soon as it is encoded, so memory holds one chunk at a time. Types: uuid/text/json -> STRING
 * (BYTE_ARRAY UTF8), float -> DOUBLE, int -> INT32, bool -> BOOLEAN, timestamp -> INT64
 * TIMESTAMP_MILLIS; nullable columns are OPTIONAL, the others REQUIRED. pyarrow, pandas, DuckDB
 * and Spark read these files.
 */
import type { Writable } from 'node:stream';
import type { ColumnSpec } from './columns.js';
import { timestampMs } from '../data/parse-values.js';
import { textValue, toBool, toNumber, writeChunk, type Row } from './values.js';

type SchemaElement = ConstructorParameters<typeof import('hyparquet-writer').ParquetWriter>[0]['schema'][number];

function schemaElement(column: ColumnSpec): SchemaElement {
  const repetition_type = column.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (column.type) {
    case 'float':
      return { name: column.name, type: 'DOUBLE', repetition_type };
    case 'int':
      return { name: column.name, type: 'INT32', repetition_type };
    case 'bool':
      return { name: column.name, type: 'BOOLEAN', repetition_type };
    case 'timestamp':
      return { name: column.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type };
    default:
      return { name: column.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type };
  }
}

/** One value as hyparquet-writer takes it for its column type. */
export function parquetValue(value: unknown, column: ColumnSpec): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'float': {
      const n = toNumber(value);
      return Number.isNaN(n) && column.nullable ? null : n;
    }
    case 'int':
      return toNumber(value);
    case 'bool':
      return toBool(value);
    case 'timestamp': {
      const ms = timestampMs(value);
      return Number.isNaN(ms) ? null : new Date(ms);
    }
    default:
      return textValue(value, column);
  }
}

/** The Parquet schema (root first) of a column list. */
export function parquetSchema(columns: readonly ColumnSpec[]): SchemaElement[] {
  return [{ name: 'root', num_children: columns.length }, ...columns.map(schemaElement)];
}

/**
 * Write `rows` as one Parquet file to `out`, a row group per `chunkRows` rows; returns the row
 * count. An empty input gives a valid file with the schema and no row groups.
 */
export async function writeParquet(
  rows: AsyncIterable<Row> | Iterable<Row>,
  columns: readonly ColumnSpec[],
  out: Writable,
  chunkRows: number,
): Promise<number> {
  const { ByteWriter, ParquetWriter } = await import('hyparquet-writer');
  const bytes = new ByteWriter(1 << 20);
  const writer = new ParquetWriter({ writer: bytes, schema: parquetSchema(columns) });
  // ParquetWriter tracks file offsets in `offset`; the buffer position `index` can be reset once
  // the bytes before it are handed to the output (hyparquet-writer's own file writer does this).
  const drain = async (): Promise<void> => {
    if (bytes.index === 0) return;
    await writeChunk(out, new Uint8Array(bytes.buffer.slice(0, bytes.index)));
    bytes.index = 0;
  };
  let values: unknown[][] = columns.map(() => []);
  let pending = 0;
  let count = 0;
  const flush = async (): Promise<void> => {
    writer.write({
      columnData: columns.map((c, i) => ({ name: c.name, data: values[i] })),
      rowGroupSize: pending,
    });
    values = columns.map(() => []);
    pending = 0;
    await drain();
  };
  for await (const row of rows) {
    for (let i = 0; i < columns.length; i += 1) values[i].push(parquetValue(row[columns[i].name], columns[i]));
    pending += 1;
    count += 1;
    if (pending >= chunkRows) await flush();
  }
  if (pending > 0) await flush();
  writer.finish();
  await drain();
  return count;
}
