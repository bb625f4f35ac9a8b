/**
 * `bkt import`: an attempts table written into the app's tables (users, test_sessions,
 * session_questions, session_answers) as the app would hold it, in one transaction.
 */
import { createHash } from 'node:crypto';
import type { AttemptsTable } from '../data/attempts-table.js';
import { nameToUuid, toUuid, uuidV7Factory } from './ids.js';
import { labelsOfIds, writeLabels } from './labels.js';
import type { SqlContext, SqlValue } from './sql.js';
import type { ImportResult } from './store.js';

/**
 * Import layout (docs/store.md "Import"): each learner's attempts, in time order (file order
 * within a concept when the file has no time), fill one SUBMITTED session after another; a new
 * session starts when a question would repeat inside the current one (UNIQUE (session_id,
 * question_id)). Without a question column each attempt gets a fresh question id. Session ids
 * are v5 UUIDs of (content hash, learner, session number), so importing the same content again
 * finds its first session and writes nothing.
 */
export async function importAttempts(ctx: SqlContext, table: AttemptsTable): Promise<ImportResult> {
  const batch = contentHash(table);
  const learnerUuid = table.learnerIds.map(toUuid);
  const conceptUuid = table.conceptIds.map(toUuid);
  const questionUuid = table.questionIds.map(toUuid);
  const snapshotOfConcept = conceptUuid.map((c) => JSON.stringify({ concept_id: c }));

  // Each learner's rows, in time order (stable; rows without time after timed ones).
  const rowsOfLearner: number[][] = table.learnerIds.map(() => []);
  for (let r = 0; r < table.length; r++) rowsOfLearner[table.learner[r]].push(r);
  const time = table.time;
  if (time) {
    for (const rows of rowsOfLearner) {
      rows.sort((a, b) => {
        const ta = time[a];
        const tb = time[b];
        const na = Number.isNaN(ta);
        const nb = Number.isNaN(tb);
        if (na || nb) return na === nb ? a - b : na ? 1 : -1;
        return ta - tb || a - b;
      });
    }
  }

  // Same content, same first session id: found means imported before, and nothing is written.
  const firstLearner = rowsOfLearner.findIndex((rows) => rows.length > 0);
  if (firstLearner >= 0) {
    const firstId = nameToUuid(`session:${batch}:${learnerUuid[firstLearner]}:0`);
    if ((await ctx.driver.query('SELECT id FROM test_sessions WHERE id = ?', [firstId])).length > 0) {
      return { already_imported: true, batch_id: batch, users: 0, sessions: 0, answers: 0, labels: 0 };
    }
  }

  // Time-ordered: each row's id (and a generated question id) goes to the end of its index.
  const uuid = uuidV7Factory();
  const importedAt = Date.now();
  const nowIso = new Date(importedAt).toISOString();
  const sessions: SqlValue[][] = [];
  // Each session's rows: rowsOfLearner[learner][start, end).
  const sessionRows: { learner: number; start: number; end: number; id: string }[] = [];
  // A question id per attempt row (table order), so session_questions and session_answers agree.
  const questionOfRow: string[] = new Array(table.length);
  const yes = ctx.dialect.bool(true);
  const no = ctx.dialect.bool(false);
  let answerCount = 0;
  for (let l = 0; l < rowsOfLearner.length; l++) {
    const rows = rowsOfLearner[l];
    if (rows.length === 0) continue;
    let k = 0;
    let start = 0;
    while (start < rows.length) {
      // One session: rows[start, end) with no question twice.
      const seen = new Set<number>();
      let end = start;
      while (end < rows.length) {
        const q = table.question ? table.question[rows[end]] : -1;
        if (q >= 0) {
          if (seen.has(q)) break;
          seen.add(q);
        }
        end++;
      }
      const sessionId = nameToUuid(`session:${batch}:${learnerUuid[l]}:${k}`);
      let maxTime = Number.NaN;
      let minTime = Number.NaN;
      for (let i = start; i < end; i++) {
        const r = rows[i];
        const q = table.question ? table.question[r] : -1;
        questionOfRow[r] = q >= 0 ? questionUuid[q] : uuid();
        const t = time ? time[r] : Number.NaN;
        if (!Number.isNaN(t)) {
          if (!(t <= maxTime)) maxTime = t;
          if (!(t >= minTime)) minTime = t;
        }
      }
      // Without times, submitted_at = import time + session number (ms) keeps sessions in order.
      const submitted = new Date(Number.isNaN(maxTime) ? importedAt + k : maxTime).toISOString();
      const started = Number.isNaN(minTime) ? submitted : new Date(minTime).toISOString();
      sessions.push([sessionId, learnerUuid[l], 'SUBMITTED', submitted, started, nowIso]);
      sessionRows.push({ learner: l, start, end, id: sessionId });
      answerCount += end - start;
      start = end;
      k++;
    }
  }
  const firstSessionId = sessionRows.length ? sessionRows[0].id : null;
  // The question and answer rows are made as they are written, not held: 800 k row arrays
  // held at once cost more garbage collection than the writes.
  function* questions(): Iterable<SqlValue[]> {
    for (const { learner, start, end, id } of sessionRows) {
      const rows = rowsOfLearner[learner];
      for (let i = start; i < end; i++) {
        const r = rows[i];
        yield [uuid(), id, i - start + 1, questionOfRow[r], null, snapshotOfConcept[table.concept[r]], nowIso];
      }
    }
  }
  function* answers(): Iterable<SqlValue[]> {
    for (const { learner, start, end, id } of sessionRows) {
      const rows = rowsOfLearner[learner];
      for (let i = start; i < end; i++) {
        const r = rows[i];
        const t = time ? time[r] : Number.NaN;
        yield [uuid(), id, questionOfRow[r], null, table.correct[r] === 1 ? yes : no, Number.isNaN(t) ? null : new Date(t).toISOString(), 0, no, nowIso, null];
      }
    }
  }

  const result = await ctx.driver.transaction(async (tx): Promise<ImportResult> => {
    if (firstSessionId) {
      const existing = await tx.query('SELECT id FROM test_sessions WHERE id = ?', [firstSessionId]);
      if (existing.length > 0) {
        return { already_imported: true, batch_id: batch, users: 0, sessions: 0, answers: 0, labels: 0 };
      }
    }
    let users = 0;
    for (const id of new Set(learnerUuid)) {
      users += await tx.run('INSERT INTO users (id) VALUES (?) ON CONFLICT (id) DO NOTHING', [id]);
    }
    await tx.bulkInsert('test_sessions', ['id', 'user_id', 'status', 'submitted_at', 'started_at', 'created_at'], sessions);
    await tx.bulkInsert(
      'session_questions',
      ['id', 'session_id', 'position', 'question_id', 'question_version_id', 'snapshot_json', 'created_at'],
      questions(),
    );
    await tx.bulkInsert(
      'session_answers',
      ['id', 'session_id', 'question_id', 'selected_index', 'is_correct', 'answered_at', 'changed_count', 'marked_for_review', 'created_at', 'updated_at'],
      answers(),
    );
    const labels = await writeLabels(tx, [...labelsOfIds('concept', table.conceptIds), ...labelsOfIds('user', table.learnerIds)], nowIso);
    return { already_imported: false, batch_id: batch, users, sessions: sessions.length, answers: answerCount, labels };
  });
  const analyze = ctx.dialect.analyzeSql(['users', 'test_sessions', 'session_questions', 'session_answers']);
  if (analyze && !result.already_imported) await ctx.driver.run(analyze);
  return result;
}

/** SHA-256 (hex, first 32 digits) of an attempts table's content: ids, columns and order. */
function contentHash(table: AttemptsTable): string {
  const h = createHash('sha256');
  h.update(table.learnerIds.join('\n')).update('\0').update(table.conceptIds.join('\n')).update('\0').update(table.questionIds.join('\n'));
  const feed = (a: ArrayBufferView | null) => {
    h.update('\0');
    if (a) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  feed(table.learner);
  feed(table.concept);
  feed(table.correct);
  feed(table.time);
  feed(table.question);
  return h.digest('hex').slice(0, 32);
}
