/**
 * The update committer (group commit) on each backend: many concurrent attempts on the same and
 * on different states give exactly the responses and the stored states of a serial replay with
 * applyAttempt in arrival order; repeated keys apply once within a group and across groups; an
 * attempt of a missing user, a bad attempt, or one that fails its whole group's transaction
 * fails alone.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, ScopeError, UsageError } from '../../src/errors.js';
import { UpdateCommitter } from '../../src/mastery/update-committer.js';
import { applyAttempt, type SingleAttempt, type UpdateResult } from '../../src/mastery/update-service.js';
import { ADMIN_SCOPE, learnerScope } from '../../src/mastery/scope.js';
import { openStore } from '../../src/store/open-store.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import type { Store, StoreTransaction } from '../../src/store/store.js';
import { addUsers, createPostgresDb, createSqliteDb, postgresAvailable, type TestDb } from './backends.js';

const pgUp = await postgresAvailable();
const BACKENDS: { name: 'sqlite' | 'postgres'; create: () => Promise<TestDb> }[] = [
  { name: 'sqlite', create: createSqliteDb },
  ...(pgUp ? [{ name: 'postgres' as const, create: createPostgresDb }] : []),
];

const uuid = (prefix: string, i: number) => `${prefix}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const USERS = Array.from({ length: 6 }, (_, i) => uuid('11111111', i));
const CONCEPTS = Array.from({ length: 5 }, (_, i) => uuid('cccccccc', i));
const GHOST = uuid('99999999', 1);
const T0 = Date.parse('2026-01-21T12:00:00.000Z');

/**
 * A deterministic mix over few states (so groups hold several attempts of one state): mostly
 * increasing times, some earlier than their state's last (stale), some keys repeated (duplicate).
 */
function workload(n: number, seed: number): SingleAttempt[] {
  const out: SingleAttempt[] = [];
  let x = seed;
  const rand = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < n; i++) {
    const userId = USERS[Math.floor(rand() * USERS.length)];
    const conceptId = CONCEPTS[Math.floor(rand() * CONCEPTS.length)];
    const back = rand() < 0.15 ? 3_600_000 : 0;
    const repeat = i > 0 && rand() < 0.15 ? out[Math.floor(rand() * out.length)] : null;
    out.push(
      repeat ?? {
        userId,
        conceptId,
        correct: rand() < 0.6,
        questionId: uuid('aaaaaaaa', Math.floor(rand() * 40)),
        answeredAt: new Date(T0 + (seed * 10_000 + i) * 1000 - back).toISOString(),
        attemptKey: `k${seed}-${i}`,
      },
    );
  }
  return out;
}

/** The fields a caller compares: everything but the parameters' ids (equal by construction). */
const comparable = (r: UpdateResult) => ({ ...r, params_used: { ...r.params_used, algo_version_id: null } });

async function statesOf(store: Store) {
  return (await store.listStates()).map((s) => ({ u: s.user_id, c: s.concept_id, p: s.p_mastery, n: s.n_attempts, at: s.last_attempt_at, q: s.last_seen_question_id }));
}

async function ledgerOf(store: Store) {
  const rows = await sqlDriverOf(store).query<{ user_id: unknown; concept_id: unknown; attempt_key: unknown; answered_at: unknown; correct: unknown }>(
    'SELECT user_id, concept_id, attempt_key, answered_at, correct FROM bkt_attempt_ledger',
  );
  return rows
    .map((r) => {
      const at = r.answered_at instanceof Date ? r.answered_at.getTime() : Date.parse(String(r.answered_at));
      return `${String(r.user_id).toLowerCase()}|${String(r.concept_id).toLowerCase()}|${String(r.attempt_key)}|${at}|${Boolean(r.correct)}`;
    })
    .sort();
}

/** The store, counting its write transactions. */
function counting(store: Store): { store: Store; transactions: () => number } {
  let n = 0;
  const counted = Object.create(store) as Store;
  counted.withWriteTransaction = (fn) => {
    n += 1;
    return store.withWriteTransaction(fn);
  };
  return { store: counted, transactions: () => n };
}

