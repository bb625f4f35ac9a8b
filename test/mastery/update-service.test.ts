import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import { applyAttempt, applyBatch } from '../../src/mastery/update-service.js';
import { applySession, rebuildStates } from '../../src/mastery/session-update.js';
import { queryMastery, snapshotStates } from '../../src/mastery/query.js';
import { readBatchAttempts } from '../../src/mastery/batch-input.js';
import { ADMIN_SCOPE, learnerScope } from '../../src/mastery/scope.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { updateMastery } from '../../src/model/online-update.js';
import { ScopeError, NotFoundError } from '../../src/errors.js';
import { addSession, addUsers, createPostgresDb, createSqliteDb, postgresAvailable, type TestDb } from './backends.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const C1 = 'cccccccc-0000-4000-8000-000000000001';
const C2 = 'cccccccc-0000-4000-8000-000000000002';
const Q1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const Q2 = 'aaaaaaaa-0000-4000-8000-000000000002';
const Q3 = 'aaaaaaaa-0000-4000-8000-000000000003';
const BUILTIN = { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 };
// The app's own algo_params defaults: L0 0.1, T 0.1, S 0.1, G 0.25.
const APP = { p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0 };

const pgUp = await postgresAvailable();
const BACKENDS: { name: 'sqlite' | 'postgres'; create: () => Promise<TestDb> }[] = [
  { name: 'sqlite', create: createSqliteDb },
  ...(pgUp ? [{ name: 'postgres' as const, create: createPostgresDb }] : []),
];

function batchFrom(text: string, format: 'csv' | 'ndjson' = 'csv') {
  return readBatchAttempts({ input: `attempts.${format}`, format, stream: Readable.from([text]) });
}

