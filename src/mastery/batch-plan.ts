/**
 * Plans a batch apply: attempts grouped per (user, concept) state, each group in time order
 * (untimed attempts last, in file order: they are stamped when applied), groups in (user,
 * concept) order so concurrent writers always lock states in the same order (no deadlock), then
 * cut into transactions of at most `batchSize` attempts. A group larger than a transaction
 * spans several consecutive transactions.
 */
import type { BatchAttempt } from './batch-input.js';

export interface StateSlice {
  userId: string;
  conceptId: string;
  attempts: BatchAttempt[];
}

/** Transactions, each a list of state slices in lock order. */
export function planBatches(attempts: readonly BatchAttempt[], batchSize: number): StateSlice[][] {
  if (!(batchSize >= 1)) throw new RangeError(`batchSize must be >= 1 (got ${batchSize})`);
  const groups = new Map<string, StateSlice>();
  for (const a of attempts) {
    const key = `${a.userId}|${a.conceptId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { userId: a.userId, conceptId: a.conceptId, attempts: [] }));
    g.attempts.push(a);
  }
  const ordered = [...groups.values()].sort((x, y) =>
    x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : x.conceptId < y.conceptId ? -1 : x.conceptId > y.conceptId ? 1 : 0,
  );
  const transactions: StateSlice[][] = [];
  let current: StateSlice[] = [];
  let size = 0;
  for (const g of ordered) {
    // Array.prototype.sort is stable: equal times keep file order.
    g.attempts.sort((x, y) => (x.answeredAt ?? Infinity) - (y.answeredAt ?? Infinity) || x.line - y.line);
    let offset = 0;
    while (offset < g.attempts.length) {
      const take = Math.min(batchSize - size, g.attempts.length - offset);
      current.push({ userId: g.userId, conceptId: g.conceptId, attempts: g.attempts.slice(offset, offset + take) });
      offset += take;
      size += take;
      if (size >= batchSize) {
        transactions.push(current);
        current = [];
        size = 0;
      }
    }
  }
  if (current.length > 0) transactions.push(current);
  return transactions;
}
