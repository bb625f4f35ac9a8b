/**
 * bkt update --rebuild on each backend: replaying the ledger with newly activated parameters,
 * and the ledger migration of older databases (update.test.ts has the other update tests).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { updateMastery } from '../../src/model/online-update.js';
import { addUsers, createPostgresDb, createSqliteDb, postgresAvailable, type TestDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const C1 = 'cccccccc-0000-4000-8000-000000000001';
const C2 = 'cccccccc-0000-4000-8000-000000000002';
const Q1 = 'aaaaaaaa-0000-4000-8000-000000000001';

const pgUp = await postgresAvailable();
const BACKENDS = [{ name: 'sqlite', create: createSqliteDb }, ...(pgUp ? [{ name: 'postgres', create: createPostgresDb }] : [])];

describe.each(BACKENDS)('bkt update --rebuild on $name', ({ create }) => {
  let testDb: TestDb;
  let dir: string;
  beforeAll(async () => {
    testDb = await create();
    const store = await openStore(testDb.db);
    await addUsers(store, U1, U2);
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-cli-rebuild-'));
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stateOf(user: string, concept: string) {
    const store = await openStore(testDb.db);
    try {
      return (await store.getState(user, concept))!;
    } finally {
      await store.close();
    }
  }

  it('replays a file batch and single updates with newly activated parameters; a second rebuild changes nothing', async () => {
    // A file for U1 and U2 on C1 (out of time order), then single updates (timed and untimed) for U1.
    const file = join(dir, 'attempts.csv');
    writeFileSync(
      file,
      ['user_id,concept_id,correct,answered_at,question_id', `${U1},${C1},0,2026-03-01T10:02:00Z,`, `${U1},${C1},1,2026-03-01T10:01:00Z,${Q1}`, `${U2},${C1},1,2026-03-01T10:00:00Z,`, `${U2},${C1},1,2026-03-01T10:03:00Z,`].join('\n'),
    );
    const batch = await bktIn(['update', '--db', testDb.db, '--input', file, '--json']);
    expect(batch.status, batch.describe).toBe(0);
    expect(JSON.parse(batch.stdout)).toMatchObject({ applied: 4, rejected: [] });
    for (const args of [['--correct', 'true', '--at', '2026-03-01T10:05:00Z', '--question', Q1], ['--correct', 'false']]) {
      const one = await bktIn(['update', '--db', testDb.db, '--user', U1, '--concept', C1, ...args]);
      expect(one.status, one.describe).toBe(0);
    }
    const u1Before = await stateOf(U1, C1);
    const u2Before = await stateOf(U2, C1);
    expect(u1Before.n_attempts).toBe(4);

    // Activate new parameters for C1 (as `bkt fit --activate` would).
    const NEW = { p_L0: 0.25, p_T: 0.15, p_S: 0.05, p_G: 0.3 };
    const store = await openStore(testDb.db);
    try {
      await store.saveParams({ concept_id: C1, params: NEW }, { activate: true, constraints: {}, metrics: {} });
    } finally {
      await store.close();
    }
    const replay = (outcomes: boolean[]) => outcomes.reduce((p, c) => updateMastery(p, c, { ...NEW, p_F: 0 }), NEW.p_L0);

    const r = await bktIn(['update', '--db', testDb.db, '--rebuild', '--json']);
    expect(r.status, r.describe).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ mode: 'rebuild', states_rebuilt: 2, attempts_replayed: 6, states_kept: [] });
    const u1 = await stateOf(U1, C1);
    expect(u1.p_mastery).toBe(replay([true, false, true, false]));
    expect(u1).toMatchObject({ n_attempts: u1Before.n_attempts, last_attempt_at: u1Before.last_attempt_at, last_seen_question_id: Q1 });
    const u2 = await stateOf(U2, C1);
    expect(u2.p_mastery).toBe(replay([true, true]));
    expect(u2.n_attempts).toBe(u2Before.n_attempts);

    const twice = await bktIn(['update', '--db', testDb.db, '--rebuild', '--user', U1, '--concept', C1]);
    expect(twice.status, twice.describe).toBe(0);
    expect(twice.stdout.trim()).toBe('rebuilt 1 states from 4 attempts');
    expect((await stateOf(U1, C1)).p_mastery).toBe(u1.p_mastery);
    expect((await stateOf(U2, C1)).p_mastery).toBe(u2.p_mastery);
  });

  it('db migrate adds the outcome columns to an old ledger; rebuild then keeps its states and says why', async () => {
    const store = await openStore(testDb.db);
    try {
      // Turn the ledger back into the old shape (no correct, no question_id) with one old row of a U2/C2 state.
      const driver = sqlDriverOf(store);
      const sqlite = driver.dialect.name === 'sqlite';
      await driver.run('DROP TABLE bkt_attempt_ledger');
      await driver.run(
        `CREATE TABLE bkt_attempt_ledger (user_id ${sqlite ? 'TEXT' : 'uuid'} NOT NULL, concept_id ${sqlite ? 'TEXT' : 'uuid'} NOT NULL, attempt_key TEXT NOT NULL,
           answered_at ${sqlite ? 'TEXT' : 'timestamptz'}, applied_at ${sqlite ? "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))" : 'timestamptz NOT NULL DEFAULT now()'},
           CONSTRAINT pk_bkt_attempt_ledger PRIMARY KEY (user_id, concept_id, attempt_key))`,
      );
      await driver.run('INSERT INTO bkt_attempt_ledger (user_id, concept_id, attempt_key, answered_at) VALUES (?, ?, ?, ?)', [U2, C2, 'old-1', '2026-03-02T00:00:00.000Z']);
      await driver.run(
        'INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, last_attempt_at, created_at, updated_at) VALUES (?, ?, 0.4, 1, ?, ?, ?)',
        [U2, C2, '2026-03-02T00:00:00.000Z', '2026-03-02T00:00:00.000Z', '2026-03-02T00:00:00.000Z'],
      );
    } finally {
      await store.close();
    }
    const check = await bktIn(['db', 'check', '--db', testDb.db]);
    expect(check.status, check.describe).toBe(5);
    expect(check.stdout).toContain('bkt_attempt_ledger.correct: column is missing');
    const migrate = await bktIn(['db', 'migrate', '--db', testDb.db, '--json']);
    expect(migrate.status, migrate.describe).toBe(0);
    expect(JSON.parse(migrate.stdout).created).toEqual(['column bkt_attempt_ledger.correct', 'column bkt_attempt_ledger.question_id']);
    expect((await bktIn(['db', 'check', '--db', testDb.db])).status).toBe(0);
    const before = await stateOf(U2, C2);
    const r = await bktIn(['update', '--db', testDb.db, '--rebuild', '--user', U2]);
    expect(r.status, r.describe).toBe(0);
    // U2/C1's ledger rows went with the dropped table: fewer ledger rows than n_attempts, kept too.
    expect(r.stdout).toContain(`user ${U2} concept ${C2}: 1 of 1 ledger rows have no outcome`);
    expect(r.stdout).toContain(`user ${U2} concept ${C1}: n_attempts is 2 but the ledger holds 0 attempts`);
    expect(await stateOf(U2, C2)).toEqual(before);
  });
});
