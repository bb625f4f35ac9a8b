/**
 * Value parsers shared by every reader: `correct` flags, timestamps and order numbers.
 *
 * Each parser has a byte-range form (for the CSV fast path, which never builds a string for a
 * well-formed value) and a string form; both accept exactly the same inputs, so the two CSV paths
 * give identical tables. Invalid input returns a sentinel (`-1` or `NaN`); the caller turns that
 * into an InputError naming file, line, column and value.
 */

import { timeInRange } from './input-limits.js';

/** Epoch numbers below this are seconds, at or above it milliseconds (1e11 s = year 5138; 1e11 ms = 1973-03-03). */
export const EPOCH_SECONDS_LIMIT = 1e11;

const SPACE = 32;
const TAB = 9;

/** Convert an epoch number (seconds or milliseconds, see EPOCH_SECONDS_LIMIT) to milliseconds. */
export function epochToMs(value: number): number {
  return Math.abs(value) < EPOCH_SECONDS_LIMIT ? value * 1000 : value;
}

/**
 * Parse `correct` from bytes [start, end): `0`, `1`, `true`, `false` (any case), surrounding
 * spaces or tabs ignored. Returns 0 or 1, or -1 for anything else.
 */
export function parseCorrectBytes(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  const n = end - start;
  if (n === 1) {
    const c = buf[start];
    return c === 48 ? 0 : c === 49 ? 1 : -1;
  }
  if (n === 4) {
    // "true", case-insensitive: OR 0x20 lowercases ASCII letters.
    return (buf[start] | 32) === 116 &&
      (buf[start + 1] | 32) === 114 &&
      (buf[start + 2] | 32) === 117 &&
      (buf[start + 3] | 32) === 101
      ? 1
      : -1;
  }
  if (n === 5) {
    return (buf[start] | 32) === 102 &&
      (buf[start + 1] | 32) === 97 &&
      (buf[start + 2] | 32) === 108 &&
      (buf[start + 3] | 32) === 115 &&
      (buf[start + 4] | 32) === 101
      ? 0
      : -1;
  }
  return -1;
}

/** String form of parseCorrectBytes. */
export function parseCorrectString(value: string): number {
  const v = value.replace(/^[ \t]+|[ \t]+$/g, '').toLowerCase();
  if (v === '1' || v === 'true') return 1;
  if (v === '0' || v === 'false') return 0;
  return -1;
}

/** 10^k for the fraction digits of a time. */
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parse an ISO-8601 date or date-time from bytes [start, end) to epoch milliseconds:
 * `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM`, optional `:SS`, optional fraction
 * (`.` or `,`, 1 to 15 digits), and an optional zone `Z`, `±HH`, `±HHMM` or `±HH:MM`.
 * A value without a zone is read as UTC (never local time, so results do not depend on the
 * machine). Returns NaN when the text is not such a date or names an impossible one (2023-02-30).
 * Written digit by digit (no Date, no substrings): it runs once per row of a large export.
 */
