/**
 * Set-based apply of one batch transaction, straight on the store's SQL driver: a fixed number of
 * statements per transaction whatever its size (users check, state placeholders, one locking
 * select, one ledger select, a COPY/prepared insert of the ledger rows (with each attempt's
 * correct and question_id, for --rebuild), a multi-row upsert of the
 * states), instead of several round trips per attempt through StoreTransaction. The rules are the
 * same pure core (apply-core.ts); the locks the same: PostgreSQL locks every state row the
 * transaction touches, in (user, concept) order, after inserting placeholders for new states so
 * a new state is locked too; SQLite's BEGIN IMMEDIATE already holds the database's write lock
 * (its dialect's `forUpdate` is empty, which is how placeholders are known to be unnecessary).
 */
import { timestampMs } from '../data/parse-values.js';
import { NotFoundError } from '../errors.js';
import type { Dialect, SqlExecutor, SqlValue } from '../store/sql.js';
import type { ResolvedParams } from '../store/store.js';
import { applyToState, type CoreState } from './apply-core.js';
import { questionParams } from './question-params.js';
import type { Rejection } from './batch-input.js';
import type { StateSlice } from './batch-plan.js';

const ROWS_PER_STATEMENT = 500;
const STATE_COLUMNS = 'user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id';

export interface SliceCounts {
  applied: number;
  duplicate: number;
  stale: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Apply `slices` (in lock order) inside the open transaction `ex`. Slices of users missing from
 * `users` are not applied: their rows are appended to `rejected`.
 */
export async function applySlicesSql(
  ex: SqlExecutor,
  dialect: Dialect,
  slices: readonly StateSlice[],
  paramsOf: (conceptId: string) => ResolvedParams,
  now: number,
  rejected: Rejection[],
  failFast = false,
): Promise<SliceCounts> {
  const counts: SliceCounts = { applied: 0, duplicate: 0, stale: 0 };
  const userIds = [...new Set(slices.map((s) => s.userId))];
  const usersIn = dialect.inList('id', userIds);
  const known = new Set((await ex.query<{ id: string }>(`SELECT id FROM users WHERE ${usersIn.sql}`, usersIn.params)).map((r) => String(r.id).toLowerCase()));
  const live = slices.filter((s) => {
    if (known.has(s.userId)) return true;
    if (failFast) {
      throw new NotFoundError(`line ${s.attempts[0].line}: user ${s.userId} does not exist in users`, 'Import the user first, or drop --fail-fast to skip its rows');
    }
    for (const a of s.attempts) rejected.push({ line: a.line, reason: `user ${s.userId} does not exist in users` });
    return false;
  });
  if (live.length === 0) return counts;
  const pairs = [...new Map(live.map((s) => [`${s.userId}|${s.conceptId}`, s])).values()];
  const nowIso = iso(now);

  // Placeholders, so that new states are locked by the select below (PostgreSQL only).
  const placeholders = new Set<string>();
  if (dialect.forUpdate !== '') {
    for (const part of chunks(pairs, ROWS_PER_STATEMENT)) {
      const rows = await ex.query<{ user_id: string; concept_id: string }>(
        `INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, created_at, updated_at) VALUES ${part.map(() => '(?, ?, 0, 0, ?, ?)').join(', ')}
         ON CONFLICT (user_id, concept_id) DO NOTHING RETURNING user_id, concept_id`,
        part.flatMap((s) => [s.userId, s.conceptId, nowIso, nowIso]),
      );
      for (const r of rows) placeholders.add(`${String(r.user_id).toLowerCase()}|${String(r.concept_id).toLowerCase()}`);
    }
  }

  // Lock and read every state of the batch, in (user, concept) order.
  const conceptIds = [...new Set(live.map((s) => s.conceptId))];
  const u = dialect.inList('user_id', [...new Set(live.map((s) => s.userId))]);
  const c = dialect.inList('concept_id', conceptIds);
  const stateRows = await ex.query(
    `SELECT ${STATE_COLUMNS} FROM bkt_user_skill_state WHERE ${u.sql} AND ${c.sql} ORDER BY user_id, concept_id${dialect.forUpdate}`,
    [...u.params, ...c.params],
  );
  const states = new Map<string, CoreState>();
  for (const r of stateRows) {
    const k = `${String(r.user_id).toLowerCase()}|${String(r.concept_id).toLowerCase()}`;
    if (Number(r.n_attempts) === 0) continue; // a placeholder (or an untouched row): a new state, starts at L0
    states.set(k, {
      pMastery: Number(r.p_mastery),
      nAttempts: Number(r.n_attempts),
      lastAttemptAt: r.last_attempt_at === null || r.last_attempt_at === undefined ? null : timestampMs(r.last_attempt_at),
      lastSeenQuestionId: r.last_seen_question_id === null ? null : String(r.last_seen_question_id).toLowerCase(),
    });
  }

  // Which attempt keys are already in the ledger (a superset query, filtered exactly here).
  const existing = new Set<string>();
  const allKeys = [...new Set(live.flatMap((s) => s.attempts.map((a) => a.attemptKey)))];
  for (const part of chunks(allKeys, 5000)) {
    const k = dialect.inList('attempt_key', part);
    const rows = await ex.query<{ user_id: string; concept_id: string; attempt_key: string }>(
      `SELECT user_id, concept_id, attempt_key FROM bkt_attempt_ledger WHERE ${u.sql} AND ${c.sql} AND ${k.sql}`,
      [...u.params, ...c.params, ...k.params],
    );
    for (const r of rows) existing.add(`${String(r.user_id).toLowerCase()}|${String(r.concept_id).toLowerCase()}|${r.attempt_key}`);
  }

  // The pure core per state; then one ledger insert and one upsert for the whole transaction.
  const ledger: SqlValue[][] = [];
  const upserts: SqlValue[][] = [];
  const emptied: string[] = [];
  for (const s of live) {
    const key = `${s.userId}|${s.conceptId}`;
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
        ledger.push([s.userId, s.conceptId, attemptKey, iso(at), nowIso, dialect.bool(a.correct), a.questionId]);
        return true;
      },
      questionParams(params),
    );
    for (const step of steps) counts[step.outcome] += 1;
    if (state && (before === null || state.nAttempts !== before.nAttempts)) {
      states.set(key, state);
      upserts.push([s.userId, s.conceptId, state.pMastery, state.nAttempts, state.lastAttemptAt === null ? null : iso(state.lastAttemptAt), state.lastSeenQuestionId, params.algo_version_id, nowIso, nowIso]);
    } else if (!state && placeholders.has(key)) {
      emptied.push(key);
    }
  }
  if (ledger.length > 0) await ex.bulkInsert('bkt_attempt_ledger', ['user_id', 'concept_id', 'attempt_key', 'answered_at', 'applied_at', 'correct', 'question_id'], ledger);
  // A state split over two slices of one transaction is upserted twice; keep the last values.
  const lastUpsert = [...new Map(upserts.map((r) => [`${r[0]}|${r[1]}`, r])).values()];
  for (const part of chunks(lastUpsert, ROWS_PER_STATEMENT)) {
    await ex.run(
      `INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id, algo_version_id, created_at, updated_at)
       VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (user_id, concept_id) DO UPDATE SET p_mastery = excluded.p_mastery, n_attempts = excluded.n_attempts,
         last_attempt_at = excluded.last_attempt_at, last_seen_question_id = excluded.last_seen_question_id,
         algo_version_id = excluded.algo_version_id, updated_at = excluded.updated_at`,
      part.flat(),
    );
  }
  for (const key of emptied) {
    const [userId, conceptId] = key.split('|');
    if (!states.has(key)) await ex.run('DELETE FROM bkt_user_skill_state WHERE user_id = ? AND concept_id = ? AND n_attempts = 0', [userId, conceptId]);
  }
  return counts;
}
