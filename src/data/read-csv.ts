import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { InputError } from '../errors.js';
import { ByteInterner, FNV_OFFSET, FNV_PRIME, fnv1a } from './byte-interner.js';
import { MAX_ID_BYTES, MAX_RECORD_BYTES, UTF8_HINT, firstInvalidUtf8, incompleteUtf8Tail, isUtf8Bytes } from './input-limits.js';
import { isBlankBytes, parseCorrectBytes, parseIsoMillisUtc24Into, parseOrderString, parseTimeBytes } from './parse-values.js';
import type { RowSink } from './row-sink.js';

/** Which CSV parser to use: `auto` = byte-level fast path until the first quote, then csv-parse. */
export const CSV_PARSERS = ['auto', 'csv-parse'] as const;
/** A value of CSV_PARSERS. */
export type CsvParserChoice = (typeof CSV_PARSERS)[number];

/** Which parser actually read the rows. */
export type CsvParserUsed = 'fast' | 'csv-parse' | 'fast+csv-parse';

/**
 * Creates the sink once the column names are known (resolves the columns; throws InputError).
 * `where` names the place for messages, e.g. `train.csv line 1 (header)`.
 */
export type SinkFactory = (names: string[], where: string) => RowSink;

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/** Column roles the one-pass line scanner treats specially (see FastCsvReader.scanLine). */
const ROLE_OTHER = 0;
const ROLE_USER = 1;
const ROLE_CONCEPT = 2;
const ROLE_TIME = 3;

/**
 * The byte-level fast path: splits unquoted lines on commas and LF (a CR before LF is dropped),
 * skips empty lines, and turns fields into values without building strings except once per
 * distinct id. A row it cannot take as is (wrong field count, bad or empty value) is decoded and
 * handed to RowSink.addRecord, which raises exactly the error csv-parse input would.
 */
class FastCsvReader {
  sink: RowSink | null = null;
  /** 1-based number of the line being read. */
  line = 1;
  private fieldStart = new Int32Array(1);
  private fieldEnd = new Int32Array(1);
  private capacity = 0;
  private columnCount = 0;
  // Column positions, copied from the sink's index so the per-row code reads plain fields.
  private userCol = -1;
  private conceptCol = -1;
  private correctCol = -1;
  private timeCol = -1;
  private orderCol = -1;
  private questionCol = -1;
  /** Role of each column for scanLine; null when the header puts two roles in one column (no one-pass scan). */
  private roles: Uint8Array | null = null;
  /** The sink wants every row decoded (RowSink.decodesEveryRow): each goes to addRecord. */
  private decodeAll = false;
  /** Hashes (ByteInterner.lookupHashed) of the user and concept fields of the line scanLine read last. */
  private userHash = 0;
  private conceptHash = 0;
  /** scannedTime[0]: the time computed by scanLine (NaN: not parsed there). A Float64Array, not a field, so no double is boxed per row. */
  private readonly scannedTime = new Float64Array(1);
  /** Header names, for messages. */
  names: string[] = [];
  private readonly users = new ByteInterner();
  private readonly concepts = new ByteInterner();
  private readonly questions = new ByteInterner();
  /** One interner per carried class column, and the column positions. */
  private classInterners: ByteInterner[] = [];
  /** Interner keys of the current row's class fields (-2: blank), reused per row. */
  private classKeys = new Int32Array(0);
  private classCols: number[] = [];
  /** Initial interner values, hoisted so no closure is allocated per row. */
  private readonly conceptInitial = (key: string): number => (this.sink!.conceptExcluded(key) ? -2 : -1);
  private readonly notInterned = (): number => -1;

  constructor(
    private readonly source: string,
    private readonly makeSink: SinkFactory,
  ) {}

