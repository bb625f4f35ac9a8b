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
 * A generator of UUID v4 strings for bulk writes: draws random bytes 64 KiB at a time and formats
 * them with a lookup table (several times faster than one crypto.randomUUID() per row here).
 */
export function uuidV4Factory(): () => string {
  const buffer = Buffer.alloc(16 * 4096);
  let offset = buffer.length;
  return () => {
    if (offset === buffer.length) {
      randomFillSync(buffer);
      offset = 0;
    }
    const b = buffer;
    const o = offset;
    offset += 16;
    const b6 = (b[o + 6] & 0x0f) | 0x40;
    const b8 = (b[o + 8] & 0x3f) | 0x80;
    return (
      HEX[b[o]] + HEX[b[o + 1]] + HEX[b[o + 2]] + HEX[b[o + 3]] + '-' +
      HEX[b[o + 4]] + HEX[b[o + 5]] + '-' + HEX[b6] + HEX[b[o + 7]] + '-' +
      HEX[b8] + HEX[b[o + 9]] + '-' +
      HEX[b[o + 10]] + HEX[b[o + 11]] + HEX[b[o + 12]] + HEX[b[o + 13]] + HEX[b[o + 14]] + HEX[b[o + 15]]
    );
  };
}
