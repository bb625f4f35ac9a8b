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
 *   Such a position says nothing about a row of ANOTHER file, so `bkt update --input` refuses
 *   untimed rows without a key unless `--untimed` names the rule (keyUntimedAttempts):
 *   `growing-log` keeps the position key (a later file is the earlier one grown), `new-batch`
 *   adds a digest of the whole batch (a different file is new answers; the same file a no-op).
 */
import { createHash, randomUUID } from 'node:crypto';
import { UsageError } from '../errors.js';

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

/** How untimed batch rows without an attempt key are identified (`bkt update --untimed`). */
export const UNTIMED_RULES = ['growing-log', 'new-batch'] as const;
export type UntimedRule = (typeof UNTIMED_RULES)[number];

/** A batch attempt as keyUntimedAttempts sees it: `positional` marks a key made from the row's position. */
export interface KeyedAttempt {
  line: number;
  attemptKey: string;
  positional?: boolean;
}

/** What keyUntimedAttempts did, for the command's summary. */
export interface UntimedSummary {
  /** Rows without a time and without an attempt key. */
  rows: number;
  /** The rule that keyed them; null when there were none. */
  rule: UntimedRule | null;
}

/**
 * Apply `rule` to the rows of a batch that have neither a time nor an explicit key (the readers
 * key them by position, as a growing log). `new-batch` re-keys each with a SHA-256 digest of every
 * key of the batch in order, so the very same batch maps to the same keys (a re-run is a no-op)
 * and any other batch to new ones. Without a rule, such rows are refused.
 * @throws UsageError when there are such rows and `rule` is undefined.
 */
export function keyUntimedAttempts(attempts: KeyedAttempt[], rule: UntimedRule | undefined, source: string): UntimedSummary {
  const untimed = attempts.filter((a) => a.positional === true);
  if (untimed.length === 0) return { rows: 0, rule: null };
  if (rule === undefined) {
    throw new UsageError(
      `${source}: ${untimed.length} row${untimed.length === 1 ? '' : 's'} (first at line ${untimed[0].line}) ${untimed.length === 1 ? 'has' : 'have'} no time and no attempt key, so nothing tells a new answer from one applied before`,
      'Name the rule with `untimed` growing-log (this file extends one applied before: its first rows are those) or `untimed` new-batch (every row of a file not applied before is a new answer), or add an answered_at or attempt_key column',
    );
  }
  if (rule === 'new-batch') {
    const digest = createHash('sha256');
    for (const a of attempts) digest.update(a.attemptKey).update('\n');
    const batch = digest.digest('hex');
    for (const a of untimed) a.attemptKey = 'h:' + createHash('sha256').update(`${a.attemptKey}|batch:${batch}`).digest('hex').slice(0, 32);
  }
  return { rows: untimed.length, rule };
}
