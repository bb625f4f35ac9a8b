/**
 * Reads that concurrent requests share: the keys asked for while no read is in flight go in one
 * read at the next turn of the event loop, those asked for while one is in flight in the next
 * one, so there is at most one read in flight and one statement serves many requests instead of
 * a round trip each (on PostgreSQL a round trip costs the service more CPU than the rest of a
 * light request).
 *
 * A key never joins a read that started before it was asked for: every answer is read after its
 * request arrived, exactly as a read of its own would be, so a change committed before a request
 * arrives (a user's role, a mastery update) is always seen by it.
 */
export class CoalescedLookup<K, V> {
  private waiting = new Map<K, { resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[]>();
  private busy = false;

  /** `read` returns the values of the keys it was given; a key it leaves out is answered undefined. */
  constructor(
    private readonly read: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxKeys = 1000,
  ) {}

  /** The value of `key` from a read that starts after this call; undefined when the read has none. */
  get(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      if (this.waiting.size === 1 && !waiters && !this.busy) setImmediate(() => this.next());
    });
  }

  private next(): void {
    if (this.busy || this.waiting.size === 0) return;
    this.busy = true;
    let batch: Map<K, { resolve: (value: V | undefined) => void; reject: (error: unknown) => void }[]>;
    if (this.waiting.size <= this.maxKeys) {
      batch = this.waiting;
      this.waiting = new Map();
    } else {
      batch = new Map();
      for (const [key, waiters] of this.waiting) {
        if (batch.size >= this.maxKeys) break;
        batch.set(key, waiters);
      }
      for (const key of batch.keys()) this.waiting.delete(key);
    }
    this.read([...batch.keys()])
      .then(
        (values) => {
          for (const [key, waiters] of batch) for (const w of waiters) w.resolve(values.get(key));
        },
        (error: unknown) => {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(error);
        },
      )
      .finally(() => {
        this.busy = false;
        this.next();
      });
  }
}
