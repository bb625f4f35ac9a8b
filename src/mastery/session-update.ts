/**
 * The seed's session-submit hook (`bkt update --session`) and `bkt update --rebuild`.
 */
import { InputError, NotFoundError, UsageError } from '../errors.js';
import { updateMastery, clampProbability } from '../model/online-update.js';
import type { ResolvedParams, SessionAnswer, Store } from '../store/store.js';
import type { BatchAttempt } from './batch-input.js';
import { assertUserAllowed, type Scope } from './scope.js';
import { applyBatch } from './update-service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What `applySession` did to a submitted session's answers. */
export interface SessionSummary {
  session_id: string;
  user_id: string;
  applied: number;
  duplicate: number;
  stale: number;
  /** Questions not applied: unanswered (is_correct null) and without a concept in the snapshot. */
  skipped: { unanswered: string[]; no_concept: string[] };
  concepts: string[];
}

/**
 * Apply a SUBMITTED or EXPIRED session's answered questions: the learner from
 * test_sessions.user_id, each concept of snapshot_json.concept_id / concept_ids (an answer naming
 * k concepts updates k states), time = answered_at (else submitted_at), exactly-once key = the
 * session_answers id, so running it again changes nothing. Throws NotFoundError for an unknown
 * session, InputError for an ACTIVE one, ScopeError for another learner's session.
 */
export async function applySession(store: Store, scope: Scope, sessionId: string): Promise<SessionSummary> {
  if (!UUID_RE.test(sessionId)) throw new UsageError(`\`sessionId\` "${sessionId}" is not a UUID`, 'Give the test_sessions id');
  const id = sessionId.toLowerCase();
  const session = await store.readSession(id);
  if (!session) throw new NotFoundError(`session ${id}: not in test_sessions of ${store.display}`, 'Check the session id');
  assertUserAllowed(scope, session.userId, 'update mastery for');
  if (session.status !== 'SUBMITTED' && session.status !== 'EXPIRED') {
    throw new InputError(`session ${id} is ${session.status}`, 'Only SUBMITTED or EXPIRED sessions are applied; submit it first');
  }
  const { attempts, skipped } = answersToAttempts(session.answers);
  const result = await applyBatch(store, scope, { attempts }, { batchSize: 100_000, failFast: true });
  return {
    session_id: id,
    user_id: session.userId,
    applied: result.applied,
    duplicate: result.duplicate,
    stale: result.stale,
    skipped,
    concepts: [...new Set(attempts.map((a) => a.conceptId))].sort(),
  };
}

function answersToAttempts(answers: readonly SessionAnswer[]): { attempts: BatchAttempt[]; skipped: SessionSummary['skipped'] } {
  const attempts: BatchAttempt[] = [];
  const skipped: SessionSummary['skipped'] = { unanswered: [], no_concept: [] };
  answers.forEach((a, index) => {
    if (a.correct === null) return void skipped.unanswered.push(a.questionId);
    if (a.concepts.length === 0) return void skipped.no_concept.push(a.questionId);
    for (const c of a.concepts) {
      attempts.push({ line: a.position ?? index + 1, userId: a.userId, conceptId: c, questionId: a.questionId, correct: a.correct, answeredAt: a.time, attemptKey: a.answerId });
    }
  });
  return { attempts, skipped };
}

/** Which states `rebuildStates` recomputes: one user and/or some concepts; default all. */
export interface RebuildOptions {
  userId?: string;
  conceptIds?: string[];
  /** States per transaction (default 500). */
  statesPerTransaction?: number;
}

/** A state `--rebuild` left as it was, and why. */
export interface KeptState {
  user_id: string;
  concept_id: string;
  /** `no_outcome`: ledger rows without correct (written before bkt stored outcomes); `ledger_incomplete`: fewer ledger rows than n_attempts. */
  reason: 'no_outcome' | 'ledger_incomplete';
  /** One line saying why, naming the counts. */
  detail: string;
  n_attempts: number;
  ledger_rows: number;
  rows_without_outcome: number;
}

/** What `rebuildStates` did: states rewritten, kept, and attempts replayed. */
export interface RebuildSummary {
  states_rebuilt: number;
  attempts_replayed: number;
  /** States left exactly as they were: their ledger cannot reproduce them. */
  states_kept: KeptState[];
}