  /**
   * Read every complete line in buf[start, limit) (limit is just after a LF); returns limit.
   * The whole block is checked for UTF-8 first (simdutf, many times the parsing speed), so a
   * column bkt does not read is checked too; a LF never occurs inside a multi-byte sequence, so a
   * block of whole lines is checked on its own. Only when the check fails is the bad line sought:
   * it is a bad row (the sink throws, or rejects that row on its own) and reading goes on after it.
   */
  processLines(buf: Buffer, start: number, limit: number): number {
    let from = start;
    while (!isUtf8Bytes(buf, from, limit)) {
      const bad = firstInvalidUtf8(buf, from, limit);
      // The two checks agree (RFC 3629); should they not, the per-field checks still apply.
      if (bad < 0) break;
      const lineStart = buf.lastIndexOf(LF, bad) + 1;
      const lineEnd = buf.indexOf(LF, bad);
      this.readLines(buf, from, lineStart);
      this.invalidLine(buf, lineStart, lineEnd);
      from = lineEnd + 1;
    }
    this.readLines(buf, from, limit);
    return limit;
  }

  /** The line buf[start, lf) holds bytes that are not UTF-8: refuse the file (header) or that row. */
  private invalidLine(buf: Buffer, start: number, lf: number): void {
    const end = lf > start && buf[lf - 1] === CR ? lf - 1 : lf;
    const error = invalidUtf8Error(this.source, this.line, this.names, buf, start, end);
    if (this.sink === null) throw error;
    this.sink.rowsRead++;
    this.sink.badRow(error, this.line);
    this.line++;
  }

  /** Read the complete lines of buf[start, limit), known to be UTF-8. */
  private readLines(buf: Buffer, start: number, limit: number): void {
    let lineStart = start;
    while (lineStart < limit) {
      if (this.decodeAll) {
        // Every row goes to addRecord decoded anyway: find the line end natively, skip the field scan.
        const lf = buf.indexOf(LF, lineStart);
        let end = lf;
        if (end > lineStart && buf[end - 1] === CR) end--;
        if (end > lineStart) this.slow(buf, lineStart, end);
        this.line++;
        lineStart = lf + 1;
        continue;
      }
      if (this.roles !== null) {
        // One pass over the line in the common case; anything unusual goes to splitLine.
        const next = this.scanLine(buf, lineStart);
        if (next > 0) {
          let end = next - 1;
          if (end > lineStart && buf[end - 1] === CR) end--;
          this.row(buf, lineStart, end, this.columnCount, true);
          this.line++;
          lineStart = next;
          continue;
        }
      }
      lineStart = this.splitLine(buf, lineStart);
    }
  }

  /**
   * The general line splitter: every comma and the LF, a CR before the LF dropped, empty lines
   * skipped; the header when none was read yet. Returns the start of the next line.
   */
  private splitLine(buf: Buffer, lineStart: number): number {
    const fs = this.fieldStart;
    const fe = this.fieldEnd;
    const cap = this.capacity;
    let nf = 0;
    fs[0] = lineStart;
    for (let i = lineStart; ; i++) {
      const b = buf[i];
      if (b === COMMA) {
        if (nf < cap) fe[nf] = i;
        nf++;
        if (nf < cap) fs[nf] = i + 1;
      } else if (b === LF) {
        let end = i;
        if (end > lineStart && buf[end - 1] === CR) end--;
        if (nf < cap) fe[nf] = end;
        nf++;
        if (end > lineStart) {
          if (this.sink === null) {
            this.header(buf, lineStart, end);
          } else {
            this.row(buf, lineStart, end, nf, false);
          }
        }
        this.line++;
        return i + 1;
      }
    }
  }

