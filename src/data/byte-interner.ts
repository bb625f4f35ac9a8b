/**
 * Maps byte strings (slices of a read buffer) to small integer ids without building a JS string
 * per lookup: an open-addressing hash table (FNV-1a, linear probing) over a byte arena. A string
 * is decoded (UTF-8) once per distinct key. The CSV fast path uses one per id column.
 *
 * Laid out for one cache miss per lookup: each 16-byte slot holds the key's hash, its id, and its
 * first 7 bytes with its length, so a key of up to 7 bytes is found, or a probe rejected, without
 * touching anything else (the caller values are a small array of their own); longer keys are
 * also compared in the arena.
 */
import { MAX_ID_BYTES, isUtf8Bytes } from './input-limits.js';

/** FNV-1a 32-bit parameters of the interner's hash (exported for callers that hash while scanning). */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** The interner's hash of bytes [start, end): FNV-1a as an int32. */
export function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], FNV_PRIME);
  return h | 0;
}

/** Int32 fields per slot: [hash, id + 1 (0: empty), key bytes 0-3, tag] (16 bytes, one cache line). */
const SLOT = 4;

/**
 * The tag of a key: bytes 4-6 in the low 24 bits and the length (at most 255) in the top 8. With
 * bytes 0-3 it pins down a key of up to 7 bytes; a longer key is also compared in the arena.
 */
function keyTag(buf: Uint8Array, start: number, len: number): number {
  let tag = (len < 255 ? len : 255) << 24;
  const tail = len < 7 ? len : 7;
  for (let k = 4; k < tail; k++) tag |= buf[start + k] << (8 * (k - 4));
  return tag;
}

/** True when bytes [start, end) are valid UTF-8; ASCII (the common case) without a native call. */
function isValidKey(buf: Uint8Array, start: number, end: number): boolean {
  for (let k = start; k < end; k++) if (buf[k] >= 0x80) return isUtf8Bytes(buf, start, end);
  return true;
}

export class ByteInterner {
  /** Decoded key per id. */
  readonly strings: string[] = [];

  private slots: Int32Array = new Int32Array(SLOT * 256);
  private mask = 255;
  /** Caller value per id. */
  private values: Int32Array = new Int32Array(64);
  /** Arena start and length of id at 2 id, 2 id + 1 (read only for keys longer than 7 bytes). */
  private spans: Int32Array = new Int32Array(128);
  private arena: Uint8Array = new Uint8Array(4096);
  private arenaUsed = 0;

  get size(): number {
    return this.strings.length;
  }

  /** The caller-owned number of an id (the fast path stores builder indexes and filter flags). */
  value(id: number): number {
    return this.values[id];
  }

  setValue(id: number, value: number): void {
    this.values[id] = value;
  }

  /**
   * Id of the bytes buf[start, end), adding them when new; for a new id, its value is set to
   * `initialValue(decodedKey)`. Returns -1, adding nothing, for bytes that are not valid UTF-8
   * or longer than MAX_ID_BYTES.
   */
  lookup(buf: Uint8Array, start: number, end: number, initialValue: (key: string) => number): number {
    let h = FNV_OFFSET;
    for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], FNV_PRIME);
    return this.lookupHashed(buf, start, end, h | 0, initialValue);
  }

  /**
   * lookup() with the key's hash already computed by the caller (the CSV fast path hashes an id
   * while scanning for its end): `hash` must equal `fnv1a(buf, start, end)`.
   */
  lookupHashed(buf: Uint8Array, start: number, end: number, hash: number, initialValue: (key: string) => number): number {
    const h = hash;
    const len = end - start;
    let packed = 0;
    const head = len < 4 ? len : 4;
    for (let k = 0; k < head; k++) packed |= buf[start + k] << (8 * k);
    const tag = keyTag(buf, start, len);
    const slots = this.slots;
    const mask = this.mask;
    let slot = h & mask;
    for (;;) {
      const at = SLOT * slot;
      const id1 = slots[at + 1];
      if (id1 === 0) break;
      if (slots[at] === h && slots[at + 2] === packed && slots[at + 3] === tag && (len <= 7 || this.equal(id1 - 1, buf, start, len))) {
        return id1 - 1;
      }
      slot = (slot + 1) & mask;
    }
    return this.insert(buf, start, end, h, packed, tag, slot, initialValue);
  }

  /** Whether the key of `id` (longer than 7 bytes) equals buf[start, start + len) from byte 7 on. */
  private equal(id: number, buf: Uint8Array, start: number, len: number): boolean {
    if (this.spans[2 * id + 1] !== len) return false;
    const arena = this.arena;
    const arenaStart = this.spans[2 * id];
    for (let k = 7; k < len; k++) if (arena[arenaStart + k] !== buf[start + k]) return false;
    return true;
  }

  private insert(
    buf: Uint8Array,
    start: number,
    end: number,
    h: number,
    packed: number,
    tag: number,
    slot: number,
    initialValue: (key: string) => number,
  ): number {
    const len = end - start;
    // Decoding would turn invalid bytes into U+FFFD and merge distinct ids: refuse such keys
    // (and over-long ones) so the caller reports them. Checked once per distinct key.
    if (len > MAX_ID_BYTES || !isValidKey(buf, start, end)) return -1;
    const id = this.strings.length;
    if (id === this.values.length) {
      const values = new Int32Array(id * 2);
      values.set(this.values);
      this.values = values;
      const spans = new Int32Array(id * 4);
      spans.set(this.spans);
      this.spans = spans;
    }
    if (this.arenaUsed + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
    }
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    this.spans[2 * id] = this.arenaUsed;
    this.spans[2 * id + 1] = len;
    this.arenaUsed += len;
    const key = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('utf8');
    this.strings.push(key);
    this.values[id] = initialValue(key);
    const at = SLOT * slot;
    this.slots[at] = h;
    this.slots[at + 1] = id + 1;
    this.slots[at + 2] = packed;
    this.slots[at + 3] = tag;
    if ((id + 1) * 2 > this.mask + 1) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = (this.mask + 1) * 2;
    const old = this.slots;
    const slots = new Int32Array(SLOT * size);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i += SLOT) {
      if (old[i + 1] === 0) continue;
      let slot = old[i] & this.mask;
      while (slots[SLOT * slot + 1] !== 0) slot = (slot + 1) & this.mask;
      slots.set(old.subarray(i, i + SLOT), SLOT * slot);
    }
    this.slots = slots;
  }
}
