/**
 * The Store contract: one body, run against SQLite (temp file) and PostgreSQL (fresh database per
 * test at 127.0.0.1:5432). Every guarantee store.ts states is checked here on both backends.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { NotFoundError, StorageError } from '../../src/errors.js';
import { integerToUuid, toUuid } from '../../src/store/ids.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import type { SqlStore } from '../../src/store/sql-store.js';
import { labelJoin, withLabelsOf } from '../../src/store/labels.js';
import { statesQuery } from '../../src/store/mastery-state.js';
import { BACKENDS, driverOf as driverOfSync, exec, migratedStore, postgresAvailable, tableCounts, type EmptyDb } from './backends.js';

const pgOk = await postgresAvailable();

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const C1 = 'c1c1c1c1-0000-4000-8000-000000000001';
const C2 = 'c2c2c2c2-0000-4000-8000-000000000002';
const C3 = 'c3c3c3c3-0000-4000-8000-000000000003';
const P = { p_L0: 0.2, p_T: 0.15, p_S: 0.1, p_G: 0.2 };

/** Each learner-concept sequence as "concept|learner" -> "0110...". */
function sequences(table: AttemptsTable, map: (id: string) => string = (x) => x): Map<string, string> {
  const out = new Map<string, string>();
  for (let s = 0; s + 1 < table.sequenceStart.length; s++) {
    const a = table.sequenceStart[s];
    const b = table.sequenceStart[s + 1];
    out.set(`${map(table.conceptIds[table.concept[a]])}|${map(table.learnerIds[table.learner[a]])}`, Array.from(table.correct.subarray(a, b)).join(''));
  }
  return out;
}

function buildTable(rows: [learner: string, concept: string, correct: 0 | 1, time: number][]): AttemptsTable {
  const b = new AttemptsTableBuilder();
  for (const [l, c, y, t] of rows) b.add(l, c, y, t, Number.NaN, null);
  return b.build();
}

let counter = 0;
const uuidN = () => integerToUuid(0xabc000 + ++counter);

