/**
 * The service's life: graceful shutdown of the real `bkt serve` process with requests in flight
 * (none lost, exit 0, an access log without credentials), a recompute cut short by shutdown
 * (its run row closed, never left RUNNING), and a database that goes away (503, readyz 503,
 * healthz still 200, the process alive). Needs `npm run build` (bin/run.js).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import { openStore } from '../../src/store/open-store.js';
import { createPostgresDb, postgresAvailable, type TestDb } from '../mastery/backends.js';
import { BIN, ROOT } from '../support/run-bkt.js';
import { ADMIN, BACKENDS, PREFIX, SECRET, SERVICE_TOKEN, STUDENT, call, seededDb, startTestService, token } from './support.js';

const CONCEPT = 'cccccccc-0000-4000-8000-0000000000aa';
const QUESTION = 'aaaaaaaa-0000-4000-8000-0000000000aa';

interface ServeProcess {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  exited: Promise<number | null>;
}

/** A TCP port free on loopback right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Start `bkt serve` on a free port and wait until /healthz answers. */
async function serveProcess(db: string, extra: string[] = []): Promise<ServeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [BIN, 'serve', '--db', db, '--port', String(port), ...extra], {
    cwd: ROOT,
    env: { ...process.env, BKT_JWT_SECRET: SECRET, BKT_SERVICE_TOKEN: SERVICE_TOKEN, DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (let i = 0; i < 300 && child.exitCode === null; i++) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { child, url, stdout: () => out, exited };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`bkt serve did not start\nstdout: ${out}\nstderr: ${err}`);
}

/** POST JSON on a connection of its own: `sent` once the whole request is in the socket, `status` when answered. */
function post(base: string, path: string, bearer: string, body: unknown): { sent: Promise<void>; status: Promise<number> } {
  const payload = JSON.stringify(body);
  let sent!: Promise<void>;
  const status = new Promise<number>((resolve, reject) => {
    const req = request(base + path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${bearer}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', reject);
    });
    req.on('error', reject);
    sent = new Promise<void>((resolveSent, rejectSent) => {
      req.on('error', rejectSent);
      req.end(payload, () => resolveSent());
    });
  });
  return { sent, status };
}

describe.each(BACKENDS)('bkt serve lifecycle on $name', ({ create }) => {
  const drops: TestDb[] = [];
  afterAll(async () => {
    for (const d of drops) await d.drop();
  });

  it('SIGTERM with requests in flight: every accepted request completes and is stored, then exit 0', async () => {
    const testDb = await seededDb(create);
    drops.push(testDb);
    const server = await serveProcess(testDb.db);
    const bearer = await token(STUDENT);
    const N = 60;
    // Arrange/Act: N updates, each on its own connection, each fully written to the socket before
    // SIGTERM is sent: every one is in flight when the signal arrives.
    const inFlight = Array.from({ length: N }, (_, i) =>
      post(server.url, `${PREFIX}/update`, bearer, { question_id: QUESTION, concept_id: CONCEPT, correct: i % 3 !== 0, attempt_key: `shutdown-${i}` }),
    );
    await Promise.all(inFlight.map((r) => r.sent));
    let answeredAfterSignal = 0;
    let signalled = false;
    for (const r of inFlight) void r.status.then(() => signalled && answeredAfterSignal++, () => undefined);
    server.child.kill('SIGTERM');
    signalled = true;
    const statuses = await Promise.all(inFlight.map((r) => r.status.catch((e: Error) => `error: ${e.message}`)));
    // The test means something only if the shutdown met requests still being served.
    expect(answeredAfterSignal).toBeGreaterThan(0);
    const code = await server.exited;

    // Assert: every request in flight was answered and stored.
    expect(code).toBe(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const ok = N;
    const store = await openStore(testDb.db);
    try {
      expect((await store.getState(STUDENT, CONCEPT))?.n_attempts).toBe(ok);
      expect(await store.countRows('bkt_attempt_ledger')).toBe(ok);
    } finally {
      await store.close();
    }
    // The access log: one JSON line per answered request with id, route, status and latency; no credentials.
    const lines = server
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    const access = lines.filter((l) => l.msg === 'request' && l.route === `${PREFIX}/update` && l.status === 200);
    expect(access.length).toBe(ok);
    expect(access[0]).toMatchObject({ req_id: expect.any(String), method: 'POST', status: 200, latency_ms: expect.any(Number), user_id: STUDENT });
    expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
    expect(server.stdout()).not.toContain(bearer);
    expect(server.stdout()).not.toContain(SECRET);
  });

  it('SIGINT stops an idle service with exit 0; a recompute cut short by shutdown closes its run row', async () => {
    const testDb = await seededDb(create);
    drops.push(testDb);
    const idle = await serveProcess(testDb.db, ['--log-level', 'warn']);
    expect((await call(idle.url, 'GET', '/healthz')).status).toBe(200);
    idle.child.kill('SIGINT');
    expect(await idle.exited).toBe(0);
    expect(idle.stdout()).toBe(''); // warn level: no access log, no info lines

    const store = await openStore(testDb.db);
    try {
      await store.importAttempts((await readAttempts({ input: 'fixtures/sample.csv' })).table);
      // A run that outlives the wait (0 ms here, as a proxy's timeout would) is answered 202 and goes on.
      const service = await startTestService(testDb.db, { recomputeWaitMs: 0 });
      const r = await call(service.url, 'POST', `${PREFIX}/recompute`, { token: await token(ADMIN, { role: 'ADMIN' }), body: { activate: true } });
      expect(r.status, r.text).toBe(202);
      expect((await store.getRun(r.body.run_id))?.status).toBe('RUNNING');
      await service.close();
      const run = await store.getRun(r.body.run_id);
      expect(run?.status).toMatch(/^(SUCCESS|FAILED)$/);
      if (run?.status === 'FAILED') expect(run.error_message).toMatch(/^interrupted after/);
    } finally {
      await store.close();
    }
  });
});

const pgUp = await postgresAvailable();
describe.skipIf(!pgUp)('bkt serve when PostgreSQL goes away', () => {
  it('answers 503 on the API and readyz, keeps healthz and the process alive, and names no URL', async () => {
    const testDb = await seededDb(createPostgresDb);
    const service = await startTestService(testDb.db);
    try {
      const bearer = await token(STUDENT);
      const before = await call(service.url, 'POST', `${PREFIX}/update`, { token: bearer, body: { question_id: QUESTION, concept_id: CONCEPT, correct: true } });
      expect(before.status).toBe(200);
      await testDb.drop(); // terminates the service's connections, and the database is gone
      for (const [method, path, body] of [
        ['POST', `${PREFIX}/update`, { user_id: STUDENT, question_id: QUESTION, concept_id: CONCEPT, correct: true }],
        ['GET', `${PREFIX}/mastery?user_id=${STUDENT}`, undefined],
        ['GET', `${PREFIX}/params?concept_id=${CONCEPT}`, undefined],
      ] as const) {
        const r = await call(service.url, method, path, { token: SERVICE_TOKEN, body });
        expect(r.status, `${method} ${path}: ${r.text}`).toBe(503);
        expect(r.body.error.code).toBe('DATABASE_UNAVAILABLE');
        expect(r.text).not.toMatch(/postgres:\/\/|127\.0\.0\.1|bkt_test_/);
      }
      // A user token needs the users table for its role check: also 503, not 401.
      expect((await call(service.url, 'GET', `${PREFIX}/mastery`, { token: bearer })).status).toBe(503);
      const ready = await call(service.url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'not_ready', problems: ['the database is unreachable'] });
      expect((await call(service.url, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await service.close();
    }
  });
});
