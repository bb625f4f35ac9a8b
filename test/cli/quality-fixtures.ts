/** Shared set-up of the evaluate/validate/report CLI tests: temp dirs, pyBKT params files, a store. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { BktParams } from '../../src/model/params.js';

export interface ReferenceFit {
  per_skill: { skill: string; prior: number; learn: number; guess: number; slip: number; forget: number }[];
  test_metrics: { rmse: number; auc: number; accuracy: number };
}

export const reference: { fits: Record<string, ReferenceFit> } = JSON.parse(
  gunzipSync(readFileSync('fixtures/reference/pybkt-builder.json.gz')).toString('utf8'),
);

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bkt-quality-'));
}

export function pybktParams(config: string): { concept_id: string; params: BktParams }[] {
  return reference.fits[config].per_skill.map((s) => ({
    concept_id: s.skill,
    params: { p_L0: s.prior, p_T: s.learn, p_S: s.slip, p_G: s.guess, p_F: s.forget },
  }));
}

/** A params file in the plain-array form `readParamsFile` accepts ({concept_id, p_L0, ...}). */
export function writePybktParamsFile(dir: string, config: string): string {
  const file = join(dir, `${config}.json`);
  writeFileSync(file, JSON.stringify(pybktParams(config).map((e) => ({ concept_id: e.concept_id, ...e.params }))));
  return file;
}

/** A params file of given entries in `bkt fit --out`'s JSON form (concepts with params and restarts). */
export function writeParamsFile(dir: string, name: string, concepts: { concept_id: string; params: BktParams; restarts?: unknown[] }[]): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({ format: 'bkt-params', version: 1, concepts: concepts.map((c) => ({ status: 'fitted', restarts: [], ...c })) }),
  );
  return file;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Everything about the run, printed when an assertion fails. */
  describe: string;
}

const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

/** Run `node bin/run.js ...` (after `npm run build`) off a TTY, as CI would. */
export function bkt(args: string[], options: { cwd?: string } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', DATABASE_URL: '' },
    maxBuffer: 256 * 1024 * 1024,
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    describe: `bkt ${args.join(' ')}\ncwd: ${options.cwd ?? process.cwd()}\nstatus: ${r.status}\nstdout: ${r.stdout.slice(0, 4000)}\nstderr: ${r.stderr}`,
  };
}

export const PG_ADMIN_URL = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** True when PostgreSQL answers; under CI=true its absence is an error, otherwise a visible notice. */
export async function postgresAvailable(): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`CI: PostgreSQL does not answer at ${PG_ADMIN_URL}`);
    console.warn(`NOTICE: PostgreSQL does not answer at ${PG_ADMIN_URL}; the PostgreSQL quality-gate tests are skipped`);
    return false;
  }
}

/** A fresh database of each backend: a SQLite temp file, or CREATE DATABASE bkt_test_<random> (dropped by `drop`). */
export async function createTestDb(backend: 'sqlite' | 'postgres', dir: string): Promise<{ db: string; drop: () => Promise<void> }> {
  if (backend === 'sqlite') return { db: join(dir, `store-${Math.random().toString(36).slice(2)}.sqlite`), drop: async () => {} };
  const { default: pg } = await import('pg');
  const { randomBytes } = await import('node:crypto');
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
}
