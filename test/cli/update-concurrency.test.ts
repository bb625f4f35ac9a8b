/**
 * Four concurrent `bkt update` processes x 200 attempts on one (user, concept), on each backend:
 * nothing is lost (n_attempts = 800) and p_mastery equals a sequential replay in commit order.
 * Untimed attempts are stamped max(now, last_attempt_at + 1 ms) inside the state's lock, so the
 * ledger's answered_at orders them exactly as they were committed.
 */
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { updateMastery } from '../../src/model/online-update.js';
import { BUILTIN_DEFAULT_PARAMS } from '../../src/model/params.js';
import { addUsers, createPostgresDb, createSqliteDb, postgresAvailable, type TestDb } from '../mastery/backends.js';
import { bktAsync } from '../support/run-bkt.js';

const USER = '11111111-1111-4111-8111-111111111111';
const CONCEPT = 'cccccccc-0000-4000-8000-000000000001';
const PROCESSES = 4;
const PER_PROCESS = 200;

const pgUp = await postgresAvailable();
const BACKENDS = [{ name: 'sqlite', create: createSqliteDb }, ...(pgUp ? [{ name: 'postgres', create: createPostgresDb }] : [])];

describe.each(BACKENDS)('concurrent bkt update on $name', ({ name, create }) => {
  let testDb: TestDb;
  let dir: string;
  beforeAll(async () => {
    testDb = await create();
    const store = await openStore(testDb.db);
    await addUsers(store, USER);
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-conc-'));
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`loses nothing: ${PROCESSES} processes x ${PER_PROCESS} attempts give n_attempts ${PROCESSES * PER_PROCESS} and the replayed p_mastery`, async () => {
    // Arrange: one file per process; keys p<i>-<j>; a fixed pseudo-random correct pattern.
    const correctOf = new Map<string, boolean>();
    const files: string[] = [];
    for (let i = 0; i < PROCESSES; i++) {
      const lines = ['user_id,concept_id,correct,attempt_key'];
      for (let j = 0; j < PER_PROCESS; j++) {
        const key = `p${i}-${j}`;
        const correct = (i * 7 + j * 13) % 5 < 3;
        correctOf.set(key, correct);
        lines.push(`${USER},${CONCEPT},${correct ? 1 : 0},${key}`);
      }
      const file = join(dir, `p${i}.csv`);
      writeFileSync(file, lines.join('\n') + '\n');
      files.push(file);
    }
    // Act: every process starts and waits on stdin; all inputs are released together after start-up,
    // and one attempt per transaction, so the processes interleave.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const results = Promise.all(
      files.map((f) => bktAsync(['update', '--db', testDb.db, '--input', '-', '--batch-size', '1', '--json'], { stdin: gate.then(() => readFileSync(f, 'utf8')) })),
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    release();
    for (const r of await results) {
      expect(r.status, r.describe).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ applied: PER_PROCESS, duplicate: 0, stale: 0, rejected: [] });
    }
    const store = await openStore(testDb.db);
    try {
      const state = (await store.getState(USER, CONCEPT))!;
      expect(state.n_attempts).toBe(PROCESSES * PER_PROCESS);
      const ledger = await sqlDriverOf(store).query<{ attempt_key: string; answered_at: unknown }>(
        'SELECT attempt_key, answered_at FROM bkt_attempt_ledger WHERE user_id = ? AND concept_id = ?',
        [USER, CONCEPT],
      );
      const ordered = ledger
        .map((r) => ({ key: r.attempt_key, at: new Date(r.answered_at as string).getTime() }))
        .sort((a, b) => a.at - b.at);
      expect(new Set(ordered.map((r) => r.at)).size).toBe(PROCESSES * PER_PROCESS); // a strict commit order
      // How often the commit order switches process. PostgreSQL queues row-lock waiters fairly, so
      // the processes interleave there; SQLite's busy handler lets a waiter sleep while the holder
      // runs its next transaction at once, so a short run often commits in blocks (still no loss).
      const switches = ordered.filter((r, k) => k > 0 && r.key.split('-')[0] !== ordered[k - 1].key.split('-')[0]).length;
      console.log(`${name}: the commit order switched process ${switches} times`);
      if (name === 'postgres') expect(switches).toBeGreaterThan(PROCESSES - 1);
      let p = BUILTIN_DEFAULT_PARAMS.p_L0;
      for (const r of ordered) p = updateMastery(p, correctOf.get(r.key)!, BUILTIN_DEFAULT_PARAMS);
      expect(state.p_mastery).toBe(p);
      // --rebuild replays the ledger in the same commit order: the same state, bit for bit.
      const rebuilt = await bktAsync(['update', '--db', testDb.db, '--rebuild', '--json']);
      expect(rebuilt.status, rebuilt.describe).toBe(0);
      expect(JSON.parse(rebuilt.stdout)).toMatchObject({ states_rebuilt: 1, attempts_replayed: PROCESSES * PER_PROCESS, states_kept: [] });
      const after = (await store.getState(USER, CONCEPT))!;
      expect({ ...after, updated_at: '' }).toEqual({ ...state, updated_at: '' });
      // A re-run of every file is a no-op.
      const again = await bktAsync(['update', '--db', testDb.db, '--input', files[0], '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ applied: 0, duplicate: PER_PROCESS });
    } finally {
      await store.close();
    }
  });
});
