/**
 * Reads answered questions from the app's tables (test_sessions, session_questions,
 * session_answers) with their session_answers ids, which are the attempts' exactly-once keys:
 * one session for `update --session` (`readHistory`: every SUBMITTED/EXPIRED session, for callers
 * that want the whole history; `update --rebuild` replays the ledger instead).
 * The Store interface has no such read, so this uses the SQL driver the SQL store holds.
 */
import { StorageError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Dialect, SqlDriver, SqlValue } from '../store/sql.js';
import { toEpochMs } from '../store/sql-store.js';

export interface SessionAnswer {
  answerId: string;
  sessionId: string;
  userId: string;
  status: string;
  questionId: string;
  position: number | null;
  /** null = unanswered (not an attempt). */
  correct: boolean | null;
  /** Epoch ms: answered_at, else the session's submitted_at, else null. */
  time: number | null;
  /** Concepts from snapshot_json.concept_id and .concept_ids (lower-cased, distinct). */
  concepts: string[];
}

/** The SQL driver behind a store (both backends are SqlStore). */
export function sqlDriverOf(store: Store): SqlDriver {
  const driver = (store as unknown as { driver?: SqlDriver }).driver;
  if (!driver || typeof driver.query !== 'function') {
    throw new StorageError(`store ${store.display} exposes no SQL driver`, 'Session and rebuild updates need the SQLite or PostgreSQL store');
  }
  return driver;
}

function selectSql(d: Dialect & { epochMs?: (expr: string) => string }, where: string): string {
  const ms = (expr: string) => (d.epochMs ? d.epochMs(expr) : expr);
  return `SELECT sa.id, sa.session_id, ts.user_id, ts.status, sa.question_id, sq.position, sa.is_correct,
      ${ms('sa.answered_at')} AS answered_ms, ${ms('ts.submitted_at')} AS submitted_ms,
      ${d.jsonText('sq.snapshot_json', 'concept_id')} AS concept_single, ${d.jsonMember('sq.snapshot_json', 'concept_ids')} AS concept_multi
    FROM session_answers sa
    JOIN test_sessions ts ON ts.id = sa.session_id
    LEFT JOIN session_questions sq ON sq.session_id = sa.session_id AND sq.question_id = sa.question_id
    WHERE ${where}`;
}

function toAnswer(r: unknown[]): SessionAnswer {
  const [id, sessionId, userId, status, questionId, position, isCorrect, answeredMs, submittedMs, single, multi] = r;
  const concepts = new Set<string>();
  if (typeof single === 'string' && single.length > 0) concepts.add(single.toLowerCase());
  if (multi !== null && multi !== undefined) {
    const list = typeof multi === 'string' ? JSON.parse(multi) : multi;
    if (Array.isArray(list)) for (const c of list) if (typeof c === 'string' && c.length > 0) concepts.add(c.toLowerCase());
  }
  const answered = toEpochMs(answeredMs);
  const submitted = toEpochMs(submittedMs);
  return {
    answerId: String(id).toLowerCase(),
    sessionId: String(sessionId).toLowerCase(),
    userId: String(userId).toLowerCase(),
    status: String(status),
    questionId: String(questionId).toLowerCase(),
    position: position === null || position === undefined ? null : Number(position),
    correct: isCorrect === null || isCorrect === undefined ? null : isCorrect === true || isCorrect === 1 || isCorrect === '1' || isCorrect === 't',
    time: Number.isFinite(answered) ? answered : Number.isFinite(submitted) ? submitted : null,
    concepts: [...concepts],
  };
}

/** Order of schema.md: answered_at (then submitted_at), then position. */
function byTime(a: SessionAnswer, b: SessionAnswer): number {
  return (a.time ?? Infinity) - (b.time ?? Infinity) || (a.position ?? Infinity) - (b.position ?? Infinity) || (a.answerId < b.answerId ? -1 : 1);
}

/** The session's status and owner plus all its answers in order; null when the session does not exist. */
export async function readSession(store: Store, sessionId: string): Promise<{ userId: string; status: string; answers: SessionAnswer[] } | null> {
  const driver = sqlDriverOf(store);
  const session = await driver.query<{ user_id: string; status: string }>('SELECT user_id, status FROM test_sessions WHERE id = ?', [sessionId]);
  if (session.length === 0) return null;
  const rows = await driver.queryArrays(selectSql(driver.dialect, 'sa.session_id = ?'), [sessionId]);
  return { userId: String(session[0].user_id).toLowerCase(), status: String(session[0].status), answers: rows.map(toAnswer).sort(byTime) };
}

/** Every answer of SUBMITTED or EXPIRED sessions, optionally of one user, in time order. */
export async function readHistory(store: Store, userId?: string): Promise<SessionAnswer[]> {
  const driver = sqlDriverOf(store);
  const params: SqlValue[] = [];
  let where = "ts.status IN ('SUBMITTED', 'EXPIRED')";
  if (userId) {
    where += ' AND ts.user_id = ?';
    params.push(userId);
  }
  const out: SessionAnswer[] = [];
  for await (const r of driver.iterateArrays(selectSql(driver.dialect, where), params)) out.push(toAnswer(r));
  return out.sort(byTime);
}
