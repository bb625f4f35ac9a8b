// Recompute of all 123 concepts of the builder train data from the database, on SQLite and on
// PostgreSQL, beside `fit` on the same file: seconds spent reading, fitting and writing.
// Target (issue 3): reading attempts from the database costs no more than fitting them, compared
// as the medians of 5 `bkt recompute` processes (each starts cold, as ops run it).
// Run after `npm run build` (npm run bench does it). PostgreSQL is skipped with a notice when down.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { readAttempts } from '../dist/src/data/read-attempts.js';
import { fitConcepts } from '../dist/src/model/fit-concepts.js';
import { openStore } from '../dist/src/store/open-store.js';

const TRAIN = 'fixtures/builder/train.csv.gz';
const ADMIN = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const s = (ms) => (ms / 1000).toFixed(2);
const RUNS = 5;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const { table } = await readAttempts({ input: TRAIN });
const fileRead = performance.now() - t0;
const t1 = performance.now();
const report = await fitConcepts(table, {});
const fileFit = performance.now() - t1;
console.log(`file ${TRAIN}: ${table.length} attempts, ${report.summary.fitted} of ${table.conceptIds.length} concepts fitted`);
console.log(`  fit on the file: read ${s(fileRead)} s, fit ${s(fileFit)} s`);

async function sqliteDb() {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-bench-'));
  return { db: join(dir, 'bench.sqlite'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

async function postgresDb() {
  const name = `bkt_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch {
    return null;
  }
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    db: ADMIN.replace(/\/[^/]*$/, `/${name}`),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

for (const [name, create] of [['sqlite', sqliteDb], ['postgres', postgresDb]]) {
  const target = await create();
  if (!target) {
    console.log(`${name}: NOTICE PostgreSQL does not answer at ${ADMIN}; skipped`);
    continue;
  }
  try {
    const store = await openStore(target.db, { mode: 'migrate' });
    await store.migrate();
    const ti = performance.now();
    await store.importAttempts(table);
    const importMs = performance.now() - ti;
    await store.close();
    console.log(`${name}: import ${s(importMs)} s (bkt import, not part of recompute)`);
    // What ops run: `bkt recompute` in a new process each time (cold code, new connections).
    const runs = [];
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(process.execPath, ['bin/run.js', 'recompute', '--db', target.db, '--activate', '--force', '--json'], {
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: '' },
      });
      if (r.status !== 0) throw new Error(`bkt recompute failed: ${r.stdout}${r.stderr}`);
      const out = JSON.parse(r.stdout);
      runs.push({ ...out.timings, fitted: out.summary.params_fitted });
    }
    const med = (key) => median(runs.map((r) => r[key]));
    const [read, fit, write, total] = ['read', 'fit', 'write', 'total'].map(med);
    console.log(
      `  bkt recompute, median of ${RUNS} processes: read ${read.toFixed(2)} s, fit ${fit.toFixed(2)} s, write ${write.toFixed(2)} s, ` +
        `total ${total.toFixed(2)} s; ${runs[0].fitted} parameter rows each`,
    );
    console.log(`  each run (read/fit): ${runs.map((r) => `${r.read.toFixed(2)}/${r.fit.toFixed(2)}`).join(', ')}`);
    console.log(`  target read <= fit: ${read <= fit ? 'met' : 'NOT met'} (median read ${read.toFixed(2)} s vs fit ${fit.toFixed(2)} s; fit on the file in this process ${s(fileFit)} s)`);
  } finally {
    await target.drop();
  }
}