export function parseIsoBytes(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 10) return NaN;
  const days = isoDays(buf, start);
  if (days !== days) return NaN;
  let i = start + 10;
  let seconds = 0;
  let fractionMs = 0;
  let offsetMinutes = 0;
  if (i < end) {
    const sep = buf[i];
    if ((sep !== 84 && sep !== 116 && sep !== SPACE) || i + 6 > end || buf[i + 3] !== 58) return NaN; // T, t, space; ':'
    const h0 = buf[i + 1] - 48;
    const h1 = buf[i + 2] - 48;
    const n0 = buf[i + 4] - 48;
    const n1 = buf[i + 5] - 48;
    if (h0 >>> 0 > 9 || h1 >>> 0 > 9 || n0 >>> 0 > 9 || n1 >>> 0 > 9) return NaN;
    const hour = h0 * 10 + h1;
    const minute = n0 * 10 + n1;
    if (hour > 23 || minute > 59) return NaN;
    seconds = hour * 3600 + minute * 60;
    i += 6;
    if (i < end && buf[i] === 58) {
      if (i + 3 > end) return NaN;
      const s0 = buf[i + 1] - 48;
      const s1 = buf[i + 2] - 48;
      if (s0 >>> 0 > 9 || s1 >>> 0 > 9) return NaN;
      const second = s0 * 10 + s1;
      if (second > 59) return NaN;
      seconds += second;
      i += 3;
      if (i < end && (buf[i] === 46 || buf[i] === 44)) {
        i++;
        const fractionStart = i;
        let fraction = 0;
        while (i < end) {
          const f = buf[i] - 48;
          if (f >>> 0 > 9) break;
          fraction = fraction * 10 + f;
          i++;
        }
        const digits = i - fractionStart;
        if (digits === 0 || digits > 15) return NaN;
        fractionMs = digits === 3 ? fraction : (fraction * 1000) / POW10[digits];
      }
    }
    if (i < end) {
      const z = buf[i];
      if ((z === 90 || z === 122) && i + 1 === end) {
        i++;
      } else if (z === 43 || z === 45) {
        if (i + 3 > end) return NaN;
        const o0 = buf[i + 1] - 48;
        const o1 = buf[i + 2] - 48;
        if (o0 >>> 0 > 9 || o1 >>> 0 > 9) return NaN;
        const offsetHours = o0 * 10 + o1;
        if (offsetHours > 23) return NaN;
        i += 3;
        let om = 0;
        if (i < end) {
          if (buf[i] === 58) i++;
          if (i + 2 > end) return NaN;
          const p0 = buf[i] - 48;
          const p1 = buf[i + 1] - 48;
          if (p0 >>> 0 > 9 || p1 >>> 0 > 9) return NaN;
          om = p0 * 10 + p1;
          if (om > 59) return NaN;
          i += 2;
        }
        offsetMinutes = (z === 45 ? -1 : 1) * (offsetHours * 60 + om);
      } else {
        return NaN;
      }
    }
    if (i !== end) return NaN;
  }
  return days * 86_400_000 + (seconds - offsetMinutes * 60) * 1000 + fractionMs;
}

/**
 * parseIsoBytes for exactly the 24 bytes `YYYY-MM-DDTHH:MM:SS.sssZ` at buf[start] (what
 * Date.prototype.toISOString writes; `T` may also be `t` or a space): the same value, or NaN when
 * those bytes are not such a time (then parseIsoBytes may still accept the field, e.g. when it is
 * longer). Every byte is checked, so a valid result means no comma or line break among them.
 */
export function parseIsoMillisUtc24(buf: Uint8Array, start: number): number {
  return parseIsoMillisUtc24Into(buf, start, isoScratch) ? isoScratch[0] : NaN;
}

const isoScratch = new Float64Array(1);

/**
 * parseIsoMillisUtc24 writing the time to out[0] and returning whether it parsed: the CSV fast
 * path's form, as a function too large to be inlined would box every returned double (one heap
 * allocation per row).
 */
export function parseIsoMillisUtc24Into(buf: Uint8Array, start: number, out: Float64Array): boolean {
  if (buf[start + 13] !== 58 || buf[start + 16] !== 58 || buf[start + 19] !== 46 || buf[start + 23] !== 90) return false;
  const sep = buf[start + 10];
  if (sep !== 84 && sep !== 116 && sep !== SPACE) return false;
  const days = isoDays(buf, start);
  if (days !== days) return false;
  const h0 = buf[start + 11] - 48;
  const h1 = buf[start + 12] - 48;
  const n0 = buf[start + 14] - 48;
  const n1 = buf[start + 15] - 48;
  const s0 = buf[start + 17] - 48;
  const s1 = buf[start + 18] - 48;
  const f0 = buf[start + 20] - 48;
  const f1 = buf[start + 21] - 48;
  const f2 = buf[start + 22] - 48;
  // `x >>> 0 > 9` rejects every byte that is not an ASCII digit (negatives wrap to large numbers).
  if (h0 >>> 0 > 9 || h1 >>> 0 > 9 || n0 >>> 0 > 9 || n1 >>> 0 > 9 || s0 >>> 0 > 9 || s1 >>> 0 > 9 || f0 >>> 0 > 9 || f1 >>> 0 > 9 || f2 >>> 0 > 9) {
    return false;
  }
  const hour = h0 * 10 + h1;
  const minute = n0 * 10 + n1;
  const second = s0 * 10 + s1;
  if (hour > 23 || minute > 59 || second > 59) return false;
  out[0] = days * 86_400_000 + (hour * 3600 + minute * 60 + second) * 1000 + (f0 * 100 + f1 * 10 + f2);
  return true;
}

