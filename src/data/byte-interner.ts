/**
 * Maps byte strings (slices of a read buffer) to small integer ids without building a JS string
 * per lookup: an open-addressing hash table (FNV-1a, linear probing) over a byte arena. A string
 * is decoded (UTF-8) once per distinct key. The CSV fast path uses one per id column.
 *
 * Laid out for few cache misses per lookup: each slot holds the key's hash beside its id, so a
 * probe that does not match touches nothing else; each entry's start, length and caller value sit
 * together; keys of up to 8 bytes are compared from the entry itself, without the arena.
 */
/** FNV-1a 32-bit parameters of the interner's hash (exported for callers that hash while scanning). */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

/** The interner's hash of bytes [start, end): FNV-1a as an int32. */
export function fnv1a(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], FNV_PRIME);
  return h | 0;
}

/** Int32 fields per entry. */
const ENTRY = 5;

export class ByteInterner {
  /** Decoded key per id. */
  readonly strings: string[] = [];

  /** Slot i: [hash, id + 1] at 2i, 2i + 1 (id + 1 = 0: empty). */
  private slots: Int32Array = new Int32Array(512);
  private mask = 255;
  /** Entry id: [arena start, length, caller value, bytes 0-3 packed, bytes 4-7 packed] at 5 id. */
  private entries: Int32Array = new Int32Array(320);
  private arena: Uint8Array = new Uint8Array(4096);
  private arenaUsed = 0;

  get size(): number {
    return this.strings.length;
  }

  /** The caller-owned number of an id (the fast path stores builder indexes and filter flags). */
  value(id: number): number {
    return this.entries[ENTRY * id + 2];
  }

  setValue(id: number, value: number): void {
    this.entries[ENTRY * id + 2] = value;
  }

  /**
   * Id of the bytes buf[start, end), adding them when new; for a new id, its value is set to
   * `initialValue(decodedKey)`.
   */
  lookup(buf: Uint8Array, start: number, end: number, initialValue: (key: string) => number): number {
    let h = FNV_OFFSET;
    for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], FNV_PRIME);
    return this.lookupHashed(buf, start, end, h | 0, initialValue);
  }

  /**
   * lookup() with the key's hash already computed by the caller (the CSV fast path hashes an id
   * while scanning for its end): `hash` must equal `fnv1a(buf[start, end)) | 0`, see fnv1a.
   */
  lookupHashed(buf: Uint8Array, start: number, end: number, hash: number, initialValue: (key: string) => number): number {
    const h = hash;
    const len = end - start;
    let packed = 0;
    let packed2 = 0;
    const head = len < 4 ? len : 4;
    for (let k = 0; k < head; k++) packed |= buf[start + k] << (8 * k);
    const tail = len < 8 ? len : 8;
    for (let k = 4; k < tail; k++) packed2 |= buf[start + k] << (8 * (k - 4));
    const slots = this.slots;
    const entries = this.entries;
    let slot = h & this.mask;
    for (;;) {
      const id1 = slots[2 * slot + 1];
      if (id1 === 0) break;
      if (slots[2 * slot] === h) {
        const e = ENTRY * (id1 - 1);
        if (entries[e + 1] === len && entries[e + 3] === packed && entries[e + 4] === packed2 && (len <= 8 || this.equal(entries[e], buf, start, len))) {
          return id1 - 1;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    return this.insert(buf, start, end, h, packed, packed2, slot, initialValue);
  }

  private equal(arenaStart: number, buf: Uint8Array, start: number, len: number): boolean {
    const arena = this.arena;
    for (let k = 8; k < len; k++) if (arena[arenaStart + k] !== buf[start + k]) return false;
    return true;
  }

  private insert(
    buf: Uint8Array,
    start: number,
    end: number,
    h: number,
    packed: number,
    packed2: number,
    slot: number,
    initialValue: (key: string) => number,
  ): number {
    const id = this.strings.length;
    const len = end - start;
    if (ENTRY * id + ENTRY > this.entries.length) {
      const entries = new Int32Array(this.entries.length * 2);
      entries.set(this.entries);
      this.entries = entries;
    }
    if (this.arenaUsed + len > this.arena.length) {
      const arena = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
    }
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    const e = ENTRY * id;
    this.entries[e] = this.arenaUsed;
    this.entries[e + 1] = len;
    this.entries[e + 3] = packed;
    this.entries[e + 4] = packed2;
    this.arenaUsed += len;
    const key = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('utf8');
    this.strings.push(key);
    this.entries[e + 2] = initialValue(key);
    this.slots[2 * slot] = h;
    this.slots[2 * slot + 1] = id + 1;
    if ((id + 1) * 2 > this.mask + 1) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = (this.mask + 1) * 2;
    const old = this.slots;
    this.slots = new Int32Array(2 * size);
    this.mask = size - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let slot = old[i] & this.mask;
      while (this.slots[2 * slot + 1] !== 0) slot = (slot + 1) & this.mask;
      this.slots[2 * slot] = old[i];
      this.slots[2 * slot + 1] = old[i + 1];
    }
  }
}