/**
 * `bkt update --rebuild`: recompute each selected state from the full attempt history bkt holds,
 * the state's bkt_attempt_ledger rows, with the CURRENT parameters: start at L0 and replay every
 * row (attempts reported stale included, in their place) in commit order (answered_at, then
 * applied_at, then attempt_key: `sortLedger`), so n_attempts = rows replayed, last_attempt_at =
 * the last row's time, last_seen_question_id = the last question seen. With parameters unchanged
 * and no stale rows this reproduces the stored state exactly; running it twice gives the same
 * states. The ledger itself is not changed.
 *
 * Selected: states in bkt_user_skill_state with attempts and (user, concept) pairs in the ledger
 * whose user still exists, narrowed by `userId` / `conceptIds`. A state whose ledger has rows
 * without an outcome (correct NULL, written by an older bkt) or fewer rows than its n_attempts
 * (attempts applied without the ledger) is not changed and is listed in `states_kept` with the
 * reason. Each state is locked (and its ledger read) inside its transaction, in (user, concept)
 * order; `statesPerTransaction` states per transaction.
 */
export async function rebuildStates(store: Store, scope: Scope, options: RebuildOptions = {}): Promise<RebuildSummary> {
  if (scope.kind !== 'admin') throw new UsageError('`rebuild` needs the admin scope', 'Drop `asUser`');
  const pairs = await store.listTrackedStates({ userId: options.userId?.toLowerCase(), conceptIds: options.conceptIds?.map((c) => c.toLowerCase()) });
  const per = Math.max(1, options.statesPerTransaction ?? 500);
  const summary: RebuildSummary = { states_rebuilt: 0, attempts_replayed: 0, states_kept: [] };
  for (let i = 0; i < pairs.length; i += per) {
    const chunk = pairs.slice(i, i + per);
    const part = await store.withWriteTransaction(async (tx) => {
      const out: RebuildSummary = { states_rebuilt: 0, attempts_replayed: 0, states_kept: [] };
      const paramsByConcept = new Map<string, ResolvedParams>();
      for (const { userId, conceptId } of chunk) {
        const row = await tx.lockState(userId, conceptId);
        // After the lock: no attempt of this state can be added until commit.
        const ledger = await tx.readLedger(userId, conceptId);
        const nAttempts = row?.n_attempts ?? 0;
        const withoutOutcome = ledger.filter((r) => r.correct === null).length;
        const kept = (reason: KeptState['reason'], detail: string) =>
          out.states_kept.push({ user_id: userId, concept_id: conceptId, reason, detail, n_attempts: nAttempts, ledger_rows: ledger.length, rows_without_outcome: withoutOutcome });
        if (withoutOutcome > 0) {
          kept('no_outcome', `${withoutOutcome} of ${ledger.length} ledger rows have no outcome (written before bkt stored correct); they cannot be replayed`);
          continue;
        }
        if (ledger.length < nAttempts) {
          kept('ledger_incomplete', `n_attempts is ${nAttempts} but the ledger holds ${ledger.length} attempts; the others were applied without it`);
          continue;
        }
        if (ledger.length === 0) continue;
        let resolved = paramsByConcept.get(conceptId);
        if (!resolved) paramsByConcept.set(conceptId, (resolved = await tx.resolveParams(conceptId)));
        let p = clampProbability(resolved.params.p_L0);
        let lastAt: string | null = null;
        let lastQuestion: string | null = null;
        for (const r of ledger) {
          p = updateMastery(p, r.correct!, resolved.params);
          if (r.answered_at !== null) lastAt = r.answered_at;
          if (r.question_id !== null) lastQuestion = r.question_id;
        }
        await tx.upsertState({
          user_id: userId,
          concept_id: conceptId,
          p_mastery: p,
          n_attempts: ledger.length,
          last_attempt_at: lastAt,
          last_seen_question_id: lastQuestion,
          algo_version_id: resolved.algo_version_id,
        });
        out.states_rebuilt += 1;
        out.attempts_replayed += ledger.length;
      }
      return out;
    });
    summary.states_rebuilt += part.states_rebuilt;
    summary.attempts_replayed += part.attempts_replayed;
    summary.states_kept.push(...part.states_kept);
  }
  return summary;
}