/**
 * Days since 1970-01-01 of the date `YYYY-MM-DD` at buf[start] (the caller checked that 10 bytes
 * are there), or NaN when those bytes are not such a date or name an impossible one (2023-02-30).
 * An integer, so returning it boxes nothing; the two ISO parsers share it.
 */
function isoDays(buf: Uint8Array, start: number): number {
  if (buf[start + 4] !== 45 || buf[start + 7] !== 45) return NaN;
  const y0 = buf[start] - 48;
  const y1 = buf[start + 1] - 48;
  const y2 = buf[start + 2] - 48;
  const y3 = buf[start + 3] - 48;
  const m0 = buf[start + 5] - 48;
  const m1 = buf[start + 6] - 48;
  const d0 = buf[start + 8] - 48;
  const d1 = buf[start + 9] - 48;
  // `x >>> 0 > 9` rejects every byte that is not an ASCII digit (negatives wrap to large numbers).
  if (y0 >>> 0 > 9 || y1 >>> 0 > 9 || y2 >>> 0 > 9 || y3 >>> 0 > 9 || m0 >>> 0 > 9 || m1 >>> 0 > 9 || d0 >>> 0 > 9 || d1 >>> 0 > 9) return NaN;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = m0 * 10 + m1;
  const day = d0 * 10 + d1;
  // Year 0000 is outside the valid range (MIN_TIME_MS); rejecting it here keeps the 24-byte
  // parser's results in range by construction.
  if (year === 0 || month < 1 || month > 12 || day < 1 || (day > 28 && day > daysInMonth(year, month))) return NaN;
  // Consecutive rows are usually in the same month: reuse its first day.
  const yearMonth = year * 16 + month;
  if (yearMonth !== cachedYearMonth) {
    cachedYearMonth = yearMonth;
    cachedMonthStartDays = daysFromCivil(year, month, 1);
  }
  return cachedMonthStartDays + day - 1;
}

let cachedYearMonth = -1;
let cachedMonthStartDays = 0;

/**
 * Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil); the same as
 * Date.UTC(...) / 86400000 without the cost of a Date call per row.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Parse an epoch number from bytes [start, end): optional `-`, digits, optional `.digits`.
 * Returns NaN when the bytes are not such a number.
 */
function parseEpochBytes(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  if (i < end && buf[i] === 45) {
    negative = true;
    i++;
  }
  const digitsStart = i;
  let value = 0;
  while (i < end) {
    const d = buf[i] - 48;
    if (d >>> 0 > 9) break;
    value = value * 10 + d;
    i++;
  }
  if (i === digitsStart) return NaN;
  if (i < end && buf[i] === 46) {
    i++;
    const fractionStart = i;
    let fraction = 0;
    while (i < end) {
      const d = buf[i] - 48;
      if (d >>> 0 > 9) break;
      fraction = fraction * 10 + d;
      i++;
    }
    const digits = i - fractionStart;
    if (digits === 0 || digits > 15) return NaN;
    value += fraction / POW10[digits];
  }
  if (i !== end) return NaN;
  return negative ? -value : value;
}

