/**
 * Reading attempts out of the app's tables: `readAttempts` (the whole table, for fitting) and
 * `readSession` (one session, for `bkt update --session`). The backend-specific tuning is asked
 * of the driver through BulkReadOptions and of the dialect by name; the machinery lives in each
 * backend's folder (sqlite/chunked-read.ts, postgres/copy-out.ts and copy-binary.ts).
 */
import { AttemptsTableBuilder } from '../data/attempts-table-builder.js';
import { toUuid } from './ids.js';
import { mergeAsyncIterables } from './merge-async.js';
import { decodeBool, toIsoTimestamp } from './row-codec.js';
import { endOfDayBound, timestampMs } from '../data/parse-values.js';
import type { SnapshotConcepts } from './snapshot-concepts.js';
import type { BulkColumnType, Dialect, SqlContext, SqlValue } from './sql.js';
import type { ReadAttemptsFilter, ReadAttemptsResult, SessionAnswer, SessionRead } from './store.js';

/**
 * Memory PostgreSQL may give the answers-to-questions hash join of one attempts read (work_mem,
 * for that read only): enough to keep 400 k answers in one batch (30 MB), where the server
 * default of 4 MB spills them to disk in 8 batches and the read takes 10% longer.
 */
const ATTEMPTS_JOIN_MEMORY = '64MB';

/** Positions at or above this (none in practice: positions count a session's questions) sort last in their session. */
const POSITION_LIMIT = 2 ** 21;

/**
 * One order key for (session rank, position): exact in a float64 for up to 2^32 sessions.
 * A missing position (no session_questions row) sorts last in its session, as NULLS LAST did.
 */
function orderKey(sessionRank: number, position: unknown): number {
  const p = position === null || position === undefined ? POSITION_LIMIT - 1 : Number(position);
  return sessionRank * POSITION_LIMIT + (p >= 0 && p < POSITION_LIMIT ? p : POSITION_LIMIT - 1);
}

