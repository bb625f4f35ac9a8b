/**
 * What every reader accepts, in one place: the valid time range, the longest id and line, and
 * the UTF-8 rule for text. docs/data-formats.md documents the same numbers.
 *
 * Why limits at all: an id is a key the trainer, the stores and every report hold and print, so a
 * 50 MB "id" is a broken file, not data; and a line the reader must buffer whole (it spans many
 * read chunks) would otherwise grow without bound. Checking them where a reader first meets a
 * value keeps the common path free: the CSV fast path checks an id once, when it is new.
 */
import { isUtf8 } from 'node:buffer';

/** Earliest accepted time: 0001-01-01T00:00:00.000Z (epoch ms). */
export const MIN_TIME_MS = -62_135_596_800_000;
/** Latest accepted time: 9999-12-31T23:59:59.999Z (epoch ms). */
export const MAX_TIME_MS = 253_402_300_799_999;
/** The valid time range as users read it, for messages and docs. */
export const TIME_RANGE_TEXT = 'between 0001-01-01 and 9999-12-31 (UTC)';

/** Longest accepted id (user, concept, question), in UTF-8 bytes. */
export const MAX_ID_BYTES = 4096;
/** Longest accepted line or record (so also any field), in bytes. */
export const MAX_RECORD_BYTES = 1 << 20;

/** True when `ms` is a time bkt accepts (finite and within MIN_TIME_MS..MAX_TIME_MS). */
export function timeInRange(ms: number): boolean {
  return ms >= MIN_TIME_MS && ms <= MAX_TIME_MS;
}

/** True when bytes [start, end) are valid UTF-8 (node's simdutf check; no copy). */
export function isUtf8Bytes(buf: Uint8Array, start: number, end: number): boolean {
  return isUtf8(buf.subarray(start, end));
}

/**
 * Index of the first byte of bytes [start, end) that does not begin a valid UTF-8 sequence
 * (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF), or -1 when all are valid.
 * A plain loop, for the rare error path that must say where the bad byte is.
 */
export function firstInvalidUtf8(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const b = buf[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else {
      return i;
    }
    if (i + need >= end) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if ((c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

/**
 * How many bytes at the end of `buf` start a UTF-8 sequence that continues past it (0 to 3): a
 * streaming check keeps them for the next chunk instead of calling them invalid.
 */
export function incompleteUtf8Tail(buf: Uint8Array): number {
  const n = buf.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = buf[n - back];
    if ((b & 0xc0) === 0x80) continue;
    if (b < 0xc0) return 0;
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
    return length > back ? back : 0;
  }
  return 0;
}

/** The first `max` characters of a value for a message, with `...` when cut. */
export function shortText(value: string, max = 60): string {
  return value.length > max ? `${value.slice(0, max)}...` : value;
}

/** Hint shared by every UTF-8 error. */
export const UTF8_HINT = 'Re-encode the input as UTF-8 (e.g. with iconv -f latin1 -t utf-8)';
