import { openInputChunks } from '../data/input-stream.js';
import { InputError } from '../errors.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
/** Records per output buffer. */
const BATCH_RECORDS = 128;

/** Appends text to each data record of a CSV: `suffix(k)` for the k-th data record (0-based). */
export interface CsvAppend {
  /** Text appended to the header record (e.g. `,a,b`). */
  header: string;
  /** Text appended to data record k (ASCII; e.g. `,0.5,0.25`). */
  suffix(record: number): string;
}

/**
 * Copy a CSV input record by record as bytes, appending `append.suffix(k)` to the k-th data
 * record, and yield the output in buffers of about one input chunk. Records are what the
 * attempts readers count: lines split on LF outside double quotes (a quoted field may hold line
 * breaks), a CR before the LF dropped, empty lines skipped, a UTF-8 BOM at the start dropped.
 * No string is built per record, so the input's bytes pass through unchanged and memory stays at
 * a chunk. Returns (through `onEnd`) the number of data records.
 * @throws InputError for an empty input.
 */
export async function* appendToCsvRecords(
  path: string,
  source: string,
  append: CsvAppend,
  onHeader: (header: Buffer) => void,
  onEnd: (records: number) => void,
): AsyncGenerator<Buffer> {
  let leftover: Buffer | null = null;
  let inQuotes = false;
  let headerSeen = false;
  let records = 0;
  let first = true;

  // Writes the records of `buf` ending before `limit` (the position after the last complete one).
  const emit = (buf: Buffer, starts: number[], ends: number[]): Buffer => {
    let size = 0;
    const suffixes: string[] = new Array(starts.length);
    for (let r = 0; r < starts.length; r++) {
      let text: string;
      if (!headerSeen) {
        onHeader(buf.subarray(starts[r], ends[r]));
        text = append.header;
        headerSeen = true;
      } else {
        text = append.suffix(records++);
      }
      suffixes[r] = text;
      size += ends[r] - starts[r] + text.length + 1;
    }
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let r = 0; r < starts.length; r++) {
      at += buf.copy(out, at, starts[r], ends[r]);
      at += out.write(suffixes[r], at, 'latin1');
      out[at++] = LF;
    }
    return out;
  };

  for await (const chunk of openInputChunks({ input: path })) {
    let buf: Buffer = leftover ? Buffer.concat([leftover, chunk]) : chunk;
    if (first) {
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      first = false;
    }
    let starts: number[] = [];
    let ends: number[] = [];
    let start = 0;
    // Quote state at `start`, restored when the tail is carried over to the next chunk.
    let quotesAtStart: boolean = inQuotes;
    for (let i = 0; i < buf.length; i++) {
      const b: number = buf[i];
      if (b === QUOTE) inQuotes = !inQuotes;
      else if (b === LF && !inQuotes) {
        const end = i > start && buf[i - 1] === CR ? i - 1 : i;
        if (end > start) {
          starts.push(start);
          ends.push(end);
        }
        start = i + 1;
        quotesAtStart = inQuotes;
        // Small batches keep the strings of a batch from outliving a young-generation collection.
        if (starts.length === BATCH_RECORDS) {
          yield emit(buf, starts, ends);
          starts = [];
          ends = [];
        }
      }
    }
    leftover = start < buf.length ? buf.subarray(start) : null;
    inQuotes = quotesAtStart;
    if (starts.length > 0) yield emit(buf, starts, ends);
  }
  if (leftover !== null) {
    const end = leftover[leftover.length - 1] === CR ? leftover.length - 1 : leftover.length;
    if (end > 0) yield emit(leftover, [0], [end]);
  }
  if (!headerSeen) throw new InputError(`${source} is empty`, 'Give a header line and at least one attempt');
  onEnd(records);
}
