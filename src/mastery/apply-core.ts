/**
 * The pure part of applying attempts to one (user, concept) state: exactly-once and stale rules
 * and the BKT step, with no I/O. The service (update-service.ts) runs it inside the state's lock.
 *
 * Rules, in this order, per attempt (docs/operations.md "Exactly once"):
 * 1. duplicate: its key is already in the ledger (or earlier in this call): nothing changes;
 * 2. the time: its own answered_at, or, when it has none, max(now, last_attempt_at + 1 ms), so an
 *    untimed attempt is never stale and last_attempt_at strictly increases over untimed attempts
 *    (their ledger answered_at is then the commit order);
 * 3. stale: answered_at earlier than the state's last_attempt_at: not applied, reported (and
 *    recorded in the ledger, so seeing it again is a duplicate);
 * 4. applied: p_new = updateMastery(p_prior, correct, params), where a new state's prior is L0
 *    (with a model-variant fit, params are the answered question's own where it has them),
 *    n_attempts + 1, last_attempt_at = answered_at, last_seen_question_id = the question.
 */
import { updateMastery, clampProbability } from '../model/online-update.js';
import type { BktParams } from '../model/params.js';

/** What happened to one attempt: applied, duplicate (its key was already in the ledger; nothing changed) or stale (older than the state's last attempt; reported, not applied). */
export type Outcome = 'applied' | 'duplicate' | 'stale';

export interface CoreAttempt {
  attemptKey: string;
  correct: boolean;
  questionId: string | null;
  /** Epoch ms, or null to stamp it when applied. */
  answeredAt: number | null;
}

export interface CoreState {
  pMastery: number;
  nAttempts: number;
  /** Epoch ms or null. */
  lastAttemptAt: number | null;
  lastSeenQuestionId: string | null;
}

export interface CoreStep {
  outcome: Outcome;
  /** The time used (stamped for untimed attempts). */
  answeredAt: number;
  pPrior: number;
  pNew: number;
  nAttempts: number;
}

/**
 * Anything that says whether an attempt key was seen, and records it (a ledger) with the
 * attempt's outcome (`attempt.correct`, `attempt.questionId`), which `--rebuild` replays.
 */
export type RecordKey = (attemptKey: string, answeredAt: number, attempt: CoreAttempt) => Promise<boolean> | boolean;

/**
 * Apply `attempts` (already in time order) to `state` (null = new state, starting at params.p_L0).
 * `record` is called for every non-duplicate-in-call attempt before deciding stale; it returns
 * false for a key applied before. Returns the final state (null if still new and nothing applied)
 * and one step per attempt. `paramsForQuestion` (a variant fit's per-item parameters, see
 * itemParamsResolver) gives the parameters of each attempt's question; default `params`.
 */
export async function applyToState(
  state: CoreState | null,
  attempts: readonly CoreAttempt[],
  params: BktParams,
  now: number,
  record: RecordKey,
  paramsForQuestion?: (questionId: string | null) => BktParams,
): Promise<{ state: CoreState | null; steps: CoreStep[] }> {
  let current = state ? { ...state } : null;
  const steps: CoreStep[] = [];
  const seen = new Set<string>();
  for (const a of attempts) {
    const last = current?.lastAttemptAt ?? null;
    const answeredAt = a.answeredAt ?? (last === null ? now : Math.max(now, last + 1));
    const prior = current ? current.pMastery : clampProbability(params.p_L0);
    const n = current?.nAttempts ?? 0;
    let isNew = !seen.has(a.attemptKey);
    if (isNew) {
      const recorded = record(a.attemptKey, answeredAt, a);
      // A synchronous ledger (the batch path) costs no promise per attempt.
      isNew = typeof recorded === 'boolean' ? recorded : await recorded;
    }
    if (!isNew) {
      seen.add(a.attemptKey);
      steps.push({ outcome: 'duplicate', answeredAt, pPrior: prior, pNew: prior, nAttempts: n });
      continue;
    }
    seen.add(a.attemptKey);
    if (last !== null && answeredAt < last) {
      steps.push({ outcome: 'stale', answeredAt, pPrior: prior, pNew: prior, nAttempts: n });
      continue;
    }
    const next = updateMastery(prior, a.correct, paramsForQuestion ? paramsForQuestion(a.questionId) : params);
    current = { pMastery: next, nAttempts: n + 1, lastAttemptAt: answeredAt, lastSeenQuestionId: a.questionId ?? current?.lastSeenQuestionId ?? null };
    steps.push({ outcome: 'applied', answeredAt, pPrior: prior, pNew: next, nAttempts: n + 1 });
  }
  return { state: current, steps };
}
