// `bkt serve` under load on loopback (autocannon, bounded runs), each figure printed beside its
// target: POST /update at 50 connections (SQLite >= 2000/s; PostgreSQL >= 1000/s with p99 < 25 ms)
// and GET /mastery (>= 5000/s). The service runs as its own process (`bin/run.js serve`, default
// log level, access log discarded), callers are 1000 learners with their own JWTs, updates spread
// over 1000 x 20 states. Needs `npm run build`. PostgreSQL parts skip themselves with a notice when
// no server answers at 127.0.0.1:5432.
//
//   node bench/serve.js [--seconds 8] [--connections 50] [--pool-size 16] [--cpu-prof DIR]
//                       [--only sqlite|postgres] [--route update|mastery]
//
// --cpu-prof DIR: the service writes a V8 CPU profile (.cpuprofile) per backend into DIR when it
// stops (open it in Chrome DevTools or speedscope), to see where a request's CPU goes.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { SignJWT } from 'jose';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const { openStore } = await import(dist('store/open-store.js'));
const { sqlDriverOf } = await import(dist('store/sql-store.js'));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 8);
const CONNECTIONS = arg('connections', 50);
const POOL_SIZE = arg('pool-size', 0);
const profIndex = process.argv.indexOf('--cpu-prof');
const CPU_PROF_DIR = profIndex > 0 ? process.argv[profIndex + 1] : null;
const textArg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : null;
};
// One backend or one route alone, e.g. to profile just that (--cpu-prof).
const ONLY = textArg('only');
const ROUTE = textArg('route');
const USERS = 1000;
const CONCEPTS = 20;
const PREFIX = '/api/v1/learning/bkt';
const SECRET = randomBytes(32).toString('hex');
const PG_ADMIN = process.env.BKT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const uuid = (prefix, i) => `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const users = Array.from({ length: USERS }, (_, i) => uuid('00000000', i));
const concepts = Array.from({ length: CONCEPTS }, (_, i) => uuid('cccccccc', i));
const key = new TextEncoder().encode(SECRET);
const tokens = await Promise.all(
  users.map((u) => new SignJWT({ role: 'STUDENT', type: 'access' }).setProtectedHeader({ alg: 'HS256' }).setSubject(u).setExpirationTime('2h').sign(key)),
);

async function prepare(db) {
  const store = await openStore(db, { mode: 'migrate' });
  await store.migrate();
  await sqlDriverOf(store).transaction((tx) => tx.bulkInsert('users', ['id', 'role'], users.map((u) => [u, 'STUDENT'])));
  await store.close();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function startServer(db) {
  const port = await freePort();
  const args = [...(CPU_PROF_DIR ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF_DIR] : []), 'bin/run.js', 'serve', '--db', db, '--port', String(port)];
  if (POOL_SIZE > 0) args.push('--pool-size', String(POOL_SIZE));
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, BKT_JWT_SECRET: SECRET }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, pid: child.pid, stop: () => stopServer(child) };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`bkt serve did not become ready on ${url}`);
}

function stopServer(child) {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/**
 * CPU seconds (user + system) the process has used, from /proc (Linux; null elsewhere). Divided by
 * the requests served, it is what a request costs the service whatever else the machine runs.
 */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (100/s)
  } catch {
    return null;
  }
}

/** Machine load while measuring: the 1-minute load average and the cores. */
function machineLoad() {
  try {
    return `load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} on ${cores()} cores`;
  } catch {
    return 'load average unknown';
  }
}
function cores() {
  return readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
}

function load(url, requests, seconds = SECONDS) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: CONNECTIONS, duration: seconds, requests }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

let counter = 0;
const updateRequest = {
  method: 'POST',
  path: `${PREFIX}/update`,
  setupRequest(req) {
    const n = counter++;
    const u = (n * 7919) % USERS;
    return {
      ...req,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[u]}` },
      body: JSON.stringify({ question_id: uuid('aaaaaaaa', n % 500), concept_id: concepts[(n * 104729) % CONCEPTS], correct: n % 7 < 4 }),
    };
  },
};
const masteryRequest = {
  method: 'GET',
  setupRequest(req) {
    const u = (counter++ * 7919) % USERS;
    return { ...req, path: `${PREFIX}/mastery`, headers: { authorization: `Bearer ${tokens[u]}` } };
  },
};