/** schema.md "Attempts from the app's tables", as the same AttemptsTable the file readers produce (docs/store.md "Reading attempts"). */
export async function readAttempts(ctx: SqlContext, filter: ReadAttemptsFilter = {}): Promise<ReadAttemptsResult> {
  const d = ctx.dialect;
  const conceptText = d.jsonText('sq.snapshot_json', 'concept_id');
  const conceptArray = d.jsonMember('sq.snapshot_json', 'concept_ids');
  const params: SqlValue[] = [];
  // The session filter (SUBMITTED or EXPIRED) is applied through the sessions read below.
  const where: string[] = [];
  if (filter.fromDate) {
    where.push('sa.answered_at >= ?');
    params.push(toIsoTimestamp(filter.fromDate, '`fromDate`'));
  }
  if (filter.toDate) {
    // As the file readers do: a date without a time includes that whole day.
    const nextMidnight = endOfDayBound(filter.toDate);
    if (nextMidnight !== null) {
      where.push('sa.answered_at < ?');
      params.push(new Date(nextMidnight).toISOString());
    } else {
      where.push('sa.answered_at <= ?');
      params.push(toIsoTimestamp(filter.toDate, '`toDate`'));
    }
  }
  const wanted = filter.conceptIds?.length ? new Set(filter.conceptIds.map(toUuid)) : null;
  if (wanted) {
    // Rows naming a wanted concept, plus rows naming none (they are counted as skipped).
    const values = [...wanted];
    // A prefilter, in lower case as UUIDs are compared (an upper-case UUID is the same concept);
    // the rows are decided in JS.
    const single = d.inList(`lower(${conceptText})`, values);
    const multi = d.jsonArrayContainsAny('sq.snapshot_json', 'concept_ids', values);
    where.push(`(${single.sql} OR ${multi.sql} OR (${conceptText} IS NULL AND ${conceptArray} IS NULL))`);
    params.push(...single.params, ...multi.params);
  }
  const fallback = filter.questionsFallback === true;
  const withQuestions = filter.includeQuestions === true;
  const builder = new AttemptsTableBuilder();

  // Sessions first (a few per learner): their order gives each learner's dictionary index
  // (user ids in code-unit order, whatever order the answers arrive in) and each session's rank
  // among its learner's sessions by submitted_at. The answers then need no ORDER BY, which was
  // most of the read (a sort of every answer row): the builder orders each sequence by
  // answered_at, ties by (session rank, position), packed into one order key.
  // Whether the join can be a merge join is asked at the same time.
  const [sessions, mergeJoin] = await Promise.all([
    ctx.driver.queryArrays(`SELECT id, user_id FROM test_sessions WHERE status IN ('SUBMITTED', 'EXPIRED') ORDER BY user_id, submitted_at NULLS LAST, id`),
    fallback ? false : sessionJoinIndexed(ctx),
  ]);
  const sessionRank = new Map<unknown, number>();
  const sessionLearner = new Uint32Array(sessions.length);
  for (let r = 0; r < sessions.length; r++) {
    sessionRank.set(sessions[r][0], r);
    sessionLearner[r] = builder.learnerIndex(String(sessions[r][1]));
  }

  const snapshot = d.snapshotConcepts('sq.snapshot_json');
  // NULL instead of a 36-character id per answer when nobody asked for question ids.
  const selected: [string, BulkColumnType][] = [
    ['sa.session_id', 'uuid'],
    ['sa.is_correct', 'bool'],
    [d.epochMs('sa.answered_at'), 'float8'],
    ['sq.position', 'int4'],
    [withQuestions ? 'sa.question_id' : 'NULL', 'uuid'],
    ...snapshot.columns.map((c): [string, BulkColumnType] => [c, 'key']),
    ...(fallback ? [['q.concept_id', 'int4'] as [string, BulkColumnType]] : []),
  ];
  const columns = selected.map(([expr, type], i) => `${d.typed(expr, type)} AS c${i}`);
  if (d.rowidChunks) columns.push('sa.rowid AS bkt_rowid');
  // PostgreSQL: answers in partitions by session id, each read on its own connection, so the
  // join runs on several server processes at once (this process only decodes).
  const pivots = await sessionPivots(ctx, d.readPartitions);
  const bounds = [null, ...pivots, null];
  const reads = pivots.length + 1;
  const partitionSql = (p: number) => {
    const lo = bounds[p];
    const hi = bounds[p + 1];
    const on = [...(lo ? ['sq.session_id >= ?'] : []), ...(hi ? ['sq.session_id < ?'] : [])];
    const range = [...(lo ? ['sa.session_id >= ?'] : []), ...(hi ? ['sa.session_id < ?'] : [])];
    const conditions = [...where, ...range];
    const sql = `SELECT ${columns.join(', ')}
    FROM session_answers sa
    LEFT JOIN session_questions sq ON sq.session_id = sa.session_id AND sq.question_id = sa.question_id${on.map((c) => ` AND ${c}`).join('')}
    ${fallback ? 'LEFT JOIN questions q ON q.id = sa.question_id' : ''}
    ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}`;
    const bound = [lo, hi].filter((b): b is string => b !== null);
    return { sql, params: [...bound, ...params, ...bound] };
  };
  const fallbackAt = 5 + snapshot.columns.length;

  let lastSession: unknown = undefined;
  let rank = -1;
  let unanswered = 0;
  let noConcept = 0;
  let rowsRead = 0;
  const concepts = new Set<string>();
  // Snapshot cache key -> indexes of its wanted concepts (null: it names none).
  const conceptCache = new Map<string, number[] | null>();
  const consume = (row: unknown[]) => {
    // Rows arrive grouped by session (table order): look each session up once per run of rows.
    if (row[0] !== lastSession) {
      lastSession = row[0];
      rank = sessionRank.get(lastSession) ?? -1;
    }
    if (rank < 0) return; // an ACTIVE session's answer, or one of a session that is gone
    rowsRead++;
    const isCorrect = row[1];
    if (isCorrect === null || isCorrect === undefined) {
      unanswered++;
      return;
    }
    const correct = decodeBool(isCorrect) ? 1 : 0;
    const t = timestampMs(row[2]);
    const order = orderKey(rank, row[3]);
    const learner = sessionLearner[rank];
    const question = withQuestions && row[4] !== null ? builder.questionIndex(String(row[4])) : -1;
    const key = snapshot.cacheKey(row, 5);
    let targets = key === null ? undefined : conceptCache.get(key);
    if (targets === undefined) {
      concepts.clear();
      snapshot.all(row, 5, concepts);
      const named = concepts.size > 0;
      const fallbackConcept = row[fallbackAt];
      if (!named && fallback && fallbackConcept !== null && fallbackConcept !== undefined) concepts.add(toUuid(String(fallbackConcept)));
      targets = concepts.size === 0 ? null : [...concepts].filter((c) => !wanted || wanted.has(c)).map((c) => builder.conceptIndex(c));
      // Without a concept of its own the row's concept may come from its question: not cacheable.
      if (key !== null && (named || !fallback)) conceptCache.set(key, targets);
    }
    if (targets === null) {
      noConcept++;
      return;
    }
    for (let i = 0; i < targets.length; i++) builder.addIndexed(learner, targets[i], correct, t, order, question);
  };
  const options = {
    joinMemory: ATTEMPTS_JOIN_MEMORY,
    mergeJoin,
    binaryTypes: selected.map(([, type]) => type),
    rowidChunks: d.rowidChunks ? { table: 'session_answers', column: 'bkt_rowid' } : undefined,
  };
  const partitions = Array.from({ length: reads }, (_, p) => partitionSql(p)).map(({ sql, params: bound }) => ctx.driver.streamRows(sql, bound, options, consume));
  for await (const _ of mergeAsyncIterables(partitions));
  return { table: builder.build({ conceptOrder: 'sorted' }), skipped: { unanswered, no_concept: noConcept }, rows_read: rowsRead };
}

