/**
 * The run's database templates (support/templates.ts): a folder for the SQLite ones and a name
 * prefix for the PostgreSQL ones, both removed when the run ends.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { PG_ADMIN_URL } from './support/postgres.js';

export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-test-templates-'));
  const pgPrefix = `bkt_tpl_${randomBytes(6).toString('hex')}_`;
  project.provide('bktTemplates', { dir, pgPrefix });
  return async () => {
    rmSync(dir, { recursive: true, force: true });
    // Nothing to drop when no test file used a PostgreSQL template, or no server answers.
    await dropPostgresTemplates(pgPrefix).catch(() => undefined);
  };
}

async function dropPostgresTemplates(prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
