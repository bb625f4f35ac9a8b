/**
 * The backends of the contract suite (kysely's DIALECTS loop): a SQLite temp file and a fresh
 * PostgreSQL database per call (CREATE DATABASE bkt_test_<random>, dropped afterwards). When no
 * PostgreSQL answers at 127.0.0.1:5432 its tests fail under CI=true and are skipped with a visible
 * notice otherwise.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { SqlDriver, SqlValue } from '../../src/store/sql.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { openStore, type Store } from '../../src/store/store.js';

export const PG_ADMIN_URL = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAnswer: Promise<boolean> | null = null;

/** True when PostgreSQL answers; under CI=true a silent server is an error, not a skip. */
export function postgresAvailable(): Promise<boolean> {
  pgAnswer ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      if (process.env.CI === 'true') throw new Error(`CI: PostgreSQL does not answer at ${PG_ADMIN_URL}; the store contract must run on it`);
      console.warn(`NOTICE: PostgreSQL does not answer at ${PG_ADMIN_URL}; PostgreSQL store tests are SKIPPED`);
      return false;
    }
  })();
  return pgAnswer;
}

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
  async create() {
    const name = `bkt_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    return {
      db: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
      drop: async () => {
        const c = new pg.Client({ connectionString: PG_ADMIN_URL });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  },
};

export const BACKENDS = [sqliteBackend, postgresBackend];

/** Open (creating) and migrate. */
export async function migratedStore(db: string): Promise<Store> {
  const store = await openStore(db, { mode: 'migrate' });
  await store.migrate();
  return store;
}

export function driverOf(store: Store): SqlDriver {
  return (store as SqlStore).driver;
}

/** Raw SQL with `?` placeholders; booleans are converted for the backend. */
export async function exec(store: Store, sql: string, params: (SqlValue | boolean)[] = []): Promise<number> {
  const d = driverOf(store);
  return d.run(sql, params.map((p) => (typeof p === 'boolean' ? d.dialect.bool(p) : p)));
}

/** Row counts of every table bkt reads or writes, to compare before and after a failure. */
export async function tableCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['users', 'test_sessions', 'session_questions', 'session_answers', 'bkt_skill_params', 'bkt_user_skill_state', 'mastery_snapshot', 'algo_runs', 'algo_params', 'algo_versions', 'bkt_attempt_ledger']) {
    out[t] = await store.countRows(t);
  }
  return out;
}
