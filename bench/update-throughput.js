// Batch update throughput into SQLite and PostgreSQL, and single `bkt update` latency from process
// start, each printed beside its target (issue 4). Needs `npm run build`. PostgreSQL parts skip
// themselves with a notice when no server answers at 127.0.0.1:5432.
//
//   node bench/update-throughput.js [--attempts 200000] [--pg-attempts 100000] [--latency-only]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const { openStore } = await import(dist('store/open-store.js'));
const { readBatchAttempts } = await import(dist('mastery/batch-input.js'));
const { applyBatch } = await import(dist('mastery/update-service.js'));
const { ADMIN_SCOPE } = await import(dist('mastery/scope.js'));
const { sqlDriverOf } = await import(dist('store/sql-store.js'));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N_SQLITE = arg('attempts', 200_000);
const N_PG = arg('pg-attempts', 100_000);
const USERS = 1000;
const CONCEPTS = 20;
const PG_ADMIN = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const dir = mkdtempSync(join(tmpdir(), 'bkt-bench-update-'));
const uuid = (prefix, i) => `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const users = Array.from({ length: USERS }, (_, i) => uuid('00000000', i));

/** N attempts over USERS x CONCEPTS states, timed, shuffled across states. */
function attemptsFile(n) {
  const file = join(dir, `attempts-${n}.csv`);
  const lines = ['user_id,concept_id,correct,answered_at'];
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < n; i++) {
    const u = (i * 7919) % USERS;
    const c = (i * 104729) % CONCEPTS;
    lines.push(`${users[u]},${uuid('cccccccc', c)},${(i * 31) % 7 < 4 ? 1 : 0},${new Date(t0 + i * 1000).toISOString()}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function prepare(db) {
  const store = await openStore(db, { mode: 'migrate' });
  await store.migrate();
  const driver = sqlDriverOf(store);
  await driver.transaction((tx) => tx.bulkInsert('users', ['id', 'role'], users.map((u) => [u, 'STUDENT'])));
  return store;
}

async function throughput(label, db, n, target) {
  const file = attemptsFile(n);
  const store = await prepare(db);
  try {
    const r0 = performance.now();
    const batch = await readBatchAttempts({ input: file });
    const r1 = performance.now();
    const summary = await applyBatch(store, ADMIN_SCOPE, batch, { batchSize: 1000 });
    const r2 = performance.now();
    const rate = n / ((r2 - r1) / 1000);
    const again = performance.now();
    const second = await applyBatch(store, ADMIN_SCOPE, batch, { batchSize: 1000 });
    const againEnd = performance.now();
    console.log(
      `${label}: ${n.toLocaleString()} attempts over ${summary.states} states: read ${(r1 - r0).toFixed(0)} ms, apply ${(r2 - r1).toFixed(0)} ms = ` +
        `${Math.round(rate).toLocaleString()} attempts/s (target ${target.toLocaleString()}/s: ${rate >= target ? 'met' : 'NOT met'}); ` +
        `re-run (all duplicates) ${Math.round(n / ((againEnd - again) / 1000)).toLocaleString()}/s, applied ${summary.applied}, duplicate on re-run ${second.duplicate}`,
    );
  } finally {
    await store.close();
  }
}

function time(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '' } });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return performance.now() - t;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function latency() {
  const db = join(dir, 'latency.sqlite');
  const store = await prepare(db);
  await store.close();
  const runs = 9;
  const bin = join(root, 'bin/run.js');
  const update = [bin, 'update', '--db', db, '--user', users[0], '--concept', uuid('cccccccc', 1), '--correct', 'true'];
  const single = [];
  const version = [];
  const nodeOnly = [];
  for (let i = 0; i < runs; i++) {
    // Interleaved, so a change in machine load hits all three alike.
    single.push(time(update));
    version.push(time([bin, '--version']));
    nodeOnly.push(time(['-e', '0']));
  }
  // Where the command's own time goes, measured inside one process per run.
  const steps = `
    const t = [performance.now()];
    await import('@oclif/core'); t.push(performance.now());
    await import('zod'); t.push(performance.now());
    await import('better-sqlite3'); t.push(performance.now());
    const { runUpdate } = await import(${JSON.stringify(dist('mastery/run-update.js'))}); t.push(performance.now());
    await runUpdate({ db: ${JSON.stringify(db)}, userId: ${JSON.stringify(users[1])}, conceptIds: [${JSON.stringify(uuid('cccccccc', 1))}], correct: true }); t.push(performance.now());
    console.log(JSON.stringify(t.slice(1).map((x, i) => x - t[i])));`;
  const parts = Array.from({ length: 5 }, () => JSON.parse(spawnSync(process.execPath, ['--input-type=module', '-e', steps], { cwd: root, encoding: 'utf8' }).stdout));
  const part = (k) => median(parts.map((p) => p[k])).toFixed(0);
  const m = median(single);
  console.log(`single bkt update (SQLite), median of ${runs}: ${m.toFixed(0)} ms (target < 300 ms: ${m < 300 ? 'met' : 'NOT met'})`);
  console.log(
    `  where it goes (medians): node start ${median(nodeOnly).toFixed(0)} ms; oclif start, reading the command manifest (bkt --version) ${median(version).toFixed(0)} ms; ` +
      `the update command on top ${(m - median(version)).toFixed(0)} ms`,
  );
  console.log(
    `  imports measured in one process: @oclif/core ${part(0)} ms, zod ${part(1)} ms, better-sqlite3 ${part(2)} ms, bkt mastery modules ${part(3)} ms; ` +
      `open store + update + close ${part(4)} ms`,
  );
}

async function pgAvailable() {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    return c;
  } catch {
    return null;
  }
}

const latencyOnly = process.argv.includes('--latency-only');
try {
  if (!latencyOnly) await throughput('SQLite batch update', join(dir, 'bench.sqlite'), N_SQLITE, 50_000);
  const admin = latencyOnly ? null : await pgAvailable();
  if (latencyOnly) console.log('throughput skipped (--latency-only)');
  else if (!admin) console.log(`NOTICE: no PostgreSQL at ${PG_ADMIN}; PostgreSQL throughput skipped`);
  else {
    const name = `bkt_bench_${randomBytes(5).toString('hex')}`;
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      await throughput('PostgreSQL batch update', PG_ADMIN.replace(/\/[^/]*$/, `/${name}`), N_PG, 10_000);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }
  await latency();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
