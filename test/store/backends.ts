/**
 * The backends of the contract suite (kysely's DIALECTS loop): a SQLite temp file and a fresh
 * PostgreSQL database per call (CREATE DATABASE bkt_test_<random>, dropped afterwards). When no
 * PostgreSQL answers at 127.0.0.1:5432 its tests fail under CI=true and are skipped with a visible
 * notice otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPostgresDatabase } from '../support/postgres.js';
import type { SqlDriver, SqlValue } from '../../src/store/sql.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';

export { PG_ADMIN_URL, postgresAvailable } from '../support/postgres.js';

/** A fresh, empty database: its --db value and how to drop it. */
export interface EmptyDb {
  db: string;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new empty database (not migrated). */
  create(): Promise<EmptyDb>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'bkt-store-'));
    return { db: join(dir, 'bkt.sqlite'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

export const postgresBackend: Backend = {
  name: 'postgres',
  create: createPostgresDatabase,
};

export const BACKENDS = [sqliteBackend, postgresBackend];

/** Open (creating) and migrate. */
export async function migratedStore(db: string): Promise<Store> {
  const store = await openStore(db, { mode: 'migrate' });
  await store.migrate();
  return store;
}

export function driverOf(store: Store): SqlDriver {
  return sqlDriverOf(store);
}

/** Raw SQL with `?` placeholders; booleans are converted for the backend. */
export async function exec(store: Store, sql: string, params: (SqlValue | boolean)[] = []): Promise<number> {
  const d = driverOf(store);
  return d.run(sql, params.map((p) => (typeof p === 'boolean' ? d.dialect.bool(p) : p)));
}

/** Row counts of every table bkt reads or writes, to compare before and after a failure. */
export async function tableCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['users', 'test_sessions', 'session_questions', 'session_answers', 'bkt_skill_params', 'bkt_user_skill_state', 'mastery_snapshot', 'algo_runs', 'algo_params', 'algo_versions', 'bkt_attempt_ledger', 'bkt_labels']) {
    out[t] = await store.countRows(t);
  }
  return out;
}