  /**
   * Split a line of exactly `columnCount` fields ending in a LF (or CRLF) in one pass,
   * hashing the user and concept fields on the way and parsing a time of the common form
   * `YYYY-MM-DDTHH:MM:SS.sssZ` without scanning it for commas (its bytes are all checked by the
   * parse). Returns the position after the LF, or 0 when the line is not of that shape (then
   * nothing was changed and splitLine reads it).
   */
  private scanLine(buf: Buffer, lineStart: number): number {
    const roles = this.roles!;
    const last = this.columnCount - 1;
    const fs = this.fieldStart;
    const fe = this.fieldEnd;
    let p = lineStart;
    const scannedTime = this.scannedTime;
    scannedTime[0] = NaN;
    for (let col = 0; ; col++) {
      const s = p;
      const role = roles[col];
      let b = 0;
      if (role === ROLE_USER || role === ROLE_CONCEPT) {
        let h = FNV_OFFSET;
        while ((b = buf[p]) !== COMMA && b !== LF) {
          h = Math.imul(h ^ b, FNV_PRIME);
          p++;
        }
        if (role === ROLE_USER) this.userHash = h | 0;
        else this.conceptHash = h | 0;
      } else {
        // A 24-byte UTC time followed by the delimiter (or CRLF): parseIsoMillisUtc24Into checks
        // every byte of it (so there is no comma or CR inside).
        if (role === ROLE_TIME) {
          const d = buf[s + 24];
          if (d === COMMA || d === LF || (d === CR && buf[s + 25] === LF)) {
            if (parseIsoMillisUtc24Into(buf, s, scannedTime)) p = s + 24;
            else scannedTime[0] = NaN;
          }
        }
        while ((b = buf[p]) !== COMMA && b !== LF) p++;
      }
      fs[col] = s;
      fe[col] = p;
      if (col === last) {
        if (b !== LF) return 0;
        if (buf[p - 1] === CR && p > s) {
          // CRLF: the CR ends the line, not the field.
          fe[col] = p - 1;
          if (role === ROLE_USER) this.userHash = fnv1a(buf, s, p - 1);
          else if (role === ROLE_CONCEPT) this.conceptHash = fnv1a(buf, s, p - 1);
          if (p - 1 === lineStart) return 0;
        }
        if (p === lineStart) return 0;
        return p + 1;
      }
      if (b === LF) return 0;
      p++;
    }
  }

  private header(buf: Buffer, start: number, end: number): void {
    if (!isUtf8Bytes(buf, start, end)) throw invalidUtf8Error(`${this.source}`, this.line, [], buf, start, end);
    const names = buf.toString('utf8', start, end).split(',').map((n) => n.trim());
    this.names = names;
    const sink = this.makeSink(names, `${this.source} line ${this.line} (header)`);
    this.sink = sink;
    this.userCol = sink.index.user;
    this.conceptCol = sink.index.concept;
    this.correctCol = sink.index.correct;
    this.timeCol = sink.index.time;
    this.orderCol = sink.index.order;
    this.questionCol = sink.index.question;
    this.classCols = sink.classColumns.map((c) => c.index);
    this.classInterners = this.classCols.map(() => new ByteInterner());
    this.classKeys = new Int32Array(this.classCols.length);
    this.columnCount = names.length;
    this.capacity = names.length + 1;
    this.fieldStart = new Int32Array(this.capacity);
    this.fieldEnd = new Int32Array(this.capacity);
    const roles = new Uint8Array(names.length);
    let distinct = true;
    const mark = (col: number, role: number): void => {
      if (col < 0) return;
      if (roles[col] !== ROLE_OTHER) distinct = false;
      roles[col] = role;
    };
    mark(this.userCol, ROLE_USER);
    mark(this.conceptCol, ROLE_CONCEPT);
    mark(this.timeCol, ROLE_TIME);
    this.decodeAll = sink.decodesEveryRow;
    this.roles = distinct && names.length > 0 && !this.decodeAll ? roles : null;
  }

  /** Decode the line (UTF-8: processLines checked it) and let the sink validate it (it throws the precise error). */
  private slow(buf: Buffer, start: number, end: number): void {
    this.sink!.addRecord(buf.toString('utf8', start, end).split(','), this.line);
  }

