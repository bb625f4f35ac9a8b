/**
 * The exactly-once key of an attempt (docs/operations.md "Exactly once").
 *
 * - An explicit key wins: the session_answers id for a session, the `attempt_key` column of a
 *   batch file, `--attempt-key` of a single update.
 * - Else, when the attempt has a time: `h:` + SHA-256 (first 32 hex digits) of
 *   user|concept|question|answered_at (ISO ms)|correct. The same answer sent twice is one attempt.
 * - Else (no time: it is stamped when applied) a batch row uses the same hash with `#n`, its
 *   occurrence number among identical untimed rows of the file, in place of the time, so re-running
 *   the same file is a no-op; a single update gets a random key (each call is a new attempt).
 */
import { createHash, randomUUID } from 'node:crypto';

/** The fields an attempt's hashed key is computed from. */
export interface AttemptIdentity {
  userId: string;
  conceptId: string;
  questionId: string | null;
  correct: boolean;
  /** Epoch ms, or null when the attempt carries no time. */
  answeredAt: number | null;
}

/** The hashed exactly-once key of an attempt (`h:` + 32 hex digits); `untimedOccurrence` numbers identical untimed attempts of one batch. */
export function hashAttemptKey(a: AttemptIdentity, untimedOccurrence?: number): string {
  const when = a.answeredAt === null ? `#${untimedOccurrence ?? 0}` : new Date(a.answeredAt).toISOString();
  const text = `${a.userId}|${a.conceptId}|${a.questionId ?? ''}|${when}|${a.correct ? 1 : 0}`;
  return 'h:' + createHash('sha256').update(text).digest('hex').slice(0, 32);
}

export function randomAttemptKey(): string {
  return 'r:' + randomUUID();
}
