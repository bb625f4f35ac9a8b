/**
 * Group commit for online updates: many callers' single attempts share one write transaction.
 *
 * `applyAttempt` runs one transaction per attempt, and a transaction's fixed costs (BEGIN and
 * COMMIT, the lock, the parameter lookup, a ledger insert and an upsert: about ten round trips on
 * PostgreSQL, a WAL write on SQLite; a group takes two round trips) dominate a service's update. The committer keeps at most
 * `maxInFlight` transactions in flight (default one): the attempts that arrive while they run wait
 * and then go together, through the set-based batch path (batch-apply.ts: a fixed number of
 * statements whatever the group's size). An attempt that arrives while a slot is free starts a
 * group at the next turn of the event loop, so the requests read in the same turn share it and a
 * lone request waits for nothing. Groups in flight together hold disjoint states.
 *
 * The result is that of a serial replay of the attempts in arrival order:
 * - each (user, concept) state takes its attempts in arrival order, one group at a time,
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
import { stateKeyOf, type ResolvedParams, type SnapshotInput, type Store, type StoreTransaction } from '../store/store.js';
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
  /**
   * Most group transactions in flight at once (default 1), each on states no other holds. More
   * than one pays where a transaction waits on round trips to a server (PostgreSQL: each group
   * needs a pooled connection of its own); with one connection (SQLite) it only splits groups.
   */
  maxInFlight?: number;
}

interface Pending {
  /** stateKeyOf the attempt's state. */
  state: string;
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
 * commits the attempts of concurrent callers together: a transaction in flight (or a few, on
 * disjoint states), the attempts that arrived meanwhile in the next. For a process that applies
 * many attempts at once, such as `bkt serve`; hold one per store.
 */
export class UpdateCommitter {
  private queue: Pending[] = [];
  /** Group transactions in flight, and the states they hold (no other group may take them). */
  private inFlight = 0;
  private readonly heldStates = new Set<string>();
  private scheduled = false;
  private readonly maxGroupSize: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly store: Store,
    options: UpdateCommitterOptions = {},
  ) {
    const check = (name: string, value: number) => {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be an integer >= 1 (got ${value})`);
      return value;
    };
    this.maxGroupSize = check('maxGroupSize', options.maxGroupSize ?? DEFAULT_MAX_GROUP_SIZE);
    this.maxInFlight = check('maxInFlight', options.maxInFlight ?? 1);
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
      this.queue.push({ state: stateKeyOf(prepared.userId, prepared.conceptId), attempt: prepared, options, resolve, reject });
      if (!this.scheduled && this.inFlight < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.next();
        });
      }
    });
  }

  /** Attempts waiting for a transaction (not counting the one in flight). */
  get waiting(): number {
    return this.queue.length;
  }

  /**
   * Start groups while a slot is free: the waiting attempts in arrival order, except those of a
   * state another group holds. Once one attempt of a state stays behind (its state is held, or
   * the group is full), every later one of that state stays too, so each state keeps arrival order.
   */
  private next(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const group: Pending[] = [];
      const left: Pending[] = [];
      const behind = new Set<string>();
      for (const p of this.queue) {
        if (group.length < this.maxGroupSize && !this.heldStates.has(p.state) && !behind.has(p.state)) group.push(p);
        else {
          left.push(p);
          behind.add(p.state);
        }
      }
      if (group.length === 0) return;
      this.queue = left;
      const states = new Set(group.map((p) => p.state));
      for (const state of states) this.heldStates.add(state);
      this.inFlight += 1;
      void this.commit(group).finally(() => {
        this.inFlight -= 1;
        for (const state of states) this.heldStates.delete(state);
        this.next();
      });
    }
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
    // The parameters are read with the locks: with BEGIN, in one round trip on PostgreSQL.
    const params = new Map<string, ResolvedParams>();
    const paramsOf = (conceptId: string): ResolvedParams => params.get(conceptId)!;
    const steps: (CoreStep | undefined)[] = new Array(group.length);
    const rejected: Rejection[] = [];
    await applySlices(tx, ordered, { readWithLocks: params }, Date.now(), rejected, false, (slice, sliceSteps) => {
      slice.attempts.forEach((a, k) => (steps[a.line] = sliceSteps[k]));
    });
    const missing = new Set(rejected.map((r) => r.line));

    const settled: Settled[] = [];
    const snapshots: SnapshotInput[] = [];
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
        snapshots.push({ user_id: a.userId, concept_id: a.conceptId, p_mastery: step.pNew, n_attempts: step.nAttempts, algo_version_id: resolved.algo_version_id });
        snapshotCreated = true;
      }
      settled.push({ ok: true, result: updateResultOf(a, step, resolved, options, snapshotCreated) });
    }
    // All of them in one insert that goes with COMMIT.
    if (snapshots.length) await tx.insertSnapshots(snapshots);
    return settled;
  }
}
