/**
 * The seed's session-submit hook (`bkt update --session`) and `bkt update --rebuild`.
 */
import { InputError, NotFoundError, UsageError } from '../errors.js';
import { updateMastery, clampProbability } from '../model/online-update.js';
import type { ResolvedParams, Store } from '../store/store.js';
import type { BatchAttempt } from './batch-input.js';
import { assertUserAllowed, type Scope } from './scope.js';
import { readHistory, readSession, sqlDriverOf, type SessionAnswer } from './session-source.js';
import { applyBatch } from './update-service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

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
  if (!UUID_RE.test(sessionId)) throw new UsageError(`--session "${sessionId}" is not a UUID`, 'Give the test_sessions id');
  const id = sessionId.toLowerCase();
  const session = await readSession(store, id);
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

export interface RebuildOptions {
  userId?: string;
  conceptIds?: string[];
}

export interface RebuildSummary {
  states_rebuilt: number;
  attempts_replayed: number;
  /** States left as they were: their ledger holds attempts applied outside sessions, whose outcome is not stored. */
  states_kept: { user_id: string; concept_id: string; attempts_without_history: number }[];
}

/**
 * Recompute states from the full session history with the current parameters: each selected
 * (user, concept) restarts at L0 and replays every answered attempt in time order (stale ones
 * included, in their place), and every replayed answer id is recorded in the ledger. A state
 * whose ledger holds keys that are not in the history (single or file updates) is kept and
 * reported, because those attempts' outcomes are not stored and replaying without them would lose
 * them. One transaction per 500 states.
 */
export async function rebuildStates(store: Store, scope: Scope, options: RebuildOptions = {}): Promise<RebuildSummary> {
  if (scope.kind !== 'admin') throw new UsageError('--rebuild needs the admin scope', 'Drop --as-user');
  const user = options.userId?.toLowerCase();
  const concepts = options.conceptIds?.length ? new Set(options.conceptIds.map((c) => c.toLowerCase())) : null;
  const { attempts } = answersToAttempts(await readHistory(store, user));
  const groups = new Map<string, BatchAttempt[]>();
  for (const a of attempts) {
    if (concepts && !concepts.has(a.conceptId)) continue;
    const k = `${a.userId}|${a.conceptId}`;
    const g = groups.get(k);
    if (g) g.push(a);
    else groups.set(k, [a]);
  }
  const driver = sqlDriverOf(store);
  const keys = [...groups.keys()].sort();
  const summary: RebuildSummary = { states_rebuilt: 0, attempts_replayed: 0, states_kept: [] };
  for (let i = 0; i < keys.length; i += 500) {
    const chunk = keys.slice(i, i + 500);
    const part = await store.withWriteTransaction(async (tx) => {
      const out: RebuildSummary = { states_rebuilt: 0, attempts_replayed: 0, states_kept: [] };
      const paramsByConcept = new Map<string, ResolvedParams>();
      for (const k of chunk) {
        const group = groups.get(k)!;
        const { userId, conceptId } = group[0];
        await tx.lockState(userId, conceptId);
        // Inside the transaction and after the lock: no attempt can be added meanwhile.
        const ledger = await driver.query<{ attempt_key: string }>('SELECT attempt_key FROM bkt_attempt_ledger WHERE user_id = ? AND concept_id = ?', [userId, conceptId]);
        const history = new Set(group.map((a) => a.attemptKey));
        const foreign = ledger.filter((r) => !history.has(r.attempt_key)).length;
        if (foreign > 0) {
          out.states_kept.push({ user_id: userId, concept_id: conceptId, attempts_without_history: foreign });
          continue;
        }
        let resolved = paramsByConcept.get(conceptId);
        if (!resolved) paramsByConcept.set(conceptId, (resolved = await tx.resolveParams(conceptId)));
        let p = clampProbability(resolved.params.p_L0);
        let last: BatchAttempt | null = null;
        const seen = new Set<string>();
        for (const a of group) {
          if (seen.has(a.attemptKey)) continue;
          seen.add(a.attemptKey);
          p = updateMastery(p, a.correct, resolved.params);
          last = a;
          await tx.recordAttempt(userId, conceptId, a.attemptKey, a.answeredAt === null ? null : new Date(a.answeredAt).toISOString());
        }
        await tx.upsertState({
          user_id: userId,
          concept_id: conceptId,
          p_mastery: p,
          n_attempts: seen.size,
          last_attempt_at: last?.answeredAt == null ? null : new Date(last.answeredAt).toISOString(),
          last_seen_question_id: last?.questionId ?? null,
          algo_version_id: resolved.algo_version_id,
        });
        out.states_rebuilt += 1;
        out.attempts_replayed += seen.size;
      }
      return out;
    });
    summary.states_rebuilt += part.states_rebuilt;
    summary.attempts_replayed += part.attempts_replayed;
    summary.states_kept.push(...part.states_kept);
  }
  return summary;
}