/**
 * Parse a timestamp from bytes [start, end) to epoch milliseconds: an ISO-8601 date or date-time
 * (see parseIsoBytes) or an epoch number (below EPOCH_SECONDS_LIMIT: seconds, else milliseconds).
 * Surrounding spaces are ignored. Returns NaN when the value is neither, or when the time is
 * outside the valid range (MIN_TIME_MS..MAX_TIME_MS, years 0001-9999 UTC). This is the one time
 * parser of every reader and command; the caller handles the empty value (a missing time).
 */
export function parseTimeBytes(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  const ms = end - start >= 10 && buf[start + 4] === 45 ? parseIsoBytes(buf, start, end) : epochToMs(parseEpochBytes(buf, start, end));
  return timeInRange(ms) ? ms : NaN;
}

// A Buffer, like the CSV fast path's input, so the byte parsers see one array type (monomorphic loads).
let scratch: Uint8Array = Buffer.alloc(64);

/** String form of parseTimeBytes (non-ASCII text is never a valid time). */
export function parseTimeString(value: string): number {
  // No valid time is longer than 41 characters: trim first, so padding is allowed but a huge
  // value costs no huge scratch buffer.
  if (value.length > 64) value = value.trim();
  if (value.length > 64) return NaN;
  const n = value.length;
  if (n > scratch.length) scratch = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 127) return NaN;
    scratch[i] = c;
  }
  return parseTimeBytes(scratch, 0, n);
}

/**
 * parseIsoMillisUtc24 of a string (exactly `YYYY-MM-DDTHH:MM:SS.sssZ`, as bkt and toISOString
 * write times): its epoch milliseconds, or NaN when it is not of that form. About a third of
 * the cost of Date.parse, for stores that keep times as ISO text (SQLite).
 */
export function parseIsoMillisUtc24String(value: string): number {
  if (value.length !== 24) return NaN;
  for (let i = 0; i < 24; i++) {
    const c = value.charCodeAt(i);
    if (c > 127) return NaN;
    scratch[i] = c;
  }
  return parseIsoMillisUtc24Into(scratch, 0, isoScratch) ? isoScratch[0] : NaN;
}

/**
 * Epoch milliseconds of a stored or in-memory time: a Date, a number (already ms), the ISO text
 * bkt writes (parsed without Date.parse), a numeric string (ms), or any other text Date.parse
 * takes. NaN when absent (null, undefined) or unparseable. The one decoder of times read back from
 * a database or a caller; attempts files use parseTimeString (epoch seconds or ms by size).
 */
export function timestampMs(value: unknown): number {
  if (value === null || value === undefined) return NaN;
  if (typeof value === 'number') return value;
  if (value instanceof Date) return value.getTime();
  const text = String(value);
  const iso = parseIsoMillisUtc24String(text);
  if (iso === iso) return iso;
  return /^-?[\d.]+$/.test(text) ? Number(text) : Date.parse(text);
}

const DATE_ALONE = /^\s*\d{4}-\d{2}-\d{2}\s*$/;

/**
 * The rule "a date alone as an upper bound includes that whole day": for a `--to-date` given as
 * `YYYY-MM-DD`, the epoch ms of the next UTC midnight (to compare with `<`); null when `value`
 * carries a time (then it bounds inclusively as it is) or is not a date.
 */
export function endOfDayBound(value: string): number | null {
  if (!DATE_ALONE.test(value)) return null;
  const midnight = parseTimeString(value.trim());
  return Number.isNaN(midnight) ? null : midnight + 86_400_000;
}

/**
 * Parse an order value (pyBKT's `order_id`): a finite decimal number. Surrounding spaces are
 * ignored. Returns NaN when invalid; the caller handles the empty value before calling.
 */
export function parseOrderString(value: string): number {
  const v = value.trim();
  if (v === '') return NaN;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

/** True when bytes [start, end) hold only spaces and tabs (an empty cell). */
export function isBlankBytes(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== SPACE && buf[i] !== TAB) return false;
  return true;
}

/** True when the string holds only spaces and tabs. */
export function isBlankString(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== SPACE && c !== TAB) return false;
  }
  return true;
}
