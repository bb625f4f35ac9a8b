/**
 * The real PostgreSQL of the tests: 127.0.0.1:5432, user postgres, trust auth (override with
 * BKT_TEST_PG_URL). Each test file creates its own databases (CREATE DATABASE bkt_test_<random>)
 * and drops them. When no server answers, PostgreSQL tests fail under CI=true and are skipped with
 * a visible notice elsewhere, so a fresh machine still passes `npm test`.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let answer: Promise<boolean> | null = null;

/** True when PostgreSQL answers; under CI=true a silent server is an error, not a skip. */
export function postgresAvailable(): Promise<boolean> {
  answer ??= (async () => {
    const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch {
      if (process.env.CI === 'true') throw new Error(`CI: PostgreSQL does not answer at ${PG_ADMIN_URL}; its tests must run`);
      console.warn(`NOTICE: PostgreSQL does not answer at ${PG_ADMIN_URL}; PostgreSQL tests are SKIPPED`);
      return false;
    }
  })();
  return answer;
}

/** A new database, empty or a copy of `template`: its --db URL and how to drop it. */
export async function createPostgresDatabase(template?: string): Promise<{ db: string; drop: () => Promise<void> }> {
  const name = `bkt_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(template ? `CREATE DATABASE ${name} TEMPLATE ${template}` : `CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    db: PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const client = new pg.Client({ connectionString: PG_ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
