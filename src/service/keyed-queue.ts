/**
 * One-at-a-time execution per key, in arrival order. The service runs the updates of one
 * (user, concept) state through it: the database lock already serialises them, but on
 * PostgreSQL every waiter would hold a pooled connection and a server process blocked on the row
 * lock, and each hand-over wakes another process. Queued here, waiting costs a promise, and the
 * pool's connections go to updates of other states. Correctness never depends on it: other
 * processes still meet the database lock.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Run `task` after every earlier task of `key` has settled; resolves or rejects as it does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(task, task) : task();
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.tails.size;
  }
}