describe.each(BACKENDS)('UpdateCommitter on $name', ({ create }) => {
  const dbs: TestDb[] = [];
  const stores: Store[] = [];
  async function freshStore(): Promise<Store> {
    const db = await create();
    dbs.push(db);
    const store = await openStore(db.db);
    stores.push(store);
    await addUsers(store, ...USERS);
    return store;
  }
  let grouped: Store;
  let serial: Store;
  beforeAll(async () => {
    grouped = await freshStore();
    serial = await freshStore();
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const d of dbs) await d.drop();
  });

  it('equals a serial replay in arrival order: 300 concurrent attempts on 30 states, then a second wave repeating keys of the first', async () => {
    // Arrange
    const first = workload(300, 1);
    const second = [...workload(100, 2), ...first.filter((_, i) => i % 7 === 0)];
    const { store, transactions } = counting(grouped);
    const committer = new UpdateCommitter(store);

    // Act: each wave all at once; the serial replay one by one, in the same order.
    const got = [...(await Promise.all(first.map((a) => committer.apply(ADMIN_SCOPE, a)))), ...(await Promise.all(second.map((a) => committer.apply(ADMIN_SCOPE, a))))];
    const want: UpdateResult[] = [];
    for (const a of [...first, ...second]) want.push(await applyAttempt(serial, ADMIN_SCOPE, a));

    // Assert
    expect(got.map(comparable)).toEqual(want.map(comparable));
    const outcomes = new Set(got.map((r) => r.outcome));
    expect([...outcomes].sort()).toEqual(['applied', 'duplicate', 'stale']);
    expect(got.filter((r, i) => i >= first.length + 100).every((r) => r.outcome === 'duplicate')).toBe(true);
    expect(await statesOf(grouped)).toEqual(await statesOf(serial));
    expect(await ledgerOf(grouped)).toEqual(await ledgerOf(serial));
    // Grouped: far fewer transactions than attempts.
    expect(transactions()).toBeLessThan((first.length + second.length) / 10);
  });

  it('with several groups in flight (maxInFlight 3), still equals a serial replay in arrival order', async () => {
    // Arrange: attempts arriving over several turns, so groups overlap on a busy store.
    const store = await freshStore();
    const reference = await freshStore();
    const committer = new UpdateCommitter(store, { maxInFlight: 3, maxGroupSize: 7 });
    const attempts = workload(150, 5);

    // Act
    const pending: Promise<UpdateResult>[] = [];
    for (let i = 0; i < attempts.length; i++) {
      pending.push(committer.apply(ADMIN_SCOPE, attempts[i]));
      if (i % 10 === 9) await new Promise((r) => setImmediate(r));
    }
    const got = await Promise.all(pending);
    const want: UpdateResult[] = [];
    for (const a of attempts) want.push(await applyAttempt(reference, ADMIN_SCOPE, a));

    // Assert
    expect(got.map(comparable)).toEqual(want.map(comparable));
    expect(await statesOf(store)).toEqual(await statesOf(reference));
    expect(await ledgerOf(store)).toEqual(await ledgerOf(reference));
  });

  it('applies one key sent many times at once exactly once; untimed attempts of one state get strictly increasing times', async () => {
    // Arrange
    const store = await freshStore();
    const committer = new UpdateCommitter(store);
    const same = { userId: USERS[0], conceptId: CONCEPTS[0], correct: true, attemptKey: 'once' };
    const untimed = Array.from({ length: 20 }, (_, i) => ({ userId: USERS[1], conceptId: CONCEPTS[1], correct: i % 2 === 0 }));

    // Act
    const results = await Promise.all([...Array.from({ length: 10 }, () => committer.apply(ADMIN_SCOPE, same)), ...untimed.map((a) => committer.apply(ADMIN_SCOPE, a))]);

    // Assert
    const keyed = results.slice(0, 10);
    expect(keyed.map((r) => r.outcome)).toEqual(['applied', ...Array(9).fill('duplicate')]);
    expect((await store.getState(USERS[0], CONCEPTS[0]))?.n_attempts).toBe(1);
    const stamped = results.slice(10);
    expect(stamped.map((r) => r.n_attempts)).toEqual(untimed.map((_, i) => i + 1));
    const times = stamped.map((r) => Date.parse(r.answered_at));
    expect(times.every((t, i) => i === 0 || t > times[i - 1])).toBe(true);
    expect(new Set(stamped.map((r) => r.attempt_key)).size).toBe(untimed.length);
  });

  it('fails only the bad attempt of a group: a missing user (NotFoundError), a bad id (UsageError), another learner (ScopeError)', async () => {
    // Arrange
    const store = await freshStore();
    const committer = new UpdateCommitter(store);
    const good = workload(40, 3);

    // Act
    const settled = await Promise.allSettled([
      ...good.slice(0, 20).map((a) => committer.apply(ADMIN_SCOPE, a)),
      committer.apply(ADMIN_SCOPE, { userId: GHOST, conceptId: CONCEPTS[0], correct: true, attemptKey: 'ghost' }),
      committer.apply(ADMIN_SCOPE, { userId: 'not-a-uuid', conceptId: CONCEPTS[0], correct: true }),
      committer.apply(learnerScope(USERS[0]), { userId: USERS[1], conceptId: CONCEPTS[0], correct: true }),
      ...good.slice(20).map((a) => committer.apply(ADMIN_SCOPE, a)),
    ]);

    // Assert
    const reasons = settled.slice(20, 23).map((s) => (s.status === 'rejected' ? s.reason : s.value));
    expect(reasons[0]).toBeInstanceOf(NotFoundError);
    expect((reasons[0] as Error).message).toMatch(new RegExp(`^user ${GHOST}: not in the users table`));
    expect(reasons[1]).toBeInstanceOf(UsageError);
    expect(reasons[2]).toBeInstanceOf(ScopeError);
    const others = [...settled.slice(0, 20), ...settled.slice(23)];
    expect(others.every((s) => s.status === 'fulfilled')).toBe(true);
    const applied = others.filter((s) => s.status === 'fulfilled' && s.value.outcome === 'applied').length;
    expect(await store.countRows('bkt_attempt_ledger')).toBe(others.filter((s) => s.status === 'fulfilled' && s.value.outcome !== 'duplicate').length);
    expect((await store.listStates()).reduce((n, s) => n + s.n_attempts, 0)).toBe(applied);
    expect((await store.listStates()).some((s) => s.user_id === GHOST)).toBe(false);
  });

  it('when a group transaction fails, retries each attempt alone: only the attempt that fails is rejected, the rest equal a serial replay', async () => {
    // Arrange: a store whose ledger write fails for one attempt key, as a database error would.
    const store = await freshStore();
    const reference = await freshStore();
    const failing = Object.create(store) as Store;
    failing.withWriteTransaction = (fn) =>
      store.withWriteTransaction((tx) => {
        const wrapped = Object.create(tx) as StoreTransaction;
        wrapped.recordAttempts = async (rows) => {
          if (rows.some((r) => r.attempt_key === 'poison')) throw new Error('simulated database failure');
          return tx.recordAttempts(rows);
        };
        return fn(wrapped);
      });
    const committer = new UpdateCommitter(failing);
    const attempts = workload(30, 4);
    const poison = { userId: USERS[2], conceptId: CONCEPTS[2], correct: true, answeredAt: new Date(T0).toISOString(), attemptKey: 'poison' };
    const all = [...attempts.slice(0, 15), poison, ...attempts.slice(15)];

    // Act
    const settled = await Promise.allSettled(all.map((a) => committer.apply(ADMIN_SCOPE, a)));
    const want: UpdateResult[] = [];
    for (const a of attempts) want.push(await applyAttempt(reference, ADMIN_SCOPE, a));

    // Assert
    expect(settled[15].status).toBe('rejected');
    // PostgreSQL's driver reports it as a StorageError naming the database and the cause.
    expect((settled[15] as PromiseRejectedResult).reason.message).toContain('simulated database failure');
    const rest = [...settled.slice(0, 15), ...settled.slice(16)];
    expect(rest.every((s) => s.status === 'fulfilled')).toBe(true);
    expect(rest.map((s) => comparable((s as PromiseFulfilledResult<UpdateResult>).value))).toEqual(want.map(comparable));
    expect(await statesOf(store)).toEqual(await statesOf(reference));
  });

  it('writes a snapshot per applied attempt that asks for one, with the state that attempt left', async () => {
    // Arrange
    const store = await freshStore();
    const committer = new UpdateCommitter(store);
    const a = (i: number) => ({ userId: USERS[3], conceptId: CONCEPTS[3], correct: i !== 1, answeredAt: new Date(T0 + i * 1000).toISOString(), attemptKey: `s${i}` });

    // Act
    const results = await Promise.all([committer.apply(ADMIN_SCOPE, a(0), { snapshot: true }), committer.apply(ADMIN_SCOPE, a(1)), committer.apply(ADMIN_SCOPE, a(2), { snapshot: true }), committer.apply(ADMIN_SCOPE, a(2), { snapshot: true })]);

    // Assert
    expect(results.map((r) => [r.outcome, r.snapshot_created])).toEqual([
      ['applied', true],
      ['applied', false],
      ['applied', true],
      ['duplicate', false],
    ]);
    const rows = await sqlDriverOf(store).query<{ p_mastery: unknown; n_attempts: unknown }>('SELECT p_mastery, n_attempts FROM mastery_snapshot ORDER BY n_attempts');
    expect(rows.map((r) => [Number(r.p_mastery), Number(r.n_attempts)])).toEqual([
      [results[0].p_mastery_new, 1],
      [results[2].p_mastery_new, 3],
    ]);
  });
});

