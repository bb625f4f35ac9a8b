/**
 * No lost update through the service: 8 HTTP clients x 250 updates of one (user, concept) state,
 * while two `bkt update` processes apply 100 attempts each to the same state, on each backend.
 * n_attempts counts every attempt and p_mastery equals a serial replay in commit order (the
 * ledger's answered_at, stamped inside the state's lock). Needs `npm run build` (bin/run.js).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { updateMastery } from '../../src/model/online-update.js';
import { BUILTIN_DEFAULT_PARAMS } from '../../src/model/params.js';
import type { Service } from '../../src/service/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { TestDb } from '../mastery/backends.js';
import { bktAsync } from '../support/run-bkt.js';
import { BACKENDS, PREFIX, STUDENT, call, seededDb, startTestService, token } from './support.js';

const CONCEPT = 'cccccccc-0000-4000-8000-00000000000c';
const QUESTION = 'aaaaaaaa-0000-4000-8000-00000000000c';
const CLIENTS = 8;
const PER_CLIENT = 250;
const PROCESSES = 2;
const PER_PROCESS = 100;

const correctFor = (i: number, j: number): boolean => (i * 7 + j * 13) % 5 < 3;

describe.each(BACKENDS)('concurrent updates through bkt serve on $name', ({ name, create }) => {
  let testDb: TestDb;
  let service: Service;
  beforeAll(async () => {
    testDb = await seededDb(create);
    if (name === 'postgres') {
      // Every update of the one hot state waits for the previous commit's WAL flush (about 5 ms
      // on this machine's disk). Locking and visibility, which this test is about, are the same
      // without the wait; only durability after a crash differs. New connections take it up.
      const store = await openStore(testDb.db);
      const database = new URL(testDb.db).pathname.slice(1);
      await sqlDriverOf(store).run(`ALTER DATABASE ${database} SET synchronous_commit = off`);
      await store.close();
    }
    service = await startTestService(testDb.db);
  });
  afterAll(async () => {
    await service?.close();
    await testDb?.drop();
  });

  it(`loses nothing: ${CLIENTS} clients x ${PER_CLIENT} requests and ${PROCESSES} bkt update processes x ${PER_PROCESS}`, async () => {
    // Arrange
    const correctOf = new Map<string, boolean>();
    const bearer = await token(STUDENT);
    const csv = (i: number) => {
      const lines = ['user_id,concept_id,correct,attempt_key'];
      for (let j = 0; j < PER_PROCESS; j++) {
        correctOf.set(`p${i}-${j}`, correctFor(i + 100, j));
        lines.push(`${STUDENT},${CONCEPT},${correctFor(i + 100, j) ? 1 : 0},p${i}-${j}`);
      }
      return lines.join('\n') + '\n';
    };
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const processes = Array.from({ length: PROCESSES }, (_, i) => {
      const input = csv(i);
      return bktAsync(['update', '--db', testDb.db, '--input', '-', '--batch-size', '1', '--json'], { stdin: gate.then(() => input) });
    });
    const client = async (i: number) => {
      const statuses: number[] = [];
      for (let j = 0; j < PER_CLIENT; j++) {
        const key = `c${i}-${j}`;
        correctOf.set(key, correctFor(i, j));
        const r = await call(service.url, 'POST', `${PREFIX}/update`, { token: bearer, body: { question_id: QUESTION, concept_id: CONCEPT, correct: correctFor(i, j), attempt_key: key } });
        statuses.push(r.status);
        if (r.status !== 200) throw new Error(`client ${i} request ${j}: ${r.status} ${r.text}`);
      }
      return statuses;
    };

    // Act: the processes start up and wait on stdin, then everything runs at once.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    release();
    const [clients, cli] = await Promise.all([Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i))), Promise.all(processes)]);

    // Assert
    expect(clients.flat().every((s) => s === 200)).toBe(true);
    for (const r of cli) {
      expect(r.status, r.describe).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ applied: PER_PROCESS, duplicate: 0, stale: 0 });
    }
    const total = CLIENTS * PER_CLIENT + PROCESSES * PER_PROCESS;
    const store = await openStore(testDb.db);
    try {
      const state = (await store.getState(STUDENT, CONCEPT))!;
      expect(state.n_attempts).toBe(total);
      const ledger = await sqlDriverOf(store).query<{ attempt_key: string; answered_at: unknown }>(
        'SELECT attempt_key, answered_at FROM bkt_attempt_ledger WHERE user_id = ? AND concept_id = ?',
        [STUDENT, CONCEPT],
      );
      const ordered = ledger.map((r) => ({ key: r.attempt_key, at: new Date(r.answered_at as string).getTime() })).sort((a, b) => a.at - b.at);
      expect(new Set(ordered.map((r) => r.at)).size).toBe(total); // a strict commit order
      let p = BUILTIN_DEFAULT_PARAMS.p_L0;
      for (const r of ordered) p = updateMastery(p, correctOf.get(r.key)!, BUILTIN_DEFAULT_PARAMS);
      expect(state.p_mastery).toBe(p);
      const switches = ordered.filter((r, k) => k > 0 && r.key.split('-')[0] !== ordered[k - 1].key.split('-')[0]).length;
      console.log(`${name}: ${total} attempts, the commit order switched writer ${switches} times`);
      expect(switches).toBeGreaterThan(CLIENTS);
    } finally {
      await store.close();
    }
  });
});
