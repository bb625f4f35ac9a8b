/**
 * Maps byte strings (slices of a read buffer) to small integer ids without building a JS string
 * per lookup: an open-addressing hash table (FNV-1a, linear probing) over a byte arena. A string
 * is decoded (UTF-8) once per distinct key. The CSV fast path uses one per id column.
 */
export class ByteInterner {
  /** Decoded key per id. */
  readonly strings: string[] = [];
  /** A caller-owned number per id (the fast path stores builder indexes and filter flags here). */
  values: Int32Array = new Int32Array(64);

  private slots = new Int32Array(256); // id + 1, 0 = empty
  private mask = 255;
  private hashes: Uint32Array = new Uint32Array(64);
  private starts: Uint32Array = new Uint32Array(64);
  private lengths: Uint32Array = new Uint32Array(64);
  private arena: Uint8Array = new Uint8Array(4096);
  private arenaUsed = 0;

  get size(): number {
    return this.strings.length;
  }

  /**
   * Id of the bytes buf[start, end), adding them when new; for a new id, `values[id]` is set to
   * `initialValue(decodedKey)`.
   */
  lookup(buf: Uint8Array, start: number, end: number, initialValue: (key: string) => number): number {
    let h = 0x811c9dc5;
    for (let k = start; k < end; k++) h = Math.imul(h ^ buf[k], 0x01000193);
    h >>>= 0;
    const len = end - start;
    let slot = h & this.mask;
    for (;;) {
      const entry = this.slots[slot];
      if (entry === 0) break;
      const id = entry - 1;
      if (this.hashes[id] === h && this.lengths[id] === len && this.equal(id, buf, start, len)) return id;
      slot = (slot + 1) & this.mask;
    }
    return this.insert(buf, start, end, h, slot, initialValue);
  }

  private equal(id: number, buf: Uint8Array, start: number, len: number): boolean {
    const arena = this.arena;
    const s = this.starts[id];
    for (let k = 0; k < len; k++) if (arena[s + k] !== buf[start + k]) return false;
    return true;
  }

  private insert(
    buf: Uint8Array,
    start: number,
    end: number,
    h: number,
    slot: number,
    initialValue: (key: string) => number,
  ): number {
    const id = this.strings.length;
    const len = end - start;
    if (id === this.hashes.length) {
      this.hashes = grow(this.hashes, id * 2) as Uint32Array;
      this.starts = grow(this.starts, id * 2) as Uint32Array;
      this.lengths = grow(this.lengths, id * 2) as Uint32Array;
      this.values = grow(this.values, id * 2) as Int32Array;
    }
    if (this.arenaUsed + len > this.arena.length) {
      this.arena = grow(this.arena, Math.max(this.arena.length * 2, this.arenaUsed + len)) as Uint8Array;
    }
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    this.hashes[id] = h;
    this.starts[id] = this.arenaUsed;
    this.lengths[id] = len;
    this.arenaUsed += len;
    const key = Buffer.from(buf.buffer, buf.byteOffset + start, len).toString('utf8');
    this.strings.push(key);
    this.values[id] = initialValue(key);
    this.slots[slot] = id + 1;
    if ((id + 1) * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
    for (let id = 0; id < this.strings.length; id++) {
      let slot = this.hashes[id] & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = id + 1;
    }
  }
}

function grow<T extends Uint8Array | Uint32Array | Int32Array>(array: T, size: number): T {
  const out = new (array.constructor as new (n: number) => T)(size);
  out.set(array);
  return out;
}