describe.runIf(pgUp)('UpdateCommitter on postgres: round trips of a group', () => {
  it('commits a group of new and existing states, with a missing user among them, in two round trips: the missing user fails alone and leaves no row', async () => {
    // Arrange: one state exists, the rest are new (placeholders), and a user is missing.
    const db = await createPostgresDb();
    const store = await openStore(db.db);
    try {
      await addUsers(store, ...USERS);
      const committer = new UpdateCommitter(store);
      await committer.apply(ADMIN_SCOPE, { userId: USERS[0], conceptId: CONCEPTS[0], correct: true, attemptKey: 'before' });
      const attempts = USERS.map((userId, i) => ({ userId, conceptId: CONCEPTS[i % CONCEPTS.length], correct: i % 2 === 0, attemptKey: `g${i}` }));
      const queries = pg.Client.prototype.query;
      let sent = 0;
      pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
        sent += 1;
        return (queries as (...a: unknown[]) => unknown).apply(this, args);
      } as typeof queries;

      // Act: all in one turn of the event loop, so one group.
      let settled: PromiseSettledResult<UpdateResult>[];
      try {
        settled = await Promise.allSettled([
          committer.apply(ADMIN_SCOPE, { userId: GHOST, conceptId: CONCEPTS[1], correct: true, attemptKey: 'ghost' }),
          ...attempts.map((a) => committer.apply(ADMIN_SCOPE, a)),
        ]);
      } finally {
        pg.Client.prototype.query = queries;
      }

      // Assert
      expect(sent).toBe(2);
      expect(settled[0].status === 'rejected' && settled[0].reason).toBeInstanceOf(NotFoundError);
      expect(settled.slice(1).map((s) => s.status === 'fulfilled' && s.value.outcome)).toEqual(attempts.map(() => 'applied'));
      expect((await store.getState(USERS[0], CONCEPTS[0]))?.n_attempts).toBe(2);
      expect(await store.countRows('bkt_user_skill_state')).toBe(USERS.length);
      expect(await store.countRows('bkt_attempt_ledger')).toBe(USERS.length + 1);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