describe.each(BACKENDS)('online mastery on $name', ({ create }) => {
  let testDb: TestDb;
  let store: Store;

  beforeAll(async () => {
    testDb = await create();
    store = await openStore(testDb.db);
    await addUsers(store, U1, U2);
  });
  afterAll(async () => {
    await store?.close();
    await testDb?.drop();
  });

  async function setAppDefaults(): Promise<void> {
    // Make the active algo_params row hold the app's defaults (L0 .1, T .1, S .1, G .25).
    const driver = sqlDriverOf(store);
    await driver.run(`UPDATE algo_params SET params_json = ? WHERE is_active = ?`, [
      JSON.stringify({ default_L0: 0.1, default_T: 0.1, default_S: 0.1, default_G: 0.25 }),
      driver.dialect.bool(true),
    ]);
  }

  it('applies the hand-worked example: L0 .1 T .1 S .1 G .25, correct -> 0.357143, then a new state wrong -> 0.113139', async () => {
    await setAppDefaults();
    const r = await applyAttempt(store, ADMIN_SCOPE, { userId: U1, conceptId: C1, correct: true, questionId: Q1, answeredAt: '2026-01-21T12:00:00Z' }, { snapshot: true });
    expect(r).toMatchObject({ outcome: 'applied', user_id: U1, concept_id: C1, question_id: Q1, correct: true, p_mastery_prior: 0.1, n_attempts: 1, is_mastered: false, snapshot_created: true });
    expect(r.p_mastery_new).toBeCloseTo(0.357143, 6);
    expect(r.mastery_change).toBeCloseTo(0.257143, 6);
    expect(r.params_used).toMatchObject({ p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, params_id: null, is_default: true });
    const w = await applyAttempt(store, ADMIN_SCOPE, { userId: U2, conceptId: C1, correct: false, answeredAt: '2026-01-21T12:00:00Z' });
    expect(w.p_mastery_new).toBeCloseTo(0.113139, 6);
    const state = await store.getState(U1, C1);
    expect(state).toMatchObject({ n_attempts: 1, last_attempt_at: '2026-01-21T12:00:00.000Z', last_seen_question_id: Q1 });
    expect(state!.p_mastery).toBeCloseTo(0.357143, 6);
    expect(await store.countRows('mastery_snapshot')).toBe(1);
  });

  it('treats the same timed attempt sent twice as one (duplicate), and an older one as stale', async () => {
    const again = await applyAttempt(store, ADMIN_SCOPE, { userId: U1, conceptId: C1, correct: true, questionId: Q1, answeredAt: '2026-01-21T12:00:00Z' });
    expect(again).toMatchObject({ outcome: 'duplicate', n_attempts: 1, mastery_change: 0 });
    const stale = await applyAttempt(store, ADMIN_SCOPE, { userId: U1, conceptId: C1, correct: false, questionId: Q2, answeredAt: '2026-01-21T11:00:00Z' });
    expect(stale).toMatchObject({ outcome: 'stale', n_attempts: 1 });
    expect((await store.getState(U1, C1))!.n_attempts).toBe(1);
  });

  it('refuses another user in a learner scope, and a user missing from users (exit 4)', async () => {
    await expect(applyAttempt(store, learnerScope(U1), { userId: U2, conceptId: C1, correct: true })).rejects.toThrow(ScopeError);
    await expect(applyAttempt(store, learnerScope(U1), { userId: U2, conceptId: C1, correct: true })).rejects.toThrow(/cannot update mastery for other users/);
    const ghost = '99999999-9999-4999-8999-999999999999';
    await expect(applyAttempt(store, ADMIN_SCOPE, { userId: ghost, conceptId: C1, correct: true })).rejects.toThrow(NotFoundError);
    expect(await store.getState(ghost, C1)).toBeNull();
  });

  it('applies a batch per state in time order, rejects bad rows by line, and a re-run changes nothing', async () => {
    const csv = [
      'user_id,concept_id,correct,answered_at,question_id',
      `${U1},${C2},1,2026-01-22T10:00:03Z,${Q3}`, // line 2 (third in time)
      `${U1},${C2},0,2026-01-22T10:00:01Z,${Q1}`, // line 3 (first)
      `${U1},${C2},yes,2026-01-22T10:00:02Z,${Q2}`, // line 4: bad correct
      `${U1},${C2},1,2026-01-22T10:00:02Z,${Q2}`, // line 5 (second)
      `,${C2},1,2026-01-22T10:00:02Z,${Q2}`, // line 6: no user
      `${U2},${C2},1,not-a-time,${Q2}`, // line 7: bad time
    ].join('\n');
    const batch = await batchFrom(csv);
    expect(batch.rejected.map((r) => r.line)).toEqual([4, 6, 7]);
    expect(batch.rejected[0].reason).toContain('"yes"');
    const first = await applyBatch(store, ADMIN_SCOPE, batch, { batchSize: 2 });
    expect(first).toMatchObject({ applied: 3, duplicate: 0, stale: 0, states: 1 });
    let p = APP.p_L0;
    for (const c of [false, true, true]) p = updateMastery(p, c, APP);
    const state = await store.getState(U1, C2);
    expect(state!.p_mastery).toBeCloseTo(p, 12);
    expect(state).toMatchObject({ n_attempts: 3, last_seen_question_id: Q3 });
    const second = await applyBatch(store, ADMIN_SCOPE, await batchFrom(csv), { batchSize: 1000 });
    expect(second).toMatchObject({ applied: 0, duplicate: 3, stale: 0 });
    expect((await store.getState(U1, C2))!.n_attempts).toBe(3);
  });

  it('rejects the rows of a user missing from users and applies the rest of the transaction', async () => {
    const ghost = '99999999-9999-4999-8999-999999999999';
    const nd = [
      JSON.stringify({ user_id: ghost, concept_id: C2, correct: true }),
      JSON.stringify({ user_id: U2, concept_id: C2, correct: true }),
      '{oops',
    ].join('\n');
    const batch = await batchFrom(nd, 'ndjson');
    const r = await applyBatch(store, ADMIN_SCOPE, batch, { batchSize: 10 });
    expect(r.applied).toBe(1);
    expect(r.rejected).toEqual([
      { line: 1, reason: `user ${ghost} does not exist in users` },
      { line: 3, reason: 'not valid JSON' },
    ]);
  });

  it('applies a submitted session once: skips unanswered and concept-less answers, counts multi-concept answers per concept', async () => {
    const S = '55555555-5555-4555-8555-555555555555';
    const ids = Array.from({ length: 6 }, () => crypto.randomUUID());
    await addSession(store, {
      id: S,
      userId: U2,
      questions: [
        { answerId: ids[0], questionId: Q1, position: 1, snapshot: { concept_id: C1 }, correct: true, answeredAt: '2030-01-23T10:00:00Z' },
        { answerId: ids[1], questionId: Q2, position: 2, snapshot: { concept_ids: [C1, C2] }, correct: false, answeredAt: '2030-01-23T10:01:00Z' },
        { answerId: ids[2], questionId: Q3, position: 3, snapshot: { concept_id: C1 }, correct: null, answeredAt: null },
        { answerId: ids[3], questionId: 'aaaaaaaa-0000-4000-8000-000000000004', position: 4, snapshot: {}, correct: true, answeredAt: '2030-01-23T10:02:00Z' },
        // An upper-case UUID is the same concept; a number is not a concept id (schema.md: UUID strings).
        { answerId: ids[4], questionId: 'aaaaaaaa-0000-4000-8000-000000000005', position: 5, snapshot: { concept_id: C2.toUpperCase() }, correct: true, answeredAt: '2030-01-23T10:03:00Z' },
        { answerId: ids[5], questionId: 'aaaaaaaa-0000-4000-8000-000000000006', position: 6, snapshot: { concept_id: 7 }, correct: true, answeredAt: '2030-01-23T10:04:00Z' },
      ],
    });
    await expect(applySession(store, learnerScope(U1), S)).rejects.toThrow(ScopeError);
    const before = (await store.getState(U2, C1))!;
    const r = await applySession(store, ADMIN_SCOPE, S);
    expect(r).toMatchObject({ user_id: U2, applied: 4, duplicate: 0, stale: 0 });
    expect(r.skipped).toEqual({ unanswered: [Q3], no_concept: ['aaaaaaaa-0000-4000-8000-000000000004', 'aaaaaaaa-0000-4000-8000-000000000006'] });
    const s1 = (await store.getState(U2, C1))!;
    expect(s1.n_attempts).toBe(before.n_attempts + 2);
    expect(s1.p_mastery).toBeCloseTo(updateMastery(updateMastery(before.p_mastery, true, APP), false, APP), 12);
    const again = await applySession(store, learnerScope(U2), S);
    expect(again).toMatchObject({ applied: 0, duplicate: 4 });
    expect((await store.getState(U2, C1))!.n_attempts).toBe(s1.n_attempts);
  });

  it('lists mastery ordered by p_mastery, summarises per concept, and limits a learner to itself', async () => {
    const mine = await queryMastery(store, ADMIN_SCOPE, { userId: U1 });
    expect(mine.kind).toBe('states');
    if (mine.kind !== 'states') return;
    expect(mine.states.map((s) => s.concept_id)).toHaveLength(2);
    expect(mine.states[0].p_mastery).toBeGreaterThanOrEqual(mine.states[1].p_mastery);
    expect(Object.keys(mine.states[0]).sort()).toEqual(['concept_id', 'is_mastered', 'last_attempt_at', 'last_seen_question_id', 'n_attempts', 'p_mastery', 'updated_at', 'user_id']);
    const learner = await queryMastery(store, learnerScope(U2), {});
    expect(learner.kind === 'states' && learner.states.every((s) => s.user_id === U2)).toBe(true);
    await expect(queryMastery(store, learnerScope(U2), { userId: U1 })).rejects.toThrow(/cannot query mastery for other users/);
    const summary = await queryMastery(store, ADMIN_SCOPE, {});
    expect(summary.kind).toBe('concepts');
    if (summary.kind !== 'concepts') return;
    const c1 = summary.concepts.find((c) => c.concept_id === C1)!;
    const states = (await store.listStates({ conceptIds: [C1] }));
    expect(c1.learners).toBe(states.length);
    expect(c1.mean_mastery).toBeCloseTo(states.reduce((s, r) => s + r.p_mastery, 0) / states.length, 12);
    const below = await queryMastery(store, ADMIN_SCOPE, { userId: U1, below: 0.2 });
    expect(below.kind === 'states' && below.states.every((s) => s.p_mastery < 0.2)).toBe(true);
  });

  it('writes one snapshot per selected state in one transaction', async () => {
    const before = await store.countRows('mastery_snapshot');
    const r = await snapshotStates(store, ADMIN_SCOPE, { userId: U1 });
    expect(r.snapshots).toBe(2);
    expect(await store.countRows('mastery_snapshot')).toBe(before + 2);
  });

  it('rebuild replays the full ledger (session, file and single updates) with newly activated parameters, and twice gives the same state', async () => {
    const U3 = '33333333-3333-4333-8333-333333333333';
    const S3 = '66666666-6666-4666-8666-666666666666';
    await addUsers(store, U3);
    // A session (2 answers), a file (3 rows, out of order), a timed and an untimed single update.
    await addSession(store, {
      id: S3,
      userId: U3,
      questions: [
        { answerId: crypto.randomUUID(), questionId: Q1, position: 1, snapshot: { concept_id: C1 }, correct: true, answeredAt: '2030-02-01T10:00:00Z' },
        { answerId: crypto.randomUUID(), questionId: Q2, position: 2, snapshot: { concept_id: C1 }, correct: false, answeredAt: '2030-02-01T10:01:00Z' },
      ],
    });
    expect(await applySession(store, ADMIN_SCOPE, S3)).toMatchObject({ applied: 2 });
    const csv = [
      'user_id,concept_id,correct,answered_at,question_id',
      `${U3},${C1},1,2030-02-01T10:04:00Z,${Q3}`,
      `${U3},${C1},0,2030-02-01T10:02:00Z,${Q1}`,
      `${U3},${C1},1,2030-02-01T10:03:00Z,`,
    ].join('\n');
    expect(await applyBatch(store, ADMIN_SCOPE, await batchFrom(csv), { batchSize: 2 })).toMatchObject({ applied: 3, rejected: [] });
    expect(await applyAttempt(store, ADMIN_SCOPE, { userId: U3, conceptId: C1, correct: true, questionId: Q2, answeredAt: '2030-02-01T10:05:00Z' })).toMatchObject({ outcome: 'applied' });
    // Untimed: stamped last_attempt_at + 1 ms (the state's last attempt is in 2030).
    expect(await applyAttempt(store, ADMIN_SCOPE, { userId: U3, conceptId: C1, correct: false })).toMatchObject({ outcome: 'applied', answered_at: '2030-02-01T10:05:00.001Z' });
    const history: [boolean, string | null][] = [[true, Q1], [false, Q2], [false, Q1], [true, null], [true, Q3], [true, Q2], [false, null]];

    // Every path stored the outcome and the question in the ledger, in commit order.
    const ledger = await store.withWriteTransaction((tx) => tx.readLedger(U3, C1));
    expect(ledger.map((r) => [r.correct, r.question_id])).toEqual(history);
    const before = (await store.getState(U3, C1))!;
    let online = APP.p_L0;
    for (const [c] of history) online = updateMastery(online, c, APP);
    expect(before.p_mastery).toBe(online);

    // New parameters for C1, activated as a fit would be.
    const NEW = { p_L0: 0.3, p_T: 0.05, p_S: 0.2, p_G: 0.15 };
    const saved = await store.saveParams({ concept_id: C1, params: NEW }, { activate: true, constraints: {}, metrics: {} });
    let replay = NEW.p_L0;
    for (const [c] of history) replay = updateMastery(replay, c, { ...NEW, p_F: 0 });
    expect(replay).not.toBeCloseTo(before.p_mastery, 6);

    const r = await rebuildStates(store, ADMIN_SCOPE, { userId: U3 });
    expect(r).toEqual({ states_rebuilt: 1, attempts_replayed: 7, states_kept: [] });
    const after = (await store.getState(U3, C1))!;
    expect(after.p_mastery).toBe(replay);
    expect(after).toMatchObject({ n_attempts: before.n_attempts, last_attempt_at: '2030-02-01T10:05:00.001Z', last_seen_question_id: Q2, algo_version_id: saved.algo_version_id });
    expect(after.n_attempts).toBe(7);

    const twice = await rebuildStates(store, ADMIN_SCOPE, { userId: U3, conceptIds: [C1] });
    expect(twice).toEqual(r);
    const again = (await store.getState(U3, C1))!;
    expect({ ...again, updated_at: '' }).toEqual({ ...after, updated_at: '' });
    // The ledger is unchanged: the session and the file are still no-ops.
    expect(await applySession(store, ADMIN_SCOPE, S3)).toMatchObject({ applied: 0, duplicate: 2 });
    expect(await applyBatch(store, ADMIN_SCOPE, await batchFrom(csv))).toMatchObject({ applied: 0, duplicate: 3 });
  });

  it('rebuild replays an attempt reported stale in its place, and touches only the selected states', async () => {
    // U1/C1: applied 12:00 (correct), then 11:00 (wrong) reported stale, both in the ledger.
    const other = (await store.getState(U2, C2))!;
    const params = (await store.resolveParams(C1)).params;
    const r = await rebuildStates(store, ADMIN_SCOPE, { userId: U1, conceptIds: [C1] });
    expect(r).toEqual({ states_rebuilt: 1, attempts_replayed: 2, states_kept: [] });
    const s = (await store.getState(U1, C1))!;
    expect(s.p_mastery).toBe(updateMastery(updateMastery(params.p_L0, false, params), true, params));
    expect(s).toMatchObject({ n_attempts: 2, last_attempt_at: '2026-01-21T12:00:00.000Z', last_seen_question_id: Q1 });
    expect(await store.getState(U2, C2)).toEqual(other);
    // Everything: every state's ledger has outcomes, so none is kept.
    const all = await rebuildStates(store, ADMIN_SCOPE, {});
    expect(all.states_kept).toEqual([]);
    expect(all.states_rebuilt).toBe((await store.listStates()).length);
  });

  it('migrate adds correct and question_id to an old ledger, and rebuild keeps (and names) the states it cannot replay', async () => {
    const old = await create();
    const s = await openStore(old.db);
    try {
      const driver = sqlDriverOf(s);
      await addUsers(s, U1);
      // The ledger as bkt created it before outcomes were stored.
      await driver.run('DROP TABLE bkt_attempt_ledger');
      const sqlite = driver.dialect.name === 'sqlite';
      await driver.run(
        `CREATE TABLE bkt_attempt_ledger (user_id ${sqlite ? 'TEXT' : 'uuid'} NOT NULL, concept_id ${sqlite ? 'TEXT' : 'uuid'} NOT NULL, attempt_key TEXT NOT NULL,
           answered_at ${sqlite ? 'TEXT' : 'timestamptz'}, applied_at ${sqlite ? "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))" : 'timestamptz NOT NULL DEFAULT now()'},
           CONSTRAINT pk_bkt_attempt_ledger PRIMARY KEY (user_id, concept_id, attempt_key))`,
      );
      await driver.run('INSERT INTO bkt_attempt_ledger (user_id, concept_id, attempt_key, answered_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [
        U1, C1, 'old-1', '2026-01-01T10:00:00.000Z', U1, C1, 'old-2', '2026-01-01T10:01:00.000Z',
      ]);
      await driver.run(
        'INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, last_attempt_at, created_at, updated_at) VALUES (?, ?, 0.42, 2, ?, ?, ?)',
        [U1, C1, '2026-01-01T10:01:00.000Z', '2026-01-01T10:01:00.000Z', '2026-01-01T10:01:00.000Z'],
      );
      expect((await s.check()).map((d) => `${d.kind} ${d.table}.${d.object}`)).toEqual(['missing_column bkt_attempt_ledger.correct', 'missing_column bkt_attempt_ledger.question_id']);
      expect((await s.migrate()).created).toEqual(['column bkt_attempt_ledger.correct', 'column bkt_attempt_ledger.question_id']);
      expect(await s.check()).toEqual([]);
      expect((await s.migrate()).created).toEqual([]);
      expect(await s.countRows('bkt_attempt_ledger')).toBe(2);

      // A new attempt stores its outcome; the old rows still have none, so the state is kept.
      await applyAttempt(s, ADMIN_SCOPE, { userId: U1, conceptId: C1, correct: true, questionId: Q1, answeredAt: '2026-01-01T10:02:00Z' });
      const before = (await s.getState(U1, C1))!;
      expect(before.n_attempts).toBe(3);
      const r = await rebuildStates(s, ADMIN_SCOPE, {});
      expect(r.states_rebuilt).toBe(0);
      expect(r.states_kept).toEqual([
        { user_id: U1, concept_id: C1, reason: 'no_outcome', detail: expect.stringContaining('2 of 3 ledger rows have no outcome'), n_attempts: 3, ledger_rows: 3, rows_without_outcome: 2 },
      ]);
      expect(await s.getState(U1, C1)).toEqual(before);
    } finally {
      await s.close();
      await old.drop();
    }
  });

  it('rebuild keeps a state whose ledger holds fewer attempts than n_attempts (applied without the ledger)', async () => {
    const U4 = '44444444-4444-4444-8444-444444444444';
    await addUsers(store, U4);
    await applyAttempt(store, ADMIN_SCOPE, { userId: U4, conceptId: C2, correct: true, answeredAt: '2030-03-01T00:00:00Z' });
    await sqlDriverOf(store).run('UPDATE bkt_user_skill_state SET n_attempts = 5 WHERE user_id = ?', [U4]);
    const before = (await store.getState(U4, C2))!;
    const r = await rebuildStates(store, ADMIN_SCOPE, { userId: U4 });
    expect(r).toMatchObject({ states_rebuilt: 0, states_kept: [{ user_id: U4, concept_id: C2, reason: 'ledger_incomplete', n_attempts: 5, ledger_rows: 1 }] });
    expect(await store.getState(U4, C2)).toEqual(before);
  });
});
