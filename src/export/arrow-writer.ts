/**
 * Arrow IPC file writer (the Feather v2 / `.arrow` format: pyarrow.ipc.open_file,
 * pyarrow.feather.read_table and apache-arrow's tableFromIPC read it). One record batch per
 * chunk of rows, so memory holds one chunk at a time. Types: uuid/text/json -> Utf8,
 * float -> Float64, int -> Int32, bool -> Bool, timestamp -> Timestamp(ms, "UTC").
 * apache-arrow costs ~240 ms to import, so this module is loaded only when asked for.
 */
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import {
  Bool,
  Field,
  Float64,
  Int32,
  makeData,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  TimeUnit,
  Timestamp,
  Utf8,
  vectorFromArray,
  type DataType,
} from 'apache-arrow';
import type { ColumnSpec } from './columns.js';
import { timestampMs } from '../data/parse-values.js';
import { textValue, toBool, toNumber, type Row } from './values.js';

function arrowType(column: ColumnSpec): DataType {
  switch (column.type) {
    case 'float':
      return new Float64();
    case 'int':
      return new Int32();
    case 'bool':
      return new Bool();
    case 'timestamp':
      return new Timestamp(TimeUnit.MILLISECOND, 'UTC');
    default:
      return new Utf8();
  }
}

/** One value as the Arrow builder of its column type takes it. */
export function arrowValue(value: unknown, column: ColumnSpec): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'float':
    case 'int':
      return toNumber(value);
    case 'bool':
      return toBool(value);
    case 'timestamp': {
      const ms = timestampMs(value);
      return Number.isNaN(ms) ? null : ms;
    }
    default:
      return textValue(value, column);
  }
}

/** The Arrow schema of a column list (exported for tests and readers). */
export function arrowSchema(columns: readonly ColumnSpec[]): Schema {
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c), c.nullable)));
}

export async function writeArrow(
  rows: AsyncIterable<Row> | Iterable<Row>,
  columns: readonly ColumnSpec[],
  out: Writable,
  chunkRows: number,
): Promise<number> {
  const schema = arrowSchema(columns);
  const writer = new RecordBatchFileWriter();
  // apache-arrow's writer queues its output without bound, so a fast producer would hold the whole
  // file in memory. Pump the queue into `out` ourselves (honouring 'drain') and let the producer
  // wait until the queue is empty before building the next batch.
  const queued = (writer as unknown as { _sink?: { _values?: unknown[] } })._sink?._values;
  // A failure of `out` (a missing folder, a full disk) stops the pump; it is rethrown below, never
  // left as an unhandled rejection.
  let pumpError: unknown = null;
  const piped = (async () => {
    for await (const chunk of writer) {
      if (out.errored) throw out.errored;
      if (!out.write(chunk)) await once(out, 'drain');
    }
  })().catch((error: unknown) => {
    pumpError = error;
  });
  const failed = (): unknown => pumpError ?? out.errored;
  let values: unknown[][] = columns.map(() => []);
  let pending = 0;
  let count = 0;

  const flush = async (): Promise<void> => {
    if (failed()) throw failed();
    const children = schema.fields.map((f, i) => vectorFromArray(values[i], f.type).data[0]);
    const data = makeData({ type: new Struct(schema.fields), length: pending, nullCount: 0, children });
    writer.write(new RecordBatch(schema, data));
    values = columns.map(() => []);
    pending = 0;
    do {
      await new Promise((resolve) => setImmediate(resolve));
      if (failed()) throw failed();
    } while ((queued && queued.length > 0) || out.writableNeedDrain);
  };

  try {
    for await (const row of rows) {
      for (let i = 0; i < columns.length; i += 1) values[i].push(arrowValue(row[columns[i].name], columns[i]));
      pending += 1;
      count += 1;
      if (pending >= chunkRows) await flush();
    }
    // An empty export still carries its schema (one empty batch keeps every reader happy).
    if (pending > 0 || count === 0) await flush();
    writer.finish();
    await piped;
    if (failed()) throw failed();
  } catch (error) {
    try {
      writer.abort();
    } catch {
      // abort() writes a footer, which throws once the pump has closed the queue.
    }
    // The output's own failure is the cause; apache-arrow's "AsyncQueue is closed" only follows
    // it. Give the pump a turn to record that failure (it ends once the writer is aborted).
    await Promise.race([piped, new Promise((resolve) => setImmediate(resolve))]);
    throw failed() ?? error;
  }
  return count;
}
