/**
 * Value parsers shared by every reader: `correct` flags, timestamps and order numbers.
 *
 * Each parser has a byte-range form (for the CSV fast path, which never builds a string for a
 * well-formed value) and a string form; both accept exactly the same inputs, so the two CSV paths
 * give identical tables. Invalid input returns a sentinel (`-1` or `NaN`); the caller turns that
 * into an InputError naming file, line, column and value.
 */

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

function digit(buf: Uint8Array, i: number): number {
  const d = buf[i] - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

function twoDigits(buf: Uint8Array, i: number, end: number): number {
  if (i + 2 > end) return -1;
  const a = digit(buf, i);
  const b = digit(buf, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Parse an ISO-8601 date or date-time from bytes [start, end) to epoch milliseconds:
 * `YYYY-MM-DD`, optionally followed by `T` or a space, `HH:MM`, optional `:SS`, optional fraction
 * (`.` or `,`, any number of digits), and an optional zone `Z`, `±HH`, `±HHMM` or `±HH:MM`.
 * A value without a zone is read as UTC (never local time, so results do not depend on the
 * machine). Returns NaN when the text is not such a date or names an impossible one (2023-02-30).
 */
export function parseIsoBytes(buf: Uint8Array, start: number, end: number): number {
  if (end - start < 10) return NaN;
  const y0 = digit(buf, start), y1 = digit(buf, start + 1), y2 = digit(buf, start + 2), y3 = digit(buf, start + 3);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0 || buf[start + 4] !== 45 || buf[start + 7] !== 45) return NaN;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = twoDigits(buf, start + 5, end);
  const day = twoDigits(buf, start + 8, end);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return NaN;
  let i = start + 10;
  let hour = 0, minute = 0, second = 0, fractionMs = 0, offsetMinutes = 0;
  if (i < end) {
    const sep = buf[i];
    if (sep !== 84 && sep !== 116 && sep !== SPACE) return NaN; // T, t, space
    hour = twoDigits(buf, i + 1, end);
    if (hour < 0 || hour > 23 || buf[i + 3] !== 58 || i + 3 >= end) return NaN;
    minute = twoDigits(buf, i + 4, end);
    if (minute < 0 || minute > 59) return NaN;
    i += 6;
    if (i < end && buf[i] === 58) {
      second = twoDigits(buf, i + 1, end);
      if (second < 0 || second > 59) return NaN;
      i += 3;
      if (i < end && (buf[i] === 46 || buf[i] === 44)) {
        i++;
        let scale = 100;
        const fractionStart = i;
        while (i < end && digit(buf, i) >= 0) {
          fractionMs += digit(buf, i) * scale;
          scale /= 10;
          i++;
        }
        if (i === fractionStart) return NaN;
      }
    }
    if (i < end) {
      const z = buf[i];
      if ((z === 90 || z === 122) && i + 1 === end) {
        i++;
      } else if (z === 43 || z === 45) {
        const sign = z === 45 ? -1 : 1;
        const oh = twoDigits(buf, i + 1, end);
        if (oh < 0 || oh > 23) return NaN;
        i += 3;
        let om = 0;
        if (i < end) {
          if (buf[i] === 58) i++;
          om = twoDigits(buf, i, end);
          if (om < 0 || om > 59) return NaN;
          i += 2;
        }
        offsetMinutes = sign * (oh * 60 + om);
      } else {
        return NaN;
      }
    }
    if (i !== end) return NaN;
  }
  return (
    daysFromCivil(year, month, day) * 86_400_000 +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    fractionMs
  );
}

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
  while (i < end && digit(buf, i) >= 0) value = value * 10 + digit(buf, i++);
  if (i === digitsStart) return NaN;
  if (i < end && buf[i] === 46) {
    i++;
    let scale = 0.1;
    const fractionStart = i;
    while (i < end && digit(buf, i) >= 0) {
      value += digit(buf, i++) * scale;
      scale /= 10;
    }
    if (i === fractionStart) return NaN;
  }
  if (i !== end) return NaN;
  return negative ? -value : value;
}

/**
 * Parse a timestamp from bytes [start, end) to epoch milliseconds: an ISO-8601 date or date-time
 * (see parseIsoBytes) or an epoch number (below EPOCH_SECONDS_LIMIT: seconds, else milliseconds).
 * Surrounding spaces are ignored. Returns NaN when the value is neither. The caller handles
 * the empty value (a missing time) before calling.
 */
export function parseTimeBytes(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === SPACE || buf[start] === TAB)) start++;
  while (end > start && (buf[end - 1] === SPACE || buf[end - 1] === TAB)) end--;
  if (end - start >= 10 && buf[start + 4] === 45) return parseIsoBytes(buf, start, end);
  const epoch = parseEpochBytes(buf, start, end);
  return Number.isNaN(epoch) ? NaN : epochToMs(epoch);
}

let scratch = new Uint8Array(64);

/** String form of parseTimeBytes (non-ASCII text is never a valid time). */
export function parseTimeString(value: string): number {
  const n = value.length;
  if (n > scratch.length) scratch = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c > 127) return NaN;
    scratch[i] = c;
  }
  return parseTimeBytes(scratch, 0, n);
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
