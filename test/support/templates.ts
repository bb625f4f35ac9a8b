/**
 * Databases prepared once per test run and cloned for each test that needs one: a clone is a file
 * copy on SQLite and `CREATE DATABASE ... TEMPLATE` on PostgreSQL, where a migration costs about a
 * second and the CLI-made sample database two bkt processes and an import. The first test file
 * that asks builds a template while the others wait on its lock (a directory); test/global-setup.ts
 * makes the run's folder and drops the templates after the run.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { PG_ADMIN_URL, createPostgresDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's template folder and the prefix of its PostgreSQL template names. */
    bktTemplates: { dir: string; pgPrefix: string };
  }
}

/** A database cloned from a template: its --db value and how to drop it. */
export interface ClonedDb {
  db: string;
  drop(): Promise<void>;
}

const WAIT_MS = 300_000;

/**
 * A fresh copy of the run's `kind` template on `backend`, built on first use by `build` (given an
 * empty database's --db value). Every caller of one `kind` must build the same contents.
 */
export async function cloneDatabase(backend: 'sqlite' | 'postgres', kind: string, build: (db: string) => Promise<void>): Promise<ClonedDb> {
  const { dir, pgPrefix } = inject('bktTemplates');
  const key = `${backend}-${kind}`;
  const template = backend === 'sqlite' ? join(dir, `${key}.sqlite`) : `${pgPrefix}${kind.replace(/\W/g, '_')}`;
  await buildOnce(dir, key, async () => {
    if (backend === 'sqlite') return build(template);
    await adminQuery(`CREATE DATABASE ${template}`);
    await build(pgUrl(template));
  });
  return backend === 'sqlite' ? cloneSqlite(template) : clonePostgres(template);
}

/** Run `build` in exactly one process of the run; the others wait until it has finished. */
async function buildOnce(dir: string, key: string, build: () => Promise<void>): Promise<void> {
  const ready = join(dir, `${key}.ready`);
  const failed = join(dir, `${key}.failed`);
  let mine = false;
  try {
    mkdirSync(join(dir, `${key}.lock`));
    mine = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  if (mine) {
    try {
      await build();
      writeFileSync(ready, '');
    } catch (error) {
      writeFileSync(failed, String((error as Error)?.stack ?? error));
      throw error;
    }
    return;
  }
  const deadline = Date.now() + WAIT_MS;
  while (!existsSync(ready)) {
    if (existsSync(failed)) throw new Error(`building the ${key} test template failed in another test file:\n${readFileSync(failed, 'utf8')}`);
    if (Date.now() > deadline) throw new Error(`the ${key} test template was not built within ${WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function cloneSqlite(template: string): ClonedDb {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-store-'));
  const db = join(dir, 'bkt.sqlite');
  copyFileSync(template, db);
  // A process that exits without closing leaves its last writes in the WAL file: they are part of the copy.
  if (existsSync(`${template}-wal`)) copyFileSync(`${template}-wal`, `${db}-wal`);
  return { db, drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function clonePostgres(template: string): Promise<ClonedDb> {
  // A session of the build may still be closing on the server: PostgreSQL refuses to copy a
  // database someone is connected to (55006), so wait for it a little.
  for (let attempt = 0; ; attempt++) {
    try {
      return await createPostgresDatabase(template);
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function pgUrl(name: string): string {
  return PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

async function adminQuery(sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}
