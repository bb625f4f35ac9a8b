/**
 * The Store factory: `openStore(db)` picks the backend from `--db` (or env DATABASE_URL): a
 * `postgres://` or `postgresql://` URL opens PostgreSQL (`pg`, user `postgres` when the URL names
 * none); anything else is a SQLite file path (better-sqlite3), default `./bkt.sqlite`.
 *
 * Kept apart from the interface (store.ts) because it imports the backends, which implement that
 * interface: one file holding both made every backend import its own importer.
 */
import { redactConnectionString } from '../errors.js';
import type { DbTarget, OpenStoreOptions, Store } from './store.js';

/** Where the store is when neither `--db` nor DATABASE_URL names one. */
export const DEFAULT_DB_PATH = './bkt.sqlite';

/**
 * Parse `--db` (or DATABASE_URL when `db` is undefined or empty) into a backend and location.
 * Throws nothing: any non-URL string is a SQLite path.
 */
export function resolveDbTarget(db?: string | null, env: NodeJS.ProcessEnv = process.env): DbTarget {
  const raw = db && db.length > 0 ? db : env.DATABASE_URL && env.DATABASE_URL.length > 0 ? env.DATABASE_URL : DEFAULT_DB_PATH;
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    return { backend: 'postgres', location: raw, display: redactConnectionString(raw) };
  }
  const path = raw.startsWith('sqlite:') ? raw.replace(/^sqlite:(\/\/)?/, '') : raw;
  return { backend: 'sqlite', location: path, display: path };
}

/**
 * Open the store `--db` names (see resolveDbTarget). The driver is imported lazily, so commands
 * that never touch a database do not pay for it. Throws StorageError (exit 5) when the database
 * cannot be reached, or (mode `use`) when the SQLite file is missing or bkt's tables are absent.
 */
export async function openStore(db?: string | null, options: OpenStoreOptions = {}): Promise<Store> {
  const target = resolveDbTarget(db);
  if (target.backend === 'postgres') {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(target, options);
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore(target, options);
}
