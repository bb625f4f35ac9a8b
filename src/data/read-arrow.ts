import { InputError } from '../errors.js';
import { tableFromIpc } from './arrow-ipc.js';
import { UTF8_HINT, isUtf8Bytes } from './input-limits.js';
import type { RowSink } from './row-sink.js';
import type { SinkFactory } from './read-csv.js';

/**
 * Read an Arrow IPC file or stream (apache-arrow's `tableFromIPC` recognises both) into a
 * RowSink. Ids may be strings (plain or dictionary-encoded) or integers; `correct` bool, integer
 * or string; time a Timestamp or Date column (any unit; apache-arrow returns epoch ms), an
 * integer epoch (seconds or ms by the usual rule) or ISO strings. Errors name the 1-based row.
 * @throws InputError when the bytes are not Arrow IPC, the table is empty, or a value is bad.
 */
export async function readArrow(bytes: Uint8Array, source: string, makeSink: SinkFactory): Promise<RowSink> {
  const arrow = await import('apache-arrow');
  let table: import('apache-arrow').Table;
  try {
    table = await tableFromIpc(arrow, bytes);
  } catch (error) {
    throw unreadableArrowError(bytes, source, error);
  }
  const names = table.schema.fields.map((f) => f.name);
  if (names.length === 0 && table.numRows === 0) {
    throw new InputError(`${source} is empty`, 'Write a table with user_id, concept_id and correct columns');
  }
  const sink = makeSink(names, `${source} (Arrow schema)`);
  if (table.numRows === 0) throw new InputError(`${source} has no rows`, 'Give a table with at least one attempt');
  const ix = sink.index;
  const timeField = ix.time >= 0 ? table.schema.fields[ix.time] : null;
  const timeIsMs = timeField !== null && (arrow.DataType.isTimestamp(timeField.type) || arrow.DataType.isDate(timeField.type));
  try {
    readBatches(arrow, table, source, sink, timeIsMs);
  } catch (error) {
    if (error instanceof InputError) throw error;
    // A batch whose buffers are cut short fails inside apache-arrow with a JS internal error.
    throw unreadableArrowError(bytes, source, error);
  }
  return sink;
}

/** Add every row of `table` to the sink (ids checked for UTF-8 first, batch by batch). */
function readBatches(arrow: ArrowModule, table: import('apache-arrow').Table, source: string, sink: RowSink, timeIsMs: boolean): void {
  const ix = sink.index;
  let row = 0;
  for (const batch of table.batches) {
    const col = (i: number) => (i >= 0 ? batch.getChildAt(i) : null);
    const user = col(ix.user)!;
    const concept = col(ix.concept)!;
    const correct = col(ix.correct)!;
    const time = col(ix.time);
    const order = col(ix.order);
    const question = col(ix.question);
    const classes = sink.classColumns.map((c) => col(c.index)!);
    const extra = col(sink.extraIndex);
    // apache-arrow decodes text leniently (invalid bytes become U+FFFD, merging distinct ids):
    // check the raw bytes of every text column read first; a row holding such a value is a bad
    // row (the sink throws, or rejects that row on its own).
    const invalid = new Map<number, string>();
    const read: [ArrowVector | null, number][] = [
      [user, ix.user],
      [concept, ix.concept],
      [correct, ix.correct],
      [time, ix.time],
      [order, ix.order],
      [question, ix.question],
      ...classes.map((vector, k): [ArrowVector, number] => [vector, sink.classColumns[k].index]),
      [extra, sink.extraIndex],
    ];
    for (const [vector, index] of read) {
      if (vector === null) continue;
      for (const i of invalidTextRows(arrow, vector)) if (!invalid.has(i)) invalid.set(i, table.schema.fields[index].name);
    }
    for (let i = 0; i < batch.numRows; i++) {
      row++;
      if (invalid.size > 0 && invalid.has(i)) {
        sink.rowsRead++;
        sink.badRow(new InputError(`${source} row ${row}: column "${invalid.get(i)}" is not valid UTF-8`, UTF8_HINT), row);
        continue;
      }
      sink.addValues(
        user.get(i),
        concept.get(i),
        correct.get(i),
        time ? time.get(i) : null,
        order ? order.get(i) : null,
        question ? question.get(i) : null,
        row,
        timeIsMs,
        classes.length > 0 ? classes.map((c) => c.get(i)) : undefined,
        extra ? extra.get(i) : null,
      );
    }
  }
}

