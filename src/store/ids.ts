import { createHash, randomFillSync, randomUUID } from 'node:crypto';

/**
 * Id mapping between attempt files and the app's uuid columns (docs/store.md "Ids").
 *
 * - A UUID (any case) is kept, lower-cased.
 * - A non-negative integer n becomes the UUID whose 128-bit integer value is n (the app's own
 *   convention): 10 -> 00000000-0000-0000-0000-00000000000a.
 * - Any other string s becomes the RFC 4122 version-5 UUID of the name `s` in BKT_ID_NAMESPACE
 *   (SHA-1 of namespace bytes + UTF-8 name, version and variant bits set).
 */
export const BKT_ID_NAMESPACE = '6f1b8a8e-3c2d-5b7e-9f4a-2d6c0b1e7a35';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER_RE = /^\d+$/;

/** True when `value` is a UUID (any version, any case). */
export function isUuid(value: string): boolean {
  return UUID_RE.test(value);
}

/** A fresh client-generated UUID v4 (ids without a database default). */
export function newUuid(): string {
  return randomUUID();
}

/** The UUID whose integer value is `n` (n >= 0, below 2^128). */
export function integerToUuid(n: bigint | number | string): string {
  const value = BigInt(n);
  if (value < 0n || value >= 1n << 128n) throw new RangeError(`integer id ${n} does not fit in a UUID`);
  const hex = value.toString(16).padStart(32, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 4122 version-5 UUID of `name` in `namespace`. */
export function nameToUuid(name: string, namespace: string = BKT_ID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Map any id from an attempts file to the UUID stored in the app's tables (rules above). */
export function toUuid(id: string): string {
  const trimmed = id.trim();
  if (UUID_RE.test(trimmed)) return trimmed.toLowerCase();
  if (INTEGER_RE.test(trimmed) && trimmed.length <= 38) {
    const value = BigInt(trimmed);
    if (value < 1n << 128n) return integerToUuid(value);
  }
  return nameToUuid(trimmed);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/**
 * A generator of time-ordered UUID v7 strings (RFC 9562) for bulk writes: 48 bits of Unix
 * milliseconds, then a 12-bit counter (method 1: monotonic within a millisecond; on overflow the
 * timestamp moves on by one), then 62 random bits. Ids written in one import then land at the
 * end of each uuid index instead of at random places in it.
 */
export function uuidV7Factory(now: () => number = Date.now): () => string {
  const random = Buffer.alloc(8 * 4096);
  let offset = random.length;
  let lastMs = -1;
  let counter = 0;
  return () => {
    let ms = now();
    if (ms <= lastMs) {
      ms = lastMs;
      counter++;
      if (counter > 0xfff) {
        ms++;
        counter = 0;
      }
    } else {
      counter = 0;
    }
    lastMs = ms;
    if (offset === random.length) {
      randomFillSync(random);
      offset = 0;
    }
    const r = random;
    const o = offset;
    offset += 8;
    const hi = Math.floor(ms / 2 ** 16); // top 32 bits of the 48-bit time
    const lo = ms % 2 ** 16;
    return (
      HEX[(hi >>> 24) & 0xff] + HEX[(hi >>> 16) & 0xff] + HEX[(hi >>> 8) & 0xff] + HEX[hi & 0xff] + '-' +
      HEX[lo >>> 8] + HEX[lo & 0xff] + '-' +
      HEX[0x70 | (counter >>> 8)] + HEX[counter & 0xff] + '-' +
      HEX[(r[o] & 0x3f) | 0x80] + HEX[r[o + 1]] + '-' +
      HEX[r[o + 2]] + HEX[r[o + 3]] + HEX[r[o + 4]] + HEX[r[o + 5]] + HEX[r[o + 6]] + HEX[r[o + 7]]
    );
  };
}