  /** `scanned`: the fields come from scanLine, with the user and concept hashes and scannedTime. */
  private row(buf: Buffer, start: number, end: number, nf: number, scanned: boolean): void {
    const sink = this.sink!;
    if (nf !== this.columnCount || this.decodeAll) return this.slow(buf, start, end);
    const fs = this.fieldStart;
    const fe = this.fieldEnd;

    // Same checks, in the same order, as RowSink.addValues.
    let s = fs[this.conceptCol];
    let e = fe[this.conceptCol];
    if (s === e) return this.slow(buf, start, end);
    const concepts = this.concepts;
    const conceptKey = scanned ? concepts.lookupHashed(buf, s, e, this.conceptHash, this.conceptInitial) : concepts.lookup(buf, s, e, this.conceptInitial);
    if (conceptKey < 0) return this.slow(buf, start, end);
    let concept = concepts.value(conceptKey);
    if (concept === -2) {
      sink.rowsRead++;
      sink.filtered.concept_id++;
      return;
    }
    s = fs[this.correctCol];
    e = fe[this.correctCol];
    // The common case, one digit, inline.
    const digit = buf[s] - 48;
    const correct = e - s === 1 && digit >>> 0 <= 1 ? digit : parseCorrectBytes(buf, s, e);
    if (correct < 0) return this.slow(buf, start, end);
    let time = scanned ? this.scannedTime[0] : NaN;
    if (this.timeCol >= 0) {
      s = fs[this.timeCol];
      e = fe[this.timeCol];
      if (time === time) {
        // parsed by scanLine
      } else if (!isBlankBytes(buf, s, e)) {
        time = parseTimeBytes(buf, s, e);
        if (time !== time) return this.slow(buf, start, end);
      }
      if (sink.hasDateFilter && sink.timeExcluded(time)) {
        sink.rowsRead++;
        sink.filtered.date++;
        return;
      }
    }
    let order = NaN;
    if (this.orderCol >= 0) {
      s = fs[this.orderCol];
      e = fe[this.orderCol];
      if (!isBlankBytes(buf, s, e)) {
        order = parseOrderString(buf.toString('utf8', s, e));
        if (order !== order) return this.slow(buf, start, end);
      }
    }
    s = fs[this.userCol];
    e = fe[this.userCol];
    if (s === e) return this.slow(buf, start, end);
    const builder = sink.builder;
    const users = this.users;
    const userKey = scanned ? users.lookupHashed(buf, s, e, this.userHash, this.notInterned) : users.lookup(buf, s, e, this.notInterned);
    if (userKey < 0) return this.slow(buf, start, end);
    let user = users.value(userKey);
    if (user < 0) {
      user = builder.learnerIndex(users.strings[userKey]);
      users.setValue(userKey, user);
    }
    if (concept < 0) {
      concept = builder.conceptIndex(concepts.strings[conceptKey]);
      concepts.setValue(conceptKey, concept);
    }
    let question = -1;
    if (this.questionCol >= 0) {
      s = fs[this.questionCol];
      e = fe[this.questionCol];
      if (!isBlankBytes(buf, s, e)) {
        const questions = this.questions;
        const questionKey = questions.lookup(buf, s, e, this.notInterned);
        if (questionKey < 0) return this.slow(buf, start, end);
        question = questions.value(questionKey);
        if (question < 0) {
          question = builder.questionIndex(questions.strings[questionKey]);
          questions.setValue(questionKey, question);
        }
      }
    }
    // Class keys first: one the interner refuses (invalid UTF-8, too long) sends the row to the
    // slow path before anything of it is added.
    const classKeys = this.classKeys;
    for (let slot = 0; slot < this.classCols.length; slot++) {
      s = fs[this.classCols[slot]];
      e = fe[this.classCols[slot]];
      classKeys[slot] = isBlankBytes(buf, s, e) ? -2 : this.classInterners[slot].lookup(buf, s, e, this.notInterned);
      if (classKeys[slot] === -1) return this.slow(buf, start, end);
    }
    sink.rowsRead++;
    builder.addIndexed(user, concept, correct, time, order, question);
    for (let slot = 0; slot < this.classCols.length; slot++) {
      const key = classKeys[slot];
      if (key < 0) continue;
      const interner = this.classInterners[slot];
      let value = interner.value(key);
      if (value < 0) {
        value = builder.classIndex(slot, interner.strings[key]);
        interner.setValue(key, value);
      }
      builder.setClass(slot, value);
    }
  }
}