/** One app session with its questions and answers, written straight into the app's tables. */
async function addSession(
  store: Store,
  user: string,
  status: 'ACTIVE' | 'SUBMITTED' | 'EXPIRED',
  submittedAt: string | null,
  answers: { snapshot: unknown; correct: boolean | null; at: string | null; raw?: string }[],
): Promise<string> {
  const session = uuidN();
  await exec(store, 'INSERT INTO test_sessions (id, user_id, status, submitted_at) VALUES (?, ?, ?, ?)', [session, user, status, submittedAt]);
  let position = 0;
  for (const a of answers) {
    const question = uuidN();
    position++;
    await exec(store, 'INSERT INTO session_questions (id, session_id, position, question_id, snapshot_json) VALUES (?, ?, ?, ?, ?)', [
      uuidN(),
      session,
      position,
      question,
      a.raw !== undefined ? a.raw : a.snapshot === null ? null : JSON.stringify(a.snapshot),
    ]);
    await exec(store, 'INSERT INTO session_answers (id, session_id, question_id, is_correct, answered_at) VALUES (?, ?, ?, ?, ?)', [
      uuidN(),
      session,
      question,
      a.correct,
      a.at,
    ]);
  }
  return session;
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`Store contract on ${backend.name}`, () => {
    const open: Store[] = [];
    const dbs: EmptyDb[] = [];
    const fresh = async () => {
      const empty = await backend.create();
      dbs.push(empty);
      return empty;
    };
    const track = (s: Store) => {
      open.push(s);
      return s;
    };
    const freshStore = async () => track(await migratedStore((await fresh()).db));
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
      for (const d of dbs.splice(0)) await d.drop();
    });

    describe('migrate and check', () => {
      it('creates everything once; a second migrate creates nothing and seeds nothing twice', async () => {
        const { db } = await fresh();
        const store = track(await openStore(db, { mode: 'migrate' }));
        const first = await store.migrate();
        expect(first.created).toContain('table bkt_skill_params');
        expect(first.created).toContain('index idx_bkt_user_skill_state_last_attempt');
        expect(first.created).toContain('table bkt_attempt_ledger');
        expect(first.created).toContain('row algo_versions bkt v1');
        const second = await store.migrate();
        expect(second.created).toEqual([]);
        expect(await store.countRows('algo_versions')).toBe(1);
        expect(await store.countRows('algo_params')).toBe(1);
        const v = await store.algoVersion();
        expect(v).toMatchObject({ key: 'bkt', version: 'v1' });
        expect(v?.algo_params_id).toMatch(/^[0-9a-f-]{36}$/);
      });

      it('three migrations at once make everything once (the others wait, then find it made)', async () => {
        const { db } = await fresh();
        const stores = [track(await openStore(db, { mode: 'migrate' })), track(await openStore(db, { mode: 'migrate' })), track(await openStore(db, { mode: 'migrate' }))];
        const results = await Promise.all(stores.map((store) => store.migrate()));
        const created = results.flatMap((r) => r.created);
        expect(created.filter((c) => c === 'table bkt_skill_params')).toHaveLength(1);
        expect(created.filter((c) => c === 'row algo_versions bkt v1')).toHaveLength(1);
        expect(await stores[0].check()).toEqual([]);
        expect(await stores[0].countRows('algo_versions')).toBe(1);
        expect(await stores[0].countRows('algo_params')).toBe(1);
      });

      it('check() is clean after migrate', async () => {
        const store = await freshStore();
        expect(await store.check()).toEqual([]);
      });

      it('check() reports a dropped index and a tampered column, each by name', async () => {
        const { db } = await fresh();
        // The "app" made users.role nullable TEXT before bkt came along.
        const raw = track(await openStore(db, { mode: 'migrate' }));
        await raw.migrate();
        await exec(raw, 'DROP INDEX idx_bkt_skill_params_fitted_at');
        const diffs = await raw.check();
        expect(diffs).toContainEqual(expect.objectContaining({ table: 'bkt_skill_params', object: 'idx_bkt_skill_params_fitted_at', kind: 'missing_index' }));
        expect(diffs).toHaveLength(1);
        // migrate puts the missing index back and check is clean again.
        expect((await raw.migrate()).created).toEqual(['index idx_bkt_skill_params_fitted_at']);
        expect(await raw.check()).toEqual([]);
      });

      it("leaves an existing app table as it is (extra columns, rows, a different type) and reports the difference", async () => {
        const { db } = await fresh();
        const store = track(await openStore(db, { mode: 'migrate' }));
        await exec(store, `CREATE TABLE users (id ${uuidType(store)} PRIMARY KEY, role TEXT, email TEXT)`);
        await exec(store, "INSERT INTO users (id, role, email) VALUES (?, 'ADMIN', 'a@example.org')", [U1]);
        await store.migrate();
        expect(await store.countRows('users')).toBe(1);
        // The extra column and the row are still there.
        expect(await exec(store, "UPDATE users SET email = 'b@example.org' WHERE id = ?", [U1])).toBe(1);
        const diffs = await store.check();
        expect(diffs.map((d) => `${d.table}.${d.object}:${d.kind}`)).toEqual(expect.arrayContaining(['users.role:nullability']));
        expect(diffs.every((d) => d.table === 'users')).toBe(true);
      });

      it('refuses to open a database without its tables (mode use) with exit 5 naming migrate', async () => {
        const { db } = await fresh();
        const raw = track(await openStore(db, { mode: 'migrate' }));
        await raw.close();
        open.pop();
        const error = await openStore(db).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StorageError);
        expect((error as StorageError).exitCode).toBe(5);
        expect((error as StorageError).toLine()).toMatch(/missing table\(s\) users, .*bkt db migrate/);
      });
    });

    describe('attempts', () => {
      it('imports a hand-made table and reads back the same sequences, ids mapped as documented', async () => {
        const store = await freshStore();
        const t0 = Date.parse('2026-01-01T10:00:00Z');
        const table = buildTable([
          ['alice', '7', 1, t0],
          ['alice', '7', 0, t0 + 1000],
          ['alice', C1, 1, t0 + 500],
          ['10', '7', 0, t0 + 2000],
          ['10', '7', 1, t0 + 3000],
          ['alice', '7', 1, t0 + 4000],
        ]);
        const result = await store.importAttempts(table);
        expect(result).toMatchObject({ already_imported: false, users: 2, answers: 6 });
        const read = await store.readAttempts();
        expect(read.skipped).toEqual({ unanswered: 0, no_concept: 0 });
        expect(read.rows_read).toBe(6);
        const got = sequences(read.table);
        expect(got.get(`${integerToUuid(7)}|${toUuid('alice')}`)).toBe('101');
        expect(got.get(`${C1}|${toUuid('alice')}`)).toBe('1');
        expect(got.get(`${integerToUuid(7)}|${integerToUuid(10)}`)).toBe('01');
        expect(integerToUuid(10)).toBe('00000000-0000-0000-0000-00000000000a');
        // Times survive with millisecond precision.
        expect(Array.from(read.table.time ?? []).sort()).toEqual([t0, t0 + 500, t0 + 1000, t0 + 2000, t0 + 3000, t0 + 4000].sort());
      });

      it('keeps the ids of the file that were not UUIDs as labels, and reads them by any spelling', async () => {
        const store = await freshStore();
        const result = await store.importAttempts(
          buildTable([
            ['alice', 'Long division', 1, Number.NaN],
            ['17', 'Long division', 0, Number.NaN],
            [U1, C1, 1, Number.NaN],
            ['alice', '7', 1, Number.NaN],
          ]),
        );
        // Concepts "Long division" and "7", learners "alice" and "17"; the UUIDs C1 and U1 need none.
        expect(result.labels).toBe(4);
        expect(await store.labels('concept')).toEqual(
          new Map([
            [toUuid('Long division'), 'Long division'],
            [integerToUuid(7), '7'],
          ]),
        );
        const users = await store.labels('user', ['alice', integerToUuid(17), U1]);
        expect(users).toEqual(
          new Map([
            [toUuid('alice'), 'alice'],
            [integerToUuid(17), '17'],
          ]),
        );
        expect(await store.labels('concept', [C1])).toEqual(new Map());
        // A database migrated before labels existed: no labels, no error.
        await exec(store, 'DROP TABLE bkt_labels');
        expect(await store.labels('concept')).toEqual(new Map());
      });

      it('streams params, states and snapshots with their labels joined, and without them as before', async () => {
        const store = await freshStore();
        await store.importAttempts(
          buildTable([
            ['alice', 'Long division', 1, Number.NaN],
            [U1, C1, 1, Number.NaN],
          ]),
        );
        const alice = toUuid('alice');
        const division = toUuid('Long division');
        for (const concept of [division, C1]) await store.saveParams({ concept_id: concept, params: P }, { activate: true, constraints: {}, metrics: {} });
        await store.withWriteTransaction(async (tx) => {
          for (const [user, concept] of [[alice, division], [U1, C1], [U1, division]]) {
            const state = { user_id: user, concept_id: concept, p_mastery: 0.5, n_attempts: 1, last_attempt_at: null, last_seen_question_id: null, algo_version_id: null };
            await tx.upsertState(state);
            await tx.insertSnapshot({ user_id: user, concept_id: concept, p_mastery: 0.5, n_attempts: 1, algo_version_id: null });
          }
        });
        const collect = async <T>(rows: AsyncIterable<T>) => {
          const out: T[] = [];
          for await (const r of rows) out.push(r);
          return out;
        };
        const labelsOf = (rows: { user_id?: string; concept_id: string; user_label?: string | null; concept_label?: string | null }[]) =>
          rows.map((r) => [r.user_id ?? '', r.concept_id, r.user_label, r.concept_label].join('|')).sort();
        const params = await collect(store.streamParams({ labels: true }));
        expect(labelsOf(params)).toEqual([`|${C1}||`, `|${division}||Long division`].sort());
        expect(params.find((r) => r.concept_id === C1)).toMatchObject({ concept_label: null });
        const expected = [`${U1}|${C1}||`, `${U1}|${division}||Long division`, `${alice}|${division}|alice|Long division`].sort();
        expect(labelsOf(await collect(store.streamStates({ labels: true })))).toEqual(expected);
        expect(labelsOf(await collect(store.streamSnapshots({ labels: true })))).toEqual(expected);
        // Filters still apply to the joined read, and the row keeps every column.
        const [one] = await collect(store.streamStates({ labels: true, userId: alice }));
        expect(one).toMatchObject({ user_id: alice, user_label: 'alice', concept_id: division, concept_label: 'Long division', p_mastery: 0.5, n_attempts: 1 });
        expect(Object.keys(one)).toEqual([...Object.keys((await store.listStates({ userId: alice }))[0]), 'concept_label', 'user_label']);
        // Without the option the rows are the table's columns only.
        expect((await collect(store.streamStates({})))[0]).not.toHaveProperty('concept_label');
        // Past the lookup limit the labels are joined in the statement instead: the same rows.
        const sqlStore = store as SqlStore;
        const joined = await labelJoin(sqlStore, { alias: 't', concept: 'concept_id', user: 'user_id' }, 0);
        expect(joined.lookups).toEqual({});
        expect(joined.joins).toMatch(/LEFT JOIN bkt_labels l_concept .* LEFT JOIN bkt_labels l_user/);
        const looked = await labelJoin(sqlStore, { alias: 't', concept: 'concept_id', user: 'user_id' });
        expect([looked.joins, Object.keys(looked.lookups).sort()]).toEqual(['', ['concept', 'user']]);
        for (const labels of [joined, looked]) {
          const q = statesQuery(sqlStore, {}, labels);
          const rows = (await sqlStore.driver.query(q.sql, q.params)).map((raw) => withLabelsOf({ user_id: String(raw.user_id), concept_id: String(raw.concept_id) }, raw, labels, true));
          expect(labelsOf(rows)).toEqual(expected);
        }
        // A database migrated before labels: the labels read as null, nothing fails.
        await exec(store, 'DROP TABLE bkt_labels');
        expect(labelsOf(await collect(store.streamStates({ labels: true })))).toEqual(expected.map((x) => x.split('|').slice(0, 2).join('|') + '||'));
      });

      it('starts a new session when a learner repeats a question, and keeps question ids on request', async () => {
        const store = await freshStore();
        const b = new AttemptsTableBuilder();
        const t0 = Date.parse('2026-02-01T08:00:00Z');
        b.add('ann', 'k', 1, t0, Number.NaN, 'q1');
        b.add('ann', 'k', 0, t0 + 1000, Number.NaN, 'q2');
        b.add('ann', 'k', 1, t0 + 2000, Number.NaN, 'q1');
        b.add('ben', 'k', 1, t0 + 500, Number.NaN, 'q1');
        const result = await store.importAttempts(b.build());
        expect(result).toMatchObject({ sessions: 3, answers: 4 });
        const read = await store.readAttempts({ includeQuestions: true });
        expect(sequences(read.table).get(`${toUuid('k')}|${toUuid('ann')}`)).toBe('101');
        expect(new Set(read.table.questionIds)).toEqual(new Set([toUuid('q1'), toUuid('q2')]));
        const q = read.table.question!;
        const annRows = [0, 1, 2, 3].filter((r) => read.table.learnerIds[read.table.learner[r]] === toUuid('ann'));
        expect(annRows.map((r) => read.table.questionIds[q[r]])).toEqual([toUuid('q1'), toUuid('q2'), toUuid('q1')]);
        expect((await store.readAttempts()).table.question).toBeNull();
      });

      it('imports the same content twice without writing anything the second time', async () => {
        const store = await freshStore();
        const table = buildTable([['a', 'k', 1, Number.NaN], ['a', 'k', 0, Number.NaN], ['b', 'k', 1, Number.NaN]]);
        await store.importAttempts(table);
        const before = await tableCounts(store);
        const again = await store.importAttempts(buildTable([['a', 'k', 1, Number.NaN], ['a', 'k', 0, Number.NaN], ['b', 'k', 1, Number.NaN]]));
        expect(again.already_imported).toBe(true);
        expect(await tableCounts(store)).toEqual(before);
        // Without times, file order per learner and concept is kept.
        expect(sequences((await store.readAttempts()).table).get(`${toUuid('k')}|${toUuid('a')}`)).toBe('10');
      });

      it('round-trips random tables (property)', async () => {
        const store = await freshStore();
        const rowArb = fc.tuple(fc.constantFrom('u1', 'u2', '3', 'bob'), fc.constantFrom('7', '8', C2), fc.constantFrom<0 | 1>(0, 1));
        await fc.assert(
          fc.asyncProperty(fc.array(rowArb, { minLength: 1, maxLength: 40 }), async (rows) => {
            // Arrange: a clean set of app tables.
            for (const t of ['session_answers', 'session_questions', 'test_sessions']) await exec(store, `DELETE FROM ${t}`);
            const table = buildTable(rows.map(([l, c, y], i) => [l, c, y, Date.UTC(2026, 0, 1) + i * 1000]));
            // Act
            await store.importAttempts(table);
            const read = await store.readAttempts();
            // Assert: every sequence comes back in order.
            expect(sequences(read.table)).toEqual(sequences(table, toUuid));
          }),
          { numRuns: backend.name === 'postgres' ? 8 : 25 },
        );
      });

      it('reads many sessions (PostgreSQL: in two parts by session id) exactly as imported', async () => {
        const store = await freshStore();
        // Arrange: 60 learners (one session each, so both of PostgreSQL's parts hold some), 3 concepts, times shuffled.
        const rows: [string, string, 0 | 1, number][] = [];
        for (let l = 0; l < 60; l++) {
          for (let k = 0; k < 12; k++) rows.push([`learner-${l}`, `c${(l + k) % 3}`, ((l * 7 + k * 3) % 5 < 3 ? 1 : 0) as 0 | 1, Date.UTC(2026, 0, 1) + ((k * 37) % 12) * 60_000]);
        }
        const table = buildTable(rows);
        await store.importAttempts(table);
        // Act
        const read = await store.readAttempts();
        // Assert: every sequence, in time order; concepts in id order.
        expect(read.rows_read).toBe(rows.length);
        expect(sequences(read.table)).toEqual(sequences(table, toUuid));
        expect(read.table.conceptIds).toEqual([...read.table.conceptIds].sort());
        // With a concept filter and a window (parameters beside the parts' bounds), the same sequences cut down.
        const from = Date.UTC(2026, 0, 1) + 4 * 60_000;
        const c1 = buildTable(rows.filter(([, c, , t]) => c === 'c1' && t >= from));
        const cut = await store.readAttempts({ conceptIds: ['c1'], fromDate: new Date(from).toISOString() });
        expect(sequences(cut.table)).toEqual(sequences(c1, toUuid));
      });

      it('merge-joins answers to questions where both have their (session_id, question_id) index, hash-joins where not, and reads the same', async () => {
        const store = await freshStore();
        const rows: [string, string, 0 | 1, number][] = [];
        for (let l = 0; l < 40; l++) {
          for (let k = 0; k < 9; k++) rows.push([`learner-${l}`, `c${(l * k) % 4}`, ((l + k) % 3 ? 1 : 0) as 0 | 1, Date.UTC(2026, 0, 2) + ((k * 5) % 9) * 60_000]);
        }
        const table = buildTable(rows);
        await store.importAttempts(table);
        const sql = store as unknown as SqlStore;
        // Act: read with the schema's indexes, then without session_answers' unique index.
        const indexed = await sql.sessionJoinIndexed();
        const merged = await store.readAttempts();
        if (backend.name === 'postgres') await exec(store, 'ALTER TABLE session_answers DROP CONSTRAINT uq_session_answer');
        const unindexed = await sql.sessionJoinIndexed();
        const hashed = await store.readAttempts();
        // Assert: PostgreSQL plans the merge join only with both indexes (SQLite never: its
        // join is its own); the attempts read are the same either way.
        expect(indexed).toBe(backend.name === 'postgres');
        expect(unindexed).toBe(false);
        expect(sequences(merged.table)).toEqual(sequences(table, toUuid));
        expect(sequences(hashed.table)).toEqual(sequences(merged.table));
        expect(hashed.rows_read).toBe(merged.rows_read);
      });

      it('counts an answer once per concept of concept_id and concept_ids, skips and counts the rest', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?), (?)', [U1, U2]);
        await addSession(store, U1, 'SUBMITTED', '2026-01-02T00:00:00.000Z', [
          { snapshot: { concept_id: C1 }, correct: true, at: '2026-01-01T10:00:00.000Z' },
          { snapshot: { concept_ids: [C1, C2] }, correct: false, at: '2026-01-01T10:01:00.000Z' },
          { snapshot: { concept_id: C2, concept_ids: [C2, C3] }, correct: true, at: '2026-01-01T10:02:00.000Z' },
          { snapshot: { concept_id: C1 }, correct: null, at: null },
          { snapshot: null, correct: true, at: '2026-01-01T10:03:00.000Z' },
          { snapshot: { other: 1 }, correct: false, at: '2026-01-01T10:04:00.000Z' },
        ]);
        await addSession(store, U2, 'EXPIRED', null, [{ snapshot: { concept_id: C1.toUpperCase() }, correct: true, at: '2026-01-03T10:00:00.000Z' }]);
        await addSession(store, U2, 'ACTIVE', null, [{ snapshot: { concept_id: C1 }, correct: false, at: '2026-01-03T11:00:00.000Z' }]);

        const read = await store.readAttempts();
        expect(read.skipped).toEqual({ unanswered: 1, no_concept: 2 });
        const got = sequences(read.table);
        expect(got.get(`${C1}|${U1}`)).toBe('10');
        expect(got.get(`${C2}|${U1}`)).toBe('01');
        expect(got.get(`${C3}|${U1}`)).toBe('1');
        expect(got.get(`${C1}|${U2}`)).toBe('1'); // EXPIRED counts, ACTIVE does not
        expect(read.table.length).toBe(6);

        const only = await store.readAttempts({ conceptIds: [C2] });
        expect(sequences(only.table)).toEqual(new Map([[`${C2}|${U1}`, '01']]));
        expect(only.skipped.no_concept).toBe(2);

        const window = await store.readAttempts({ fromDate: '2026-01-01T10:01:00Z', toDate: '2026-01-01' });
        expect(sequences(window.table).get(`${C1}|${U1}`)).toBe('0');
        expect(window.table.conceptIds).not.toContain(undefined);
        expect(sequences(window.table).has(`${C1}|${U2}`)).toBe(false);
      });

      it('a concept filter keeps snapshots that write the UUID in upper case, and skips unreadable ones', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        await addSession(store, U1, 'SUBMITTED', '2026-01-02T00:00:00.000Z', [
          { snapshot: { concept_id: C1.toUpperCase() }, correct: true, at: '2026-01-01T10:00:00.000Z' },
          { snapshot: { concept_ids: [C2.toUpperCase(), C1.toUpperCase()] }, correct: false, at: '2026-01-01T10:01:00.000Z' },
          // SQLite stores the snapshot as text, which may not be JSON at all (PostgreSQL's jsonb refuses it).
          ...(backend.name === 'sqlite' ? [{ snapshot: null, raw: '{"concept_id": "', correct: true, at: '2026-01-01T10:02:00.000Z' }] : []),
        ]);
        const all = await store.readAttempts();
        const only = await store.readAttempts({ conceptIds: [C1] });
        expect(sequences(all.table).get(`${C1}|${U1}`)).toBe('10');
        expect(sequences(only.table)).toEqual(new Map([[`${C1}|${U1}`, '10']]));
        const unreadable = backend.name === 'sqlite' ? 1 : 0;
        expect(all.skipped.no_concept).toBe(unreadable);
        expect(only.skipped.no_concept).toBe(unreadable);
      });

      it('orders by answered_at, then submitted_at, then position', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        // Second session submitted earlier: with equal (null) answer times its answers come first.
        await addSession(store, U1, 'SUBMITTED', '2026-01-05T00:00:00.000Z', [
          { snapshot: { concept_id: C1 }, correct: true, at: null },
          { snapshot: { concept_id: C1 }, correct: true, at: null },
        ]);
        await addSession(store, U1, 'SUBMITTED', '2026-01-04T00:00:00.000Z', [
          { snapshot: { concept_id: C1 }, correct: false, at: null },
          { snapshot: { concept_id: C1 }, correct: true, at: null },
        ]);
        await addSession(store, U1, 'SUBMITTED', '2026-01-09T00:00:00.000Z', [{ snapshot: { concept_id: C1 }, correct: false, at: '2026-01-01T00:00:00.000Z' }]);
        expect(sequences((await store.readAttempts()).table).get(`${C1}|${U1}`)).toBe('00111');
      });

      it('uses questions.concept_id only when asked', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        const session = await addSession(store, U1, 'SUBMITTED', '2026-01-05T00:00:00.000Z', [{ snapshot: {}, correct: true, at: null }]);
        const q = await driverQuestion(store, session);
        await exec(store, 'INSERT INTO questions (id, concept_id) VALUES (?, 10)', [q]);
        expect((await store.readAttempts()).skipped.no_concept).toBe(1);
        const withFallback = await store.readAttempts({ questionsFallback: true });
        expect(withFallback.table.conceptIds).toEqual(['00000000-0000-0000-0000-00000000000a']);
      });

      it('an import that fails leaves every table as it was', async () => {
        const { db } = await fresh();
        const store = track(await openStore(db, { mode: 'migrate' }));
        // The app's users table has a NOT NULL column bkt cannot fill.
        await exec(store, `CREATE TABLE users (id ${uuidType(store)} PRIMARY KEY, role VARCHAR(50) NOT NULL DEFAULT 'student', email TEXT NOT NULL)`);
        await store.migrate();
        const before = await tableCounts(store);
        await expect(store.importAttempts(buildTable([['a', 'k', 1, Number.NaN], ['b', 'k', 0, Number.NaN]]))).rejects.toBeInstanceOf(StorageError);
        expect(await tableCounts(store)).toEqual(before);
      });
    });

    describe('parameters', () => {
      it('activation leaves exactly one active row per concept and keeps the history', async () => {
        const store = await freshStore();
        const a = await store.saveParams({ concept_id: C1, params: P }, { activate: true, constraints: { L0_min: 0.001 }, metrics: { auc: 0.7 } });
        const b = await store.saveParams({ concept_id: C1, params: { ...P, p_T: 0.3 } }, { activate: true, constraints: {}, metrics: {} });
        const c = await store.saveParams({ concept_id: C1, params: P }, { activate: false, constraints: {}, metrics: {}, dataFrom: '2026-01-01', dataTo: '2026-02-01T00:00:00Z' });
        const active = await store.listParams({ conceptIds: [C1] });
        expect(active.map((r) => r.id)).toEqual([b.id]);
        const all = await store.listParams({ conceptIds: [C1], all: true });
        expect(all.map((r) => r.id).sort()).toEqual([a.id, b.id, c.id].sort());
        expect(a).toMatchObject({ constraints_applied: { L0_min: 0.001 }, metrics: { auc: 0.7 }, is_active: true, p_L0: 0.2 });
        expect(c.fitted_on_data_from).toBe('2026-01-01T00:00:00.000Z');
        expect(c.fitted_on_data_to).toBe('2026-02-01T00:00:00.000Z');
        expect(c.fitted_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect((await store.getActiveParams(C1))?.id).toBe(b.id);
      });

      it('two concurrent activations of one concept leave exactly one active row', async () => {
        const { db } = await fresh();
        const setup = track(await migratedStore(db));
        for (let round = 0; round < 5; round++) {
          const s1 = track(await openStore(db));
          const s2 = track(await openStore(db));
          const [x, y] = await Promise.all([
            s1.saveParams({ concept_id: C2, params: P }, { activate: true, constraints: {}, metrics: {} }),
            s2.saveParams({ concept_id: C2, params: P }, { activate: true, constraints: {}, metrics: {} }),
          ]);
          const active = await setup.listParams({ conceptIds: [C2] });
          expect(active).toHaveLength(1);
          expect([x.id, y.id]).toContain(active[0].id);
        }
        expect(await setup.listParams({ conceptIds: [C2], all: true })).toHaveLength(10);
      });

      it('activateParams rolls back to an earlier set; an unknown id is NotFound (exit 4)', async () => {
        const store = await freshStore();
        const old = await store.saveParams({ concept_id: C1, params: P }, { activate: true, constraints: {}, metrics: {} });
        const now = await store.saveParams({ concept_id: C1, params: { ...P, p_G: 0.3 } }, { activate: true, constraints: {}, metrics: {} });
        const back = await store.activateParams(old.id);
        expect(back.is_active).toBe(true);
        expect((await store.getParams(now.id))?.is_active).toBe(false);
        expect((await store.listParams({ conceptIds: [C1] })).map((r) => r.id)).toEqual([old.id]);
        const missing = store.activateParams('99999999-9999-4999-8999-999999999999');
        await expect(missing).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.activateParams('99999999-9999-4999-8999-999999999999')).rejects.toMatchObject({ exitCode: 4 });
      });

      it('resolves parameters: active fit, else algo_params defaults key by key, else built-in', async () => {
        const store = await freshStore();
        const seeded = await store.resolveParams(C3);
        expect(seeded).toMatchObject({ is_default: true, source: 'algo_params', params_id: null, params: { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 } });
        expect(seeded.algo_version_id).toBe((await store.algoVersion())?.algo_version_id);

        // The app's own row: L0 0.1, T 0.1, S 0.1, G 0.25, with default_G missing -> built-in 0.2.
        await exec(store, 'UPDATE algo_params SET params_json = ?', [JSON.stringify({ default_L0: 0.1, default_T: 0.1, default_S: 0.1 })]);
        expect((await store.resolveParams(C3)).params).toEqual({ p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 });

        const fitted = await store.saveParams({ concept_id: C3, params: P }, { activate: true, constraints: {}, metrics: { model: { p_F: 0.05 } } });
        expect(await store.resolveParams(C3)).toMatchObject({ is_default: false, source: 'fitted', params_id: fitted.id, params: { ...P, p_F: 0.05 } });

        await exec(store, 'DELETE FROM algo_params');
        expect(await store.resolveParams(C1)).toMatchObject({ source: 'builtin', algo_version_id: null, params: { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2 } });
      });
    });

    describe('runs', () => {
      it('a RUNNING row is committed at once and closed with its summaries', async () => {
        const { db } = await fresh();
        const store = track(await migratedStore(db));
        const other = track(await openStore(db));
        const id = await store.startRun({ trigger: 'nightly', input_summary: { from_date: null, activate: true } });
        expect(await other.getRun(id)).toMatchObject({ status: 'RUNNING', trigger: 'nightly', completed_at: null, input_summary_json: { activate: true } });
        await store.finishRun(id, { status: 'SUCCESS', output_summary: { concepts_processed: 3, errors: {} } });
        const row = await other.getRun(id);
        expect(row).toMatchObject({ status: 'SUCCESS', output_summary_json: { concepts_processed: 3 }, error_message: null });
        expect(row?.completed_at).toMatch(/Z$/);
        const streamed = [];
        for await (const r of other.streamRuns()) streamed.push(r.id);
        expect(streamed).toEqual([id]);
      });
    });

    describe('transactions and mastery state', () => {
      it('a transaction that throws leaves the store unchanged', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        const before = await tableCounts(store);
        await expect(
          store.withStateLock(U1, C1, async (state, tx) => {
            expect(state).toBeNull();
            expect(await tx.recordAttempt(U1, C1, 'a1', '2026-01-01T00:00:00Z')).toBe(true);
            await tx.upsertState({ user_id: U1, concept_id: C1, p_mastery: 0.4, n_attempts: 1, last_attempt_at: '2026-01-01T00:00:00Z', last_seen_question_id: null, algo_version_id: null });
            await tx.insertSnapshot({ user_id: U1, concept_id: C1, p_mastery: 0.4, n_attempts: 1, algo_version_id: null });
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await tableCounts(store)).toEqual(before);
      });

      it("a group's parameters and users read together, and its snapshots in one insert with the commit", async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        const fitted = await store.saveParams({ concept_id: C2, params: P }, { activate: true, constraints: {}, metrics: {} });
        const ids = await store.withWriteTransaction(async (tx) => {
          const { params, missingUsers } = await tx.resolveParamsAndUsers([C1, C2, C1], [U1, U2.toUpperCase(), U1]);
          expect(params).toEqual(await tx.resolveParamsMany([C1, C2]));
          expect(params.get(C2)).toMatchObject({ source: 'fitted', params_id: fitted.id });
          expect([...missingUsers]).toEqual([U2]);
          // lockStates takes the users as read above: U2's state is not locked, U1's is.
          const locked = await tx.lockStates([{ userId: U1, conceptId: C1 }, { userId: U2, conceptId: C1 }]);
          expect([...locked.missingUsers]).toEqual([U2]);
          return tx.insertSnapshots([
            { user_id: U1, concept_id: C1, p_mastery: 0.25, n_attempts: 1, algo_version_id: null },
            { user_id: U1, concept_id: C2, p_mastery: 0.75, n_attempts: 2, algo_version_id: null, created_at: '2026-01-02T00:00:00Z' },
          ]);
        });
        const rows = await driverOfSync(store).query<{ id: string; concept_id: string; p_mastery: unknown; created_at: unknown }>('SELECT id, concept_id, p_mastery, created_at FROM mastery_snapshot ORDER BY p_mastery');
        expect(rows.map((r) => [String(r.id).toLowerCase(), String(r.concept_id).toLowerCase(), Number(r.p_mastery)])).toEqual([
          [ids[0], C1, 0.25],
          [ids[1], C2, 0.75],
        ]);
        expect(new Date(rows[1].created_at as string).toISOString()).toBe('2026-01-02T00:00:00.000Z');
        // The placeholder of the state locked and never written is gone.
        expect(await store.countRows('bkt_user_skill_state')).toBe(0);

        const before = await tableCounts(store);
        await expect(
          store.withWriteTransaction(async (tx) => {
            await tx.insertSnapshots([{ user_id: U1, concept_id: C1, p_mastery: 0.5, n_attempts: 1, algo_version_id: null }]);
            throw new Error('boom');
          }),
        ).rejects.toThrow('boom');
        expect(await tableCounts(store)).toEqual(before);
      });

      it('writes deferred until commit go with it: their values stored exactly, a failing one rolls the whole transaction back', async () => {
        const store = await freshStore();
        const driver = driverOfSync(store);
        await exec(store, 'INSERT INTO users (id) VALUES (?)', [U1]);
        // Inlined on PostgreSQL: quotes, backslashes and a literal-looking text must arrive as given.
        const awkward = "it's \\ a ''key'' $1 ? E'x' \\x00";
        const batches = await driver.transaction(async (tx) => {
          tx.deferUntilCommit('INSERT INTO bkt_attempt_ledger (user_id, concept_id, attempt_key, applied_at, correct) VALUES (?, ?, ?, ?, ?)', [U1, C1, awkward, '2026-01-01T00:00:00.000Z', store.backend === 'sqlite' ? 1 : true]);
          return tx.queryBatch([
            { sql: 'SELECT count(*) AS n FROM bkt_attempt_ledger WHERE attempt_key = ?', params: [awkward] },
            { sql: 'SELECT id FROM users WHERE id = ?', params: [U1] },
          ]);
        });
        // The deferred insert ran after the batch, at commit.
        expect(batches.map((rows) => rows.length)).toEqual([1, 1]);
        expect(Number(batches[0][0].n)).toBe(0);
        const rows = await driver.query<{ attempt_key: string }>('SELECT attempt_key FROM bkt_attempt_ledger WHERE user_id = ?', [U1]);
        expect(rows.map((r) => r.attempt_key)).toEqual([awkward]);

        const before = await tableCounts(store);
        await expect(
          driver.transaction(async (tx) => {
            await tx.run('INSERT INTO users (id) VALUES (?)', [U2]);
            // The same ledger key again: the unique key fails it, at commit.
            tx.deferUntilCommit('INSERT INTO bkt_attempt_ledger (user_id, concept_id, attempt_key, applied_at) VALUES (?, ?, ?, ?)', [U1, C1, awkward, '2026-01-01T00:00:00.000Z']);
          }),
        ).rejects.toBeInstanceOf(StorageError);
        expect(await tableCounts(store)).toEqual(before);
      });

      it('locks, records attempts once, upserts and streams states', async () => {
        const store = await freshStore();
        await exec(store, 'INSERT INTO users (id) VALUES (?), (?)', [U1, U2]);
        await expect(store.withStateLock('33333333-3333-4333-8333-333333333333', C1, async () => 1)).rejects.toBeInstanceOf(NotFoundError);
        // A lock whose callback writes nothing leaves no placeholder row.
        await store.withStateLock(U1, C1, async (_state, tx) => tx.recordAttempt(U1, C1, 'k', null));
        expect(await store.getState(U1, C1)).toBeNull();
        expect(await store.withWriteTransaction((tx) => tx.recordAttempt(U1, C1, 'k', null))).toBe(false);
        await store.withStateLock(U1, C1, async (state, tx) => {
          expect(state).toBeNull();
          await tx.upsertState({ user_id: U1, concept_id: C1, p_mastery: 0.3, n_attempts: 1, last_attempt_at: '2026-01-01T00:00:00Z', last_seen_question_id: C3, algo_version_id: null });
        });
        const created = await store.getState(U1, C1);
        await store.withStateLock(U1, C1, async (state, tx) => {
          expect(state).toMatchObject({ p_mastery: 0.3, n_attempts: 1, last_seen_question_id: C3 });
          await tx.upsertState({ ...state!, p_mastery: 0.97, n_attempts: 2 });
        });
        await store.withStateLock(U2, C1, async (_s, tx) =>
          tx.upsertState({ user_id: U2, concept_id: C1, p_mastery: 0.5, n_attempts: 1, last_attempt_at: null, last_seen_question_id: null, algo_version_id: null }),
        );
        const after = await store.getState(U1, C1);
        expect(after?.created_at).toBe(created?.created_at);
        expect((await store.listStates()).map((s) => [s.user_id, s.p_mastery])).toEqual([[U1, 0.97], [U2, 0.5]]);
        expect((await store.listStates({ minMastery: 0.95 })).map((s) => s.user_id)).toEqual([U1]);
        const streamed = [];
        for await (const s of store.streamStates({ conceptIds: [C1] })) streamed.push(s.user_id);
        expect(streamed).toEqual([U1, U2]);
      });

      it('concurrent state updates from two connections lose nothing', async () => {
        const { db } = await fresh();
        const setup = track(await migratedStore(db));
        await exec(setup, 'INSERT INTO users (id) VALUES (?)', [U1]);
        const stores = [track(await openStore(db)), track(await openStore(db))];
        const bump = (s: Store, i: number) =>
          s.withStateLock(U1, C1, async (state, tx) => {
            await tx.upsertState({ user_id: U1, concept_id: C1, p_mastery: 0.5, n_attempts: (state?.n_attempts ?? 0) + 1, last_attempt_at: null, last_seen_question_id: null, algo_version_id: null });
            return i;
          });
        await Promise.all(Array.from({ length: 20 }, (_, i) => bump(stores[i % 2], i)));
        expect((await setup.getState(U1, C1))?.n_attempts).toBe(20);
      });
    });
  });
}

/** The backend's uuid column type, for tables a test creates as "the app". */
function uuidType(store: Store): string {
  return driverOfSync(store).dialect.columnType('uuid');
}

/** The question id of a session's only question. */
async function driverQuestion(store: Store, session: string): Promise<string> {
  const { driverOf } = await import('./backends.js');
  const rows = await driverOf(store).query<{ question_id: string }>('SELECT question_id FROM session_questions WHERE session_id = ?', [session]);
  return String(rows[0].question_id);
}
