/**
 * Set-based apply of one batch transaction through the Store's bulk operations: a fixed number of
 * statements per transaction whatever its size (lock every state of the batch, one ledger lookup,
 * one bulk ledger insert with each attempt's correct and question_id for --rebuild, multi-row
 * state upserts), instead of several round trips per attempt. The rules are the same pure core
 * (apply-core.ts) as a single update; the locks are the Store's (StoreTransaction.lockStates).
 */
import { NotFoundError } from '../errors.js';
import { stateKeyOf, type LedgerInput, type LockedStateRow, type ResolvedParams, type StateInput, type StoreTransaction } from '../store/store.js';
import { applyToState, type CoreState, type CoreStep } from './apply-core.js';
import type { Rejection } from './batch-input.js';
import { questionParams } from './question-params.js';
import type { StateSlice } from './batch-plan.js';

export interface SliceCounts {
  applied: number;
  duplicate: number;
  stale: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A stored state as the pure core sees it; a state with no attempts (a lock placeholder) is new. */
export function coreStateOf(row: LockedStateRow | null | undefined): CoreState | null {
  if (!row || row.n_attempts === 0) return null;
  return {
    pMastery: row.p_mastery,
    nAttempts: row.n_attempts,
    lastAttemptAt: row.last_attempt_at === null ? null : Date.parse(row.last_attempt_at),
    lastSeenQuestionId: row.last_seen_question_id,
  };
}

/**
 * The parameters of each concept: known ahead (a function), or read with the locks into the given
 * map (one round trip fewer on PostgreSQL), which the caller reads once applySlices has resolved.
 */
export type ParamsSource = ((conceptId: string) => ResolvedParams) | { readWithLocks: Map<string, ResolvedParams> };

/**
 * Apply `slices` (in lock order) inside the open transaction `tx`. Slices of users missing from
 * `users` are not applied: their rows are appended to `rejected` (failFast: NotFoundError).
 * `onSteps` is given each applied slice with one step per attempt, in the slice's order (the
 * update committer answers each request with its own step).
 */
export async function applySlices(
  tx: StoreTransaction,
  slices: readonly StateSlice[],
  paramsSource: ParamsSource,
  now: number,
  rejected: Rejection[],
  failFast = false,
  onSteps?: (slice: StateSlice, steps: readonly CoreStep[]) => void,
): Promise<SliceCounts> {
  const counts: SliceCounts = { applied: 0, duplicate: 0, stale: 0 };
  if (slices.length === 0) return counts;
  // The ledger lookup of every attempt key goes with the locks (one round trip on PostgreSQL);
  // keys of users missing from users are looked up for nothing, and answer nothing.
  const into = typeof paramsSource === 'function' ? null : paramsSource.readWithLocks;
  const { rows, missingUsers, appliedKeys: existing, params: read } = await tx.lockStates(
    slices,
    slices.flatMap((s) => s.attempts.map((a) => a.attemptKey)),
    into ? slices.map((s) => s.conceptId) : undefined,
  );
  if (into) for (const [conceptId, p] of read) into.set(conceptId, p);
  const paramsOf = typeof paramsSource === 'function' ? paramsSource : (conceptId: string) => read.get(conceptId)!;
  const live = slices.filter((s) => {
    if (!missingUsers.has(s.userId)) return true;
    if (failFast) {
      throw new NotFoundError(`line ${s.attempts[0].line}: user ${s.userId} does not exist in users`, 'Import the user first, or drop `failFast` to skip its rows');
    }
    for (const a of s.attempts) rejected.push({ line: a.line, reason: `user ${s.userId} does not exist in users` });
    return false;
  });
  if (live.length === 0) return counts;
  const states = new Map<string, CoreState | null>();
  for (const s of live) {
    const key = stateKeyOf(s.userId, s.conceptId);
    if (!states.has(key)) states.set(key, coreStateOf(rows.get(key)));
  }

  // The pure core per state; then one ledger insert and the upserts for the whole transaction.
  const ledger: LedgerInput[] = [];
  const upserts: StateInput[] = [];
  for (const s of live) {
    const key = stateKeyOf(s.userId, s.conceptId);
    const params = paramsOf(s.conceptId);
    const before = states.get(key) ?? null;
    const { state, steps } = await applyToState(
      before,
      s.attempts,
      params.params,
      now,
      (attemptKey, at, a) => {
        if (existing.has(`${key}|${attemptKey}`)) return false;
        existing.add(`${key}|${attemptKey}`);
        ledger.push({ user_id: s.userId, concept_id: s.conceptId, attempt_key: attemptKey, answered_at: iso(at), correct: a.correct, question_id: a.questionId });
        return true;
      },
      questionParams(params),
    );
    for (const step of steps) counts[step.outcome] += 1;
    onSteps?.(s, steps);
    if (state && (before === null || state.nAttempts !== before.nAttempts)) {
      states.set(key, state);
      upserts.push({
        user_id: s.userId,
        concept_id: s.conceptId,
        p_mastery: state.pMastery,
        n_attempts: state.nAttempts,
        last_attempt_at: state.lastAttemptAt === null ? null : iso(state.lastAttemptAt),
        last_seen_question_id: state.lastSeenQuestionId,
        algo_version_id: params.algo_version_id,
      });
    }
  }
  await tx.recordAttempts(ledger);
  await tx.upsertStates(upserts);
  return counts;
}