/**
 * Read a CSV byte stream (header row required) into a RowSink.
 *
 * `auto`: the byte-level fast path reads lines until the first chunk containing a double quote;
 * from the start of the line holding that quote, csv-parse reads the rest (it alone handles
 * quoting). `csv-parse` uses csv-parse from the first byte. Both give identical tables (tested).
 * csv-parse settings: arrays, no cast, skip empty lines, record delimiter LF or CRLF, BOM stripped.
 * @throws InputError for an empty file, a header without data rows, a malformed line or value.
 */
export async function readCsv(
  chunks: AsyncIterable<Buffer>,
  source: string,
  makeSink: SinkFactory,
  choice: CsvParserChoice,
): Promise<{ sink: RowSink; parser: CsvParserUsed }> {
  const it = chunks[Symbol.asyncIterator]();
  try {
    return await readCsvFrom(it, source, makeSink, choice);
  } finally {
    // Close the input however reading stopped (an error leaves the iterator suspended).
    await it.return?.();
  }
}

async function readCsvFrom(
  it: AsyncIterator<Buffer>,
  source: string,
  makeSink: SinkFactory,
  choice: CsvParserChoice,
): Promise<{ sink: RowSink; parser: CsvParserUsed }> {
  const reader = new FastCsvReader(source, makeSink);
  let leftover: Buffer | null = null;
  let handoff: Buffer | null = null;
  let first = true;
  let fastLines = false;
  if (choice === 'csv-parse') {
    handoff = Buffer.alloc(0);
  } else {
    // Complete lines of `buf` go to the fast path, up to the line holding the first quote, if any.
    const feed = (buf: Buffer): { handoff: Buffer | null; rest: Buffer | null } => {
      const quote = buf.indexOf(QUOTE);
      if (quote >= 0) {
        const cut = buf.lastIndexOf(LF, quote) + 1;
        if (cut > 0) fastLines = true;
        reader.processLines(buf, 0, cut);
        return { handoff: buf.subarray(cut), rest: null };
      }
      const next = buf.lastIndexOf(LF) + 1;
      if (next > 0) {
        fastLines = true;
        reader.processLines(buf, 0, next);
      }
      return { handoff: null, rest: next < buf.length ? buf.subarray(next) : null };
    };
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      let chunk: Buffer = r.value;
      if (first) {
        first = false;
        if (chunk.length >= 3 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      if (leftover !== null) {
        // Finish the line cut by the chunk border without copying the whole chunk.
        const newline = chunk.indexOf(LF);
        if (newline < 0) {
          // A line that spans many chunks is held whole: bound it, or a runaway line (a 50 MB
          // field, a file without newlines) costs quadratic copying and memory.
          if (leftover.length + chunk.length > MAX_RECORD_BYTES) throw lineTooLongError(source, reader.line);
          leftover = Buffer.concat([leftover, chunk]);
          continue;
        }
        const head = feed(Buffer.concat([leftover, chunk.subarray(0, newline + 1)]));
        leftover = null;
        if (head.handoff !== null) {
          handoff = Buffer.concat([head.handoff, chunk.subarray(newline + 1)]);
          break;
        }
        chunk = chunk.subarray(newline + 1);
      }
      const fed = feed(chunk);
      if (fed.handoff !== null) {
        handoff = fed.handoff;
        break;
      }
      leftover = fed.rest === null ? null : Buffer.from(fed.rest);
    }
    if (handoff === null && leftover !== null) {
      // Last line without a trailing newline.
      fastLines = true;
      reader.processLines(Buffer.concat([leftover, Buffer.from([LF])]), 0, leftover.length + 1);
    }
  }

  let parser: CsvParserUsed = 'fast';
  if (handoff !== null) {
    parser = fastLines && reader.sink !== null ? 'fast+csv-parse' : 'csv-parse';
    await readRestWithCsvParse(reader, handoff, it, source, makeSink);
  }
  if (reader.sink === null) {
    throw new InputError(`${source} is empty`, 'Give a CSV file whose first line names the columns (user_id,concept_id,correct,...)');
  }
  if (reader.sink.rowsRead === 0) {
    throw new InputError(`${source} has a header but no attempts`, 'Give a file with at least one data row');
  }
  return { sink: reader.sink, parser };
}

async function readRestWithCsvParse(
  reader: FastCsvReader,
  head: Buffer,
  it: AsyncIterator<Buffer>,
  source: string,
  makeSink: SinkFactory,
): Promise<void> {
  const { parse, CsvError } = await import('csv-parse');
  const lineOffset = reader.line - 1;
  let failure: unknown = null;
  // 'data' events with the live `parser.info.lines` (the line the record ends on): csv-parse's
  // `info` and `on_record` options build a context object per record and cost 3-6x the speed.
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    record_delimiter: ['\r\n', '\n'],
    max_record_size: MAX_RECORD_BYTES,
  });
  // csv-parse decodes invalid UTF-8 as U+FFFD, which a valid file may also hold. So the bytes are
  // checked as they go in (simdutf, no copy); once a bad byte is seen at offset `invalidAt`, the
  // first record past it holding a U+FFFD is the one to report. A sink that rejects bad rows one
  // by one goes on after that record, and the check resumes at the next record.
  let invalidAt = -1;
  let fedBytes = 0;
  /** Bytes before this offset are valid UTF-8 (or `invalidAt` is set). */
  let checkedTo = 0;
  // The raw chunks from the current record's start (and the unchecked bytes) on, to tell which
  // field holds the bad byte and to resume the check after it.
  const recent: { base: number; bytes: Buffer }[] = [];
  let recordStart = 0;
  /** The bytes fed from absolute offset `from` on (held in `recent`). */
  const bytesFrom = (from: number): Buffer => {
    const parts = recent.filter((c) => c.base + c.bytes.length > from).map((c) => (c.base < from ? c.bytes.subarray(from - c.base) : c.bytes));
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  };
  /** Check the bytes from `checkedTo` to the end of what was fed, but an incomplete last sequence. */
  const check = (): void => {
    if (invalidAt >= 0) return;
    const bytes = bytesFrom(checkedTo);
    const end = bytes.length - incompleteUtf8Tail(bytes);
    if (isUtf8Bytes(bytes, 0, end)) checkedTo += end;
    else invalidAt = checkedTo + Math.max(0, firstInvalidUtf8(bytes, 0, end));
  };
  const checkChunk = (chunk: Buffer): void => {
    recent.push({ base: fedBytes, bytes: chunk });
    fedBytes += chunk.length;
    check();
  };
  /** The error for the record that holds the bad byte, or null when it does not. */
  const recordError = (record: string[], line: number): InputError | null => {
    const start = recordStart;
    recordStart = parser.info.bytes;
    if (invalidAt < 0 || recordStart <= invalidAt) {
      const keep = Math.min(recordStart, checkedTo);
      while (recent.length > 1 && recent[0].base + recent[0].bytes.length <= keep) recent.shift();
      return null;
    }
    const field = recent.length > 0 && recent[0].base <= start ? fieldAt(Buffer.concat(recent.map((c) => c.bytes)), start - recent[0].base, invalidAt - recent[0].base) : -1;
    const k = field >= 0 ? field : record.findIndex((f) => f.includes('\uFFFD'));
    // Resume after this record: the bytes past it may hold further bad bytes (other rows).
    invalidAt = -1;
    checkedTo = recordStart;
    check();
    return new InputError(`${source} line ${line}: ${columnLabel(reader.names, Math.max(0, k))} is not valid UTF-8`, UTF8_HINT);
  };
  parser.on('data', (record: string[]) => {
    if (failure !== null) return;
    const line = parser.info.lines + lineOffset;
    try {
      const invalid = recordError(record, line);
      if (invalid !== null) {
        if (reader.sink === null) throw invalid;
        reader.sink.rowsRead++;
        reader.sink.badRow(invalid, line);
        return;
      }
      if (reader.sink === null) {
        reader.names = record.map((n) => n.trim());
        reader.sink = makeSink(
          record.map((n) => n.trim()),
          `${source} line ${line} (header)`,
        );
      } else {
        reader.sink.addRecord(record, line);
      }
    } catch (error) {
      failure = error;
    }
  });
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length > 0) {
      checkChunk(head);
      yield head;
    }
    for (;;) {
      if (failure !== null) return;
      const r = await it.next();
      if (r.done) break;
      checkChunk(r.value);
      yield r.value;
    }
    // A sequence cut off by the end of the input is invalid too.
    if (invalidAt < 0 && checkedTo < fedBytes) invalidAt = checkedTo;
  }
  const input = Readable.from(rest());
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  try {
    await finished(parser);
  } catch (error) {
    if (failure !== null) throw failure;
    const e = error as Error & { code?: string; lines?: number };
    if (e.code === 'CSV_MAX_RECORD_SIZE') throw lineTooLongError(source, (e.lines ?? 0) + lineOffset);
    // Every csv-parse error is a CsvError; most codes start with CSV_, but not all
    // (INVALID_OPENING_QUOTE), so the class is what tells them from a bug.
    if (error instanceof CsvError || e.code?.startsWith('CSV_')) {
      const line = (e.lines ?? 0) + lineOffset;
      // csv-parse counts lines from where it took over; make the numbers in its message absolute.
      const message = e.message
        .replace(/\.$/, '')
        .replace(/\bline (\d+)/g, (_, d: string) => `line ${Number(d) + lineOffset}`)
        .replace(/[\r\n]+/g, ' ');
      throw new InputError(`${source} line ${line}: ${message}`, 'Check the quoting on that line', error);
    }
    throw error;
  } finally {
    input.destroy();
  }
  if (failure !== null) throw failure;
  if (invalidAt >= 0) {
    // Every record past the bad byte decoded without a U+FFFD (the bad byte was in an empty
    // line's CR, say): still refuse the file rather than keep text we could not read.
    throw new InputError(`${source}: byte ${invalidAt + 1} after line ${lineOffset} is not valid UTF-8`, UTF8_HINT);
  }
}

