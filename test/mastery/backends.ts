/**
 * Both backends for the mastery tests: a migrated SQLite temp file, and a fresh PostgreSQL
 * database per run (CREATE DATABASE bkt_test_<random> from a migrated template, dropped
 * afterwards). PostgreSQL tests run when a server answers at 127.0.0.1:5432; without one they
 * fail under CI=true and are skipped with a visible notice otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cloneDatabase } from '../support/templates.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';

export { PG_ADMIN_URL, postgresAvailable } from '../support/postgres.js';

export interface TestDb {
  name: 'sqlite' | 'postgres';
  /** The --db value. */
  db: string;
  drop(): Promise<void>;
}

export async function createSqliteDb(): Promise<TestDb> {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-mastery-'));
  const db = join(dir, 'bkt.sqlite');
  const store = await openStore(db, { mode: 'migrate' });
  await store.migrate();
  await store.close();
  return { name: 'sqlite', db, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A migrated PostgreSQL database: a copy of the run's migrated template (support/templates.ts). */
export async function createPostgresDb(): Promise<TestDb> {
  const { db, drop } = await cloneDatabase('postgres', 'migrated', async (template) => {
    const store = await openStore(template, { mode: 'migrate' });
    await store.migrate();
    await store.close();
  });
  return { name: 'postgres', db, drop };
}

/** Insert users (the state's FK target) with the store's own driver. */
export async function addUsers(store: Store, ...ids: string[]): Promise<void> {
  const driver = sqlDriverOf(store);
  for (const id of ids) await driver.run("INSERT INTO users (id, role) VALUES (?, 'STUDENT')", [id]);
}

export interface SessionSpec {
  id: string;
  userId: string;
  status?: 'ACTIVE' | 'SUBMITTED' | 'EXPIRED';
  submittedAt?: string;
  questions: { answerId: string; questionId: string; position: number; snapshot: unknown; correct: boolean | null; answeredAt: string | null }[];
}

/** Insert a session with its questions and answers (the app's tables). */
export async function addSession(store: Store, s: SessionSpec): Promise<void> {
  const driver = sqlDriverOf(store);
  const status = s.status ?? 'SUBMITTED';
  const submitted = status === 'SUBMITTED' ? (s.submittedAt ?? '2026-01-21T13:00:00.000Z') : (s.submittedAt ?? null);
  await driver.run('INSERT INTO test_sessions (id, user_id, status, submitted_at) VALUES (?, ?, ?, ?)', [s.id, s.userId, status, submitted]);
  for (const q of s.questions) {
    await driver.run('INSERT INTO session_questions (id, session_id, position, question_id, snapshot_json) VALUES (?, ?, ?, ?, ?)', [
      randomUuid(),
      s.id,
      q.position,
      q.questionId,
      q.snapshot === null ? null : JSON.stringify(q.snapshot),
    ]);
    await driver.run('INSERT INTO session_answers (id, session_id, question_id, is_correct, answered_at) VALUES (?, ?, ?, ?, ?)', [
      q.answerId,
      s.id,
      q.questionId,
      q.correct === null ? null : driver.dialect.bool(q.correct),
      q.answeredAt,
    ]);
  }
}

export function randomUuid(): string {
  return crypto.randomUUID();
}
