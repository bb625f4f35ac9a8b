/**
 * Reads one session's answered questions from the app's tables (test_sessions, session_questions,
 * session_answers) with their session_answers ids, which are the attempts' exactly-once keys
 * (`update --session`; `update --rebuild` replays the ledger instead). The Store interface has no
 * such read, so this uses the SQL driver the SQL store holds.
 */
import { StorageError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { SnapshotConcepts } from '../store/snapshot-concepts.js';
import type { Dialect, SqlDriver } from '../store/sql.js';
import { timestampMs } from '../data/parse-values.js';

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
  /** Concepts from snapshot_json.concept_id and .concept_ids (distinct; UUIDs lower-cased), as readAttempts reads them. */
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

function selectSql(d: Dialect, snapshot: SnapshotConcepts, where: string): string {
  return `SELECT sa.id, sa.session_id, ts.user_id, ts.status, sa.question_id, sq.position, sa.is_correct,
      ${d.epochMs('sa.answered_at')} AS answered_ms, ${d.epochMs('ts.submitted_at')} AS submitted_ms, ${snapshot.columns.join(', ')}
    FROM session_answers sa
    JOIN test_sessions ts ON ts.id = sa.session_id
    LEFT JOIN session_questions sq ON sq.session_id = sa.session_id AND sq.question_id = sa.question_id
    WHERE ${where}`;
}

/** A row of selectSql; the snapshot's concepts are read as readAttempts reads them. */
function toAnswer(r: unknown[], snapshot: SnapshotConcepts): SessionAnswer {
  const [id, sessionId, userId, status, questionId, position, isCorrect, answeredMs, submittedMs] = r;
  const concepts = new Set<string>();
  snapshot.all(r, 9, concepts);
  const answered = timestampMs(answeredMs);
  const submitted = timestampMs(submittedMs);
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
  const snapshot = driver.dialect.snapshotConcepts('sq.snapshot_json');
  const rows = await driver.queryArrays(selectSql(driver.dialect, snapshot, 'sa.session_id = ?'), [sessionId]);
  return { userId: String(session[0].user_id).toLowerCase(), status: String(session[0].status), answers: rows.map((r) => toAnswer(r, snapshot)).sort(byTime) };
}
