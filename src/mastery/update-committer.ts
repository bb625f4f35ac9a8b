/**
 * Group commit for online updates: many callers' single attempts share one write transaction.
 *
 * `applyAttempt` runs one transaction per attempt, and a transaction's fixed costs (BEGIN and
 * COMMIT, the lock, the parameter lookup, a ledger insert and an upsert: about ten round trips on
 * PostgreSQL, a WAL write on SQLite) dominate a service's update. The committer keeps at most one
 * transaction in flight: the attempts that arrive while it runs wait and then go together, through
 * the set-based batch path (batch-apply.ts: a fixed number of statements whatever the group's
 * size). An attempt that arrives while none is in flight starts a group at the next turn of the
 * event loop, so the requests read in the same turn share it and a lone request waits for nothing.
 *
 * The result is that of a serial replay of the attempts in arrival order:
 * - each (user, concept) state takes its attempts in arrival order, in one transaction at a time,
 *   with the same pure core (apply-core.ts) and its rules (duplicate, stamp, stale, applied);
 * - exactly once per attempt key: a key repeated within a group is a duplicate of its first
 *   arrival (the core remembers keys within a call), across groups the ledger says so;
 * - every caller gets its own attempt's response, as `applyAttempt` would have returned it;
 * - an attempt of a user missing from users fails alone (NotFoundError, as applyAttempt's); if
 *   the group's transaction fails as a whole, nothing of it was committed and each attempt is
 *   retried in a transaction of its own, so a failing attempt fails only its own caller.
 * Other writers (the CLI, another service process) still meet the database's locks as before.
 */
import { NotFoundError } from '../errors.js';
import { stateKeyOf, type ResolvedParams, type Store, type StoreTransaction } from '../store/store.js';
import type { CoreStep } from './apply-core.js';
import { applySlices } from './batch-apply.js';
import type { BatchAttempt, Rejection } from './batch-input.js';
import type { StateSlice } from './batch-plan.js';
import type { Scope } from './scope.js';
import { prepareAttempt, updateResultOf, type ApplyOptions, type PreparedAttempt, type SingleAttempt, type UpdateResult } from './update-service.js';

/** Options of an `UpdateCommitter`. */
export interface UpdateCommitterOptions {
  /** Most attempts in one transaction (default 1000); more waiting go in the next. */
  maxGroupSize?: number;
}

interface Pending {
  attempt: PreparedAttempt;
  options: ApplyOptions;
  resolve: (result: UpdateResult) => void;
  reject: (error: unknown) => void;
}

/** One attempt's answer from a group transaction: its result, or its own error. */
type Settled = { ok: true; result: UpdateResult } | { ok: false; error: unknown };

const DEFAULT_MAX_GROUP_SIZE = 1000;

const lockOrder = (x: StateSlice, y: StateSlice): number =>
  x.userId < y.userId ? -1 : x.userId > y.userId ? 1 : x.conceptId < y.conceptId ? -1 : x.conceptId > y.conceptId ? 1 : 0;

/**
 * Applies single attempts like `applyAttempt` (same checks, same response, same errors), but
 * commits the attempts of concurrent callers together: one transaction in flight at a time, the
 * attempts that arrived meanwhile in the next. For a process that applies many attempts at once,
 * such as `bkt serve`; hold one per store.
 */
export class UpdateCommitter {
  private readonly queue: Pending[] = [];
  private busy = false;
  private readonly maxGroupSize: number;

  constructor(
    private readonly store: Store,
    options: UpdateCommitterOptions = {},
  ) {
    const max = options.maxGroupSize ?? DEFAULT_MAX_GROUP_SIZE;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxGroupSize must be an integer >= 1 (got ${max})`);
    this.maxGroupSize = max;
  }

  /**
   * Apply one attempt in the next group transaction. Resolves with what `applyAttempt` returns
   * for it; rejects as it would (UsageError and ScopeError before anything is queued,
   * NotFoundError for a user missing from users, a StorageError when the database fails).
   */
  apply(scope: Scope, attempt: SingleAttempt, options: ApplyOptions = {}): Promise<UpdateResult> {
    let prepared: PreparedAttempt;
    try {
      prepared = prepareAttempt(scope, attempt);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<UpdateResult>((resolve, reject) => {
      this.queue.push({ attempt: prepared, options, resolve, reject });
      if (this.queue.length === 1 && !this.busy) setImmediate(() => this.next());
    });
  }

  /** Attempts waiting for a transaction (not counting the one in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  private next(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    const group = this.queue.splice(0, this.maxGroupSize);
    void this.commit(group).finally(() => {
      this.busy = false;
      this.next();
    });
  }

  private async commit(group: Pending[]): Promise<void> {
    let settled: Settled[];
    try {
      settled = await this.store.withWriteTransaction((tx) => this.applyGroup(tx, group));
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      // Nothing of the group was committed: each attempt alone, in arrival order, so that the
      // attempt that failed it fails alone and the others are applied as a serial replay would.
      for (const p of group) await this.commit([p]);
      return;
    }
    settled.forEach((s, i) => (s.ok ? group[i].resolve(s.result) : group[i].reject(s.error)));
  }

  /** The group inside its transaction: one slice per state (attempts in arrival order), in lock order. */
  private async applyGroup(tx: StoreTransaction, group: readonly Pending[]): Promise<Settled[]> {
    const slices = new Map<string, StateSlice>();
    group.forEach((p, i) => {
      const a = p.attempt;
      const key = stateKeyOf(a.userId, a.conceptId);
      let slice = slices.get(key);
      if (!slice) slices.set(key, (slice = { userId: a.userId, conceptId: a.conceptId, attempts: [] }));
      // `line` is the attempt's place in the group, to find its step and rejection again.
      const attempt: BatchAttempt = { line: i, userId: a.userId, conceptId: a.conceptId, questionId: a.questionId, correct: a.correct, answeredAt: a.answeredAt, attemptKey: a.attemptKey };
      slice.attempts.push(attempt);
    });
    const ordered = [...slices.values()].sort(lockOrder);
    const params = await tx.resolveParamsMany(ordered.map((s) => s.conceptId));
    const paramsOf = (conceptId: string): ResolvedParams => params.get(conceptId)!;
    const steps: (CoreStep | undefined)[] = new Array(group.length);
    const rejected: Rejection[] = [];
    await applySlices(tx, ordered, paramsOf, Date.now(), rejected, false, (slice, sliceSteps) => {
      slice.attempts.forEach((a, k) => (steps[a.line] = sliceSteps[k]));
    });
    const missing = new Set(rejected.map((r) => r.line));

    const settled: Settled[] = [];
    for (let i = 0; i < group.length; i++) {
      const { attempt: a, options } = group[i];
      if (missing.has(i)) {
        settled.push({ ok: false, error: new NotFoundError(`user ${a.userId}: not in the users table of ${this.store.display}`, 'Import the user first (bkt import) or check --user') });
        continue;
      }
      // Every attempt of a user that exists was given a step by applySlices.
      const step = steps[i]!;
      const resolved = paramsOf(a.conceptId);
      let snapshotCreated = false;
      if (options.snapshot && step.outcome === 'applied') {
        // The state as this attempt left it, as applyAttempt's snapshot after it would be.
        await tx.insertSnapshot({ user_id: a.userId, concept_id: a.conceptId, p_mastery: step.pNew, n_attempts: step.nAttempts, algo_version_id: resolved.algo_version_id });
        snapshotCreated = true;
      }
      settled.push({ ok: true, result: updateResultOf(a, step, resolved, options, snapshotCreated) });
    }
    return settled;
  }
}