/**
 * Whether session_answers and session_questions both have a btree index leading with
 * (session_id, question_id), as schema.md's unique constraints make: the attempts read then
 * merge-joins them in key order (BulkReadOptions.mergeJoin). PostgreSQL's hash join sent no
 * row until it had hashed a part's answers (90 ms of 280 here), and each part scanned both
 * whole tables; the merge join sends from the first row and reads only its part's range.
 */
export async function sessionJoinIndexed(ctx: SqlContext): Promise<boolean> {
  const sql = ctx.dialect.leadingIndexSql;
  if (sql === null) return false;
  const counts = await Promise.all(
    ['session_answers', 'session_questions'].map((table) => ctx.driver.queryArrays(sql, [table, 'session_id', 'question_id'])),
  );
  return counts.every(([[count]]) => Number(count) > 0);
}

/**
 * Up to `partitions` - 1 session ids splitting test_sessions into parts of equal session
 * counts (ascending; none for one partition or too few sessions).
 */
async function sessionPivots(ctx: SqlContext, partitions: number): Promise<string[]> {
  if (partitions <= 1) return [];
  const [[count]] = await ctx.driver.queryArrays('SELECT count(*) FROM test_sessions');
  const n = Number(count);
  if (n < partitions * 16) return [];
  const pivots: string[] = [];
  for (let p = 1; p < partitions; p++) {
    const rows = await ctx.driver.queryArrays('SELECT id FROM test_sessions ORDER BY id LIMIT 1 OFFSET ?', [Math.floor((n * p) / partitions)]);
    if (rows.length) pivots.push(String(rows[0][0]));
  }
  return [...new Set(pivots)];
}

function sessionSelectSql(d: Dialect, snapshot: SnapshotConcepts): string {
  return `SELECT sa.id, sa.session_id, ts.user_id, ts.status, sa.question_id, sq.position, sa.is_correct,
      ${d.epochMs('sa.answered_at')} AS answered_ms, ${d.epochMs('ts.submitted_at')} AS submitted_ms, ${snapshot.columns.join(', ')}
    FROM session_answers sa
    JOIN test_sessions ts ON ts.id = sa.session_id
    LEFT JOIN session_questions sq ON sq.session_id = sa.session_id AND sq.question_id = sa.question_id
    WHERE sa.session_id = ?`;
}

/** A row of sessionSelectSql; the snapshot's concepts are read as readAttempts reads them. */
function toSessionAnswer(r: unknown[], snapshot: SnapshotConcepts): SessionAnswer {
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
    correct: isCorrect === null || isCorrect === undefined ? null : decodeBool(isCorrect),
    time: Number.isFinite(answered) ? answered : Number.isFinite(submitted) ? submitted : null,
    concepts: [...concepts],
  };
}

/** Order of schema.md: answered_at (then submitted_at), then position. */
function byTime(a: SessionAnswer, b: SessionAnswer): number {
  return (a.time ?? Infinity) - (b.time ?? Infinity) || (a.position ?? Infinity) - (b.position ?? Infinity) || (a.answerId < b.answerId ? -1 : 1);
}

/** One session's owner, status and every answer in order; null when the session does not exist. `sessionId` is a lower-case UUID. */
export async function readSession(ctx: SqlContext, sessionId: string): Promise<SessionRead | null> {
  const session = await ctx.driver.query<{ user_id: string; status: string }>('SELECT user_id, status FROM test_sessions WHERE id = ?', [sessionId]);
  if (session.length === 0) return null;
  const snapshot = ctx.dialect.snapshotConcepts('sq.snapshot_json');
  const rows = await ctx.driver.queryArrays(sessionSelectSql(ctx.dialect, snapshot), [sessionId]);
  return { userId: String(session[0].user_id).toLowerCase(), status: String(session[0].status), answers: rows.map((r) => toSessionAnswer(r, snapshot)).sort(byTime) };
}