const results = [];
function report(label, r, targetRps, targetP99, cpu, clientCpu) {
  const rps = r.requests.average;
  const p99 = r.latency.p99;
  const bad = r.non2xx + r.errors + r.timeouts;
  const okRps = rps >= targetRps && bad === 0;
  const okP99 = targetP99 === undefined || p99 < targetP99;
  const line = `${label.padEnd(28)} ${rps.toFixed(0).padStart(6)} req/s (target >= ${targetRps})  p50 ${r.latency.p50} ms  p99 ${p99} ms${targetP99 ? ` (target < ${targetP99})` : ''}  non-2xx/errors ${bad}  ${okRps && okP99 ? 'OK' : 'BELOW TARGET'}`;
  console.log(line);
  if (cpu !== null && cpu !== undefined) {
    const perRequest = (cpu / r.requests.total) * 1000;
    console.log(`${''.padEnd(28)} service process CPU ${perRequest.toFixed(3)} ms per request (one free core: about ${(1000 / perRequest).toFixed(0)} req/s); ${machineLoad()}`);
  }
  // autocannon runs in this process and takes its share of the same cores.
  if (clientCpu !== undefined) console.log(`${''.padEnd(28)} autocannon (bench process) CPU ${((clientCpu / r.requests.total) * 1000).toFixed(3)} ms per request`);
  results.push({ label, ok: okRps && okP99 });
}

async function benchBackend(name, db, updateTarget, updateP99) {
  await prepare(db);
  const server = await startServer(db);
  try {
    await load(server.url, [updateRequest], 2); // warm-up: JIT, first states, connections
    const measured = async (requests) => {
      const before = cpuSeconds(server.pid);
      const ownBefore = process.cpuUsage();
      const r = await load(server.url, requests);
      const after = cpuSeconds(server.pid);
      const own = process.cpuUsage(ownBefore);
      return [r, before === null || after === null ? null : after - before, (own.user + own.system) / 1e6];
    };
    if (ROUTE !== 'mastery') {
      const [update, updateCpu, updateClientCpu] = await measured([updateRequest]);
      report(`${name} POST /update`, update, updateTarget, updateP99, updateCpu, updateClientCpu);
    }
    if (ROUTE !== 'update') {
      const [mastery, masteryCpu, masteryClientCpu] = await measured([masteryRequest]);
      report(`${name} GET /mastery`, mastery, 5000, undefined, masteryCpu, masteryClientCpu);
    }
  } finally {
    const code = await server.stop();
    if (code !== 0) console.log(`${name}: bkt serve exited ${code} after SIGTERM`);
  }
}

console.log(`loopback, ${CONNECTIONS} connections, ${SECONDS} s per figure (after a 2 s warm-up); ${USERS} learners x ${CONCEPTS} concepts`);
const dir = mkdtempSync(join(tmpdir(), 'bkt-bench-serve-'));
try {
  if (ONLY !== 'postgres') await benchBackend('sqlite', join(dir, 'bench.sqlite'), 2000);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const { default: pg } = await import('pg');
const admin = new pg.Client({ connectionString: PG_ADMIN, connectionTimeoutMillis: 2000 });
let pgUp = ONLY !== 'sqlite';
if (pgUp) {
  try {
    await admin.connect();
  } catch {
    pgUp = false;
    console.log(`NOTICE: PostgreSQL does not answer at ${PG_ADMIN}; PostgreSQL figures skipped`);
  }
}
if (pgUp) {
  const name = `bkt_bench_${randomBytes(6).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    await benchBackend('postgres', PG_ADMIN.replace(/\/[^/]*$/, `/${name}`), 1000, 25);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}
const below = results.filter((r) => !r.ok).map((r) => r.label);
console.log(below.length ? `below target: ${below.join(', ')}` : 'every figure meets its target');