type ArrowModule = typeof import('apache-arrow');
type ArrowVector = import('apache-arrow').Vector;

/** Arrow IPC files start with `ARROW1`; streams with a 0xFFFFFFFF continuation marker. */
function looksLikeArrow(bytes: Uint8Array): boolean {
  const fileMagic = bytes.length >= 6 && Buffer.from(bytes.buffer, bytes.byteOffset, 6).toString('latin1') === 'ARROW1';
  const streamMarker = bytes.length >= 4 && bytes[0] === 0xff && bytes[1] === 0xff && bytes[2] === 0xff && bytes[3] === 0xff;
  return fileMagic || streamMarker;
}

/**
 * The one-line InputError for bytes apache-arrow cannot decode: a damaged Arrow file (it has the
 * Arrow signature) is told apart from a file in another format, and the library's internal
 * message (`Cannot read properties of null`) is kept out of it.
 */
function unreadableArrowError(bytes: Uint8Array, source: string, cause: unknown): InputError {
  if (looksLikeArrow(bytes)) {
    return new InputError(`${source} is a truncated or damaged Arrow file (${bytes.length} bytes)`, 'Export it again, or check that the copy finished', cause);
  }
  return new InputError(`${source}: not an Arrow IPC file or stream`, 'Pass `format` to name the real format (csv, ndjson, sqlite)', cause);
}

/**
 * Indexes (within the vector, rising) of the values of a text column (Utf8, LargeUtf8, or a
 * dictionary of them) whose bytes are not valid UTF-8. Non-text columns give none.
 */
export function invalidTextRows(arrow: ArrowModule, vector: ArrowVector): number[] {
  const rows: number[] = [];
  let base = 0;
  for (const data of vector.data) {
    const type = data.type;
    if (arrow.DataType.isDictionary(type)) {
      const dictionary = data.dictionary as ArrowVector | undefined;
      if (dictionary !== undefined) {
        const badKeys = new Set<number>();
        let keyBase = 0;
        for (const d of dictionary.data) {
          for (const k of invalidTextIndexes(arrow, d)) badKeys.add(keyBase + k);
          keyBase += d.length;
        }
        if (badKeys.size > 0) {
          const keys = data.values as ArrayLike<number | bigint>;
          for (let i = 0; i < data.length; i++) {
            if (data.getValid(i) && badKeys.has(Number(keys[data.offset + i]))) rows.push(base + i);
          }
        }
      }
    } else {
      for (const i of invalidTextIndexes(arrow, data)) rows.push(base + i);
    }
    base += data.length;
  }
  return rows;
}

/** Indexes of the values of one Utf8/LargeUtf8 data chunk that are not valid UTF-8 (none for other types). */
function invalidTextIndexes(arrow: ArrowModule, data: import('apache-arrow').Data): number[] {
  if (!arrow.DataType.isUtf8(data.type) && !arrow.DataType.isLargeUtf8(data.type)) return [];
  const values = data.values as Uint8Array;
  const offsets = data.valueOffsets as ArrayLike<number | bigint>;
  const from = Number(offsets[data.offset]);
  const to = Number(offsets[data.offset + data.length]);
  if (isUtf8Bytes(values, from, to)) return [];
  const bad: number[] = [];
  for (let i = 0; i < data.length; i++) {
    if (!isUtf8Bytes(values, Number(offsets[data.offset + i]), Number(offsets[data.offset + i + 1]))) bad.push(i);
  }
  return bad;
}