/**
 * Index of the CSV field holding byte `at` of a record starting at `start` in `buf` (commas
 * inside double quotes do not count), or -1 when the record start is not in `buf`.
 */
function fieldAt(buf: Uint8Array, start: number, at: number): number {
  if (start < 0 || at >= buf.length) return -1;
  let field = 0;
  let quoted = false;
  for (let i = start; i < at; i++) {
    const b = buf[i];
    if (b === QUOTE) quoted = !quoted;
    else if (b === COMMA && !quoted) field++;
  }
  return field;
}

/** `column 3 ("skill")`, or `column 3` when the header is not known. */
function columnLabel(names: readonly string[], index: number): string {
  const name = names[index];
  return name === undefined ? `column ${index + 1}` : `column ${index + 1} ("${name}")`;
}

/**
 * The InputError for a line of bytes [start, end) that is not valid UTF-8: names the file, the
 * line, the column (the field holding the first bad byte) and the byte.
 */
function invalidUtf8Error(source: string, line: number, names: readonly string[], buf: Uint8Array, start: number, end: number): InputError {
  const bad = Math.max(start, firstInvalidUtf8(buf, start, end));
  let field = 0;
  for (let i = start; i < bad; i++) if (buf[i] === COMMA) field++;
  const byte = buf[bad].toString(16).toUpperCase().padStart(2, '0');
  return new InputError(
    `${source} line ${line}: ${columnLabel(names, field)} is not valid UTF-8 (byte 0x${byte} at byte ${bad - start + 1} of the line)`,
    UTF8_HINT,
  );
}

/** The InputError for a line longer than MAX_RECORD_BYTES. */
function lineTooLongError(source: string, line: number): InputError {
  return new InputError(
    `${source} line ${line} is longer than ${MAX_RECORD_BYTES} bytes (the longest line bkt reads)`,
    `Check that the file is CSV with one attempt per line; ids are at most ${MAX_ID_BYTES} bytes`,
  );
}
