import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/store.js';
import { applyAttempt, applyBatch } from '../../src/mastery/update-service.js';
import { applySession, rebuildStates } from '../../src/mastery/session-update.js';
import { queryMastery, snapshotStates } from '../../src/mastery/query.js';
import { readBatchAttempts } from '../../src/mastery/batch-input.js';
import { ADMIN_SCOPE, learnerScope } from '../../src/mastery/scope.js';
import { sqlDriverOf } from '../../src/mastery/session-source.js';
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
    const ids = Array.from({ length: 4 }, () => crypto.randomUUID());
    await addSession(store, {
      id: S,
      userId: U2,
      questions: [
        { answerId: ids[0], questionId: Q1, position: 1, snapshot: { concept_id: C1 }, correct: true, answeredAt: '2030-01-23T10:00:00Z' },
        { answerId: ids[1], questionId: Q2, position: 2, snapshot: { concept_ids: [C1, C2] }, correct: false, answeredAt: '2030-01-23T10:01:00Z' },
        { answerId: ids[2], questionId: Q3, position: 3, snapshot: { concept_id: C1 }, correct: null, answeredAt: null },
        { answerId: ids[3], questionId: 'aaaaaaaa-0000-4000-8000-000000000004', position: 4, snapshot: {}, correct: true, answeredAt: '2030-01-23T10:02:00Z' },
      ],
    });
    await expect(applySession(store, learnerScope(U1), S)).rejects.toThrow(ScopeError);
    const before = (await store.getState(U2, C1))!;
    const r = await applySession(store, ADMIN_SCOPE, S);
    expect(r).toMatchObject({ user_id: U2, applied: 3, duplicate: 0, stale: 0 });
    expect(r.skipped).toEqual({ unanswered: [Q3], no_concept: ['aaaaaaaa-0000-4000-8000-000000000004'] });
    const s1 = (await store.getState(U2, C1))!;
    expect(s1.n_attempts).toBe(before.n_attempts + 2);
    expect(s1.p_mastery).toBeCloseTo(updateMastery(updateMastery(before.p_mastery, true, APP), false, APP), 12);
    const again = await applySession(store, learnerScope(U2), S);
    expect(again).toMatchObject({ applied: 0, duplicate: 3 });
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

  it('rebuilds session-only states from history with the current parameters, and keeps states with attempts from outside sessions', async () => {
    const U3 = '33333333-3333-4333-8333-333333333333';
    const S3 = '66666666-6666-4666-8666-666666666666';
    await addUsers(store, U3);
    await addSession(store, {
      id: S3,
      userId: U3,
      questions: [
        { answerId: crypto.randomUUID(), questionId: Q1, position: 1, snapshot: { concept_id: C1 }, correct: true, answeredAt: '2030-02-01T10:00:00Z' },
        { answerId: crypto.randomUUID(), questionId: Q2, position: 2, snapshot: { concept_id: C1 }, correct: true, answeredAt: '2030-02-01T10:01:00Z' },
      ],
    });
    await applySession(store, ADMIN_SCOPE, S3);
    expect((await store.getState(U3, C1))!.p_mastery).toBeCloseTo(updateMastery(updateMastery(0.1, true, APP), true, APP), 12);
    // Parameters change: the algo_params row now holds the built-in defaults (T .2, G .2).
    const driver = sqlDriverOf(store);
    await driver.run('UPDATE algo_params SET params_json = ? WHERE is_active = ?', [
      JSON.stringify({ default_L0: 0.1, default_T: 0.2, default_S: 0.1, default_G: 0.2 }),
      driver.dialect.bool(true),
    ]);
    const r = await rebuildStates(store, ADMIN_SCOPE, {});
    expect(r.states_rebuilt).toBe(1);
    expect(r.attempts_replayed).toBe(2);
    // U2's session states also hold attempts from single updates or files, whose outcomes are not
    // stored: kept. U1 has no session history: untouched.
    expect(r.states_kept.map((k) => `${k.user_id}|${k.concept_id}`).sort()).toEqual([`${U2}|${C1}`, `${U2}|${C2}`]);
    const s3 = (await store.getState(U3, C1))!;
    expect(s3.n_attempts).toBe(2);
    expect(s3.p_mastery).toBeCloseTo(updateMastery(updateMastery(0.1, true, BUILTIN), true, BUILTIN), 12);
    // Rebuilt attempts stay in the ledger: the session is still a no-op.
    expect(await applySession(store, ADMIN_SCOPE, S3)).toMatchObject({ applied: 0, duplicate: 2 });
  });
});
