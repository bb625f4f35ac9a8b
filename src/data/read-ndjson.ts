import { InputError } from '../errors.js';
import { MAX_RECORD_BYTES, UTF8_HINT, firstInvalidUtf8, isUtf8Bytes } from './input-limits.js';
import type { RowSink } from './row-sink.js';
import type { SinkFactory } from './read-csv.js';

const LF = 10;
const CR = 13;

/**
 * Read NDJSON (one JSON object per line; empty lines skipped) into a RowSink. The first object's
 * keys name the columns; a later object without a required key is an error naming its line.
 * Values may be strings, numbers, booleans or null (a null time, order or question = none).
 * @throws InputError for an empty input, a line that is not a JSON object, or a bad value.
 */
export async function readNdjson(chunks: AsyncIterable<Buffer>, source: string, makeSink: SinkFactory): Promise<RowSink> {
  let sink: RowSink | null = null;
  let keys: (string | null)[] = [];
  let line = 1;
  let leftover: Buffer | null = null;

  /** Before the first object there is no sink (no columns yet): a bad line stops the read. */
  const bad = (error: InputError): void => {
    if (sink === null) throw error;
    sink.badRow(error, line);
  };

  const handleLine = (buf: Buffer, start: number, end: number): void => {
    if (end > start && buf[end - 1] === CR) end--;
    let text = buf.toString('utf8', start, end);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return bad(new InputError(`${source} line ${line}: not valid JSON`, `Write one JSON object per line (the JSON parser says: ${(error as Error).message})`));
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return bad(new InputError(`${source} line ${line}: expected a JSON object, got ${JSON.stringify(value).slice(0, 40)}`, 'Write one JSON object per line'));
    }
    const row = value as Record<string, unknown>;
    // Decoding turned any invalid byte into U+FFFD, which valid text may also hold: only a line
    // with one is checked at the byte level.
    if (text.includes('\uFFFD') && !isUtf8Bytes(buf, start, end)) {
      const key = Object.keys(row).find((k) => k.includes('\uFFFD') || (typeof row[k] === 'string' && (row[k] as string).includes('\uFFFD')));
      const where = key === undefined ? `byte ${firstInvalidUtf8(buf, start, end) - start + 1}` : `field "${key}"`;
      return bad(new InputError(`${source} line ${line}: ${where} is not valid UTF-8`, UTF8_HINT));
    }
    if (sink === null) {
      const names = Object.keys(row);
      sink = makeSink(names, `${source} line ${line} (first object)`);
      keys = [sink.names.user, sink.names.concept, sink.names.correct, sink.names.time, sink.names.order, sink.names.question, sink.extraIndex >= 0 ? names[sink.extraIndex] : null];
    }
    const [u, c, k, t, o, q, x] = keys;
    for (const key of [u, c, k]) {
      if (!(key! in row)) {
        return bad(new InputError(`${source} line ${line}: no "${key}" field`, 'Every object needs the user, concept and correct fields'));
      }
    }
    sink.addValues(row[u!], row[c!], row[k!], t === null ? null : row[t], o === null ? null : row[o], q === null ? null : row[q], line, false, sink.classValuesOf((name) => row[name]), x === null ? null : row[x]);
  };

  for await (const chunk of chunks) {
    // A line is held whole until its newline: bound it (see MAX_RECORD_BYTES).
    if (leftover !== null && leftover.length + chunk.length > MAX_RECORD_BYTES && chunk.indexOf(LF) < 0) {
      throw new InputError(`${source} line ${line} is longer than ${MAX_RECORD_BYTES} bytes (the longest line bkt reads)`, 'Write one JSON object per line');
    }
    const buf: Buffer = leftover ? Buffer.concat([leftover, chunk]) : chunk;
    leftover = null;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl < 0) break;
      handleLine(buf, start, nl);
      line++;
      start = nl + 1;
    }
    if (start < buf.length) leftover = buf.subarray(start);
  }
  if (leftover !== null) handleLine(leftover, 0, leftover.length);
  const result = sink as RowSink | null;
  if (result === null) {
    throw new InputError(`${source} is empty`, 'Give one JSON object per line with user_id, concept_id and correct');
  }
  return result;
}
