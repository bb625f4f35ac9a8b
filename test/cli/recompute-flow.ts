/**
 * The whole database path end to end on each backend: migrate, import the builder train data,
 * recompute with activation, list, roll back; and after each failing command (bad flag, bad
 * file, database down, invalid fit) the store is unchanged. One test file per backend
 * (recompute-flow-sqlite.test.ts, recompute-flow-postgres.test.ts): each imports the builder
 * train data, the longest set-up of the suite, so the two run side by side.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integerToUuid } from '../../src/store/ids.js';
import { withStore } from '../../src/jobs/db-admin.js';
import { postgresAvailable, tableCounts, type Backend, type EmptyDb } from '../store/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const pgOk = await postgresAvailable();
const TRAIN = 'fixtures/builder/train.csv.gz';
const SKILL_7 = integerToUuid(7);

const counts = (db: string) => withStore(db, 'use', tableCounts);
const run = (db: string, id: string) => withStore(db, 'use', (store) => store.getRun(id));

/** The database path on `backend`, as one describe block of the calling test file. */
export function describeDatabasePath(backend: Backend): void {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`database path on ${backend.name}`, () => {
    let empty: EmptyDb;
    beforeAll(async () => {
      empty = await backend.create();
      const m = await bktIn(['db', 'migrate', '--db', empty.db, '--json']);
      expect(m.status, m.describe).toBe(0);
    });
    afterAll(async () => empty?.drop());

    it('imports the builder train data once: users, sessions, answers; a second import writes nothing', async () => {
      const r = await bktIn(['import', '--input', TRAIN, '--db', empty.db, '--json']);
      expect(r.status, r.describe).toBe(0);
      expect(r.json()).toMatchObject({ already_imported: false, users: 533, answers: 407_967, rows: 407_967 });
      const after = await counts(empty.db);
      expect(after).toMatchObject({ users: 533, session_answers: 407_967, session_questions: 407_967 });
      const again = await bktIn(['import', '--input', TRAIN, '--db', empty.db, '--json']);
      expect(again.json(), again.describe).toMatchObject({ already_imported: true, answers: 0 });
      expect(await counts(empty.db)).toEqual(after);
    }, 300_000);

    it('recompute --activate fits every concept with data, logs one SUCCESS run and activates one row per concept', async () => {
      const r = bkt(['recompute', '--db', empty.db, '--activate', '--json']);
      const out = r.json();
      // A skill that fits degenerate would be refused (exit 6, run FAILED), the others written.
      expect(r.status, r.describe).toBe(out.summary.refused.length ? 6 : 0);
      for (const c of out.summary.refused) expect(out.summary.refusals[c]).toMatch(/^not activated \((invalid|degenerate)/);
      expect(out).toMatchObject({ ok: out.summary.refused.length === 0, algo: { key: 'bkt', version: 'v1' } });
      expect(out.summary.concepts_processed).toBe(123);
      expect(out.summary.params_fitted).toBe(out.params_ids.length);
      // Every concept lands in exactly one bucket: written, skipped for too little data, refused, or an error.
      expect(out.summary.params_fitted + Object.keys(out.summary.skipped_concepts).length + out.summary.refused.length + Object.keys(out.summary.errors).length).toBe(123);
      expect(Object.keys(out.summary.errors)).toEqual([]);
      expect(out.summary.params_fitted).toBeGreaterThan(100);
      const row = await run(empty.db, out.run_id);
      expect(row).toMatchObject({
        status: out.summary.refused.length ? 'FAILED' : 'SUCCESS',
        trigger: 'manual',
        input_summary_json: { from_date: null, to_date: null, min_attempts: 10, concept_count: 123, activate: true },
        output_summary_json: { concepts_processed: 123, params_fitted: out.summary.params_fitted, errors_count: Object.keys(out.summary.errors).length },
      });
      const list = await bktIn(['params', 'list', '--db', empty.db, '--json']);
      expect(list.json().params, list.describe).toHaveLength(out.summary.params_fitted);
      const skill7 = list.json().params.find((p: { concept_id: string }) => p.concept_id === SKILL_7);
      expect(skill7).toMatchObject({ is_active: true, constraints_applied: { L0_min: 0.001, G_max: 0.4 }, metrics: { training_samples: expect.any(Number) } });
    }, 300_000);

    it('--dry-run fits and reports but writes no parameter rows', async () => {
      const before = await counts(empty.db);
      const r = await bktIn(['recompute', '--db', empty.db, '--concept-id', '7', '--dry-run', '--json', '--trigger', 'nightly']);
      expect(r.status, r.describe).toBe(0);
      expect(r.json()).toMatchObject({ ok: true, dry_run: true, params_ids: [], summary: { concepts_processed: 1, params_fitted: 0 } });
      expect(await counts(empty.db)).toEqual({ ...before, algo_runs: before.algo_runs + 1 });
      expect((await run(empty.db, r.json().run_id))?.trigger).toBe('nightly');
    }, 120_000);

    it('params activate rolls a concept back to an earlier set', async () => {
      const first = (await bktIn(['params', 'list', '--db', empty.db, '--concept-id', '7', '--json'])).json().params[0];
      const refit = await bktIn(['recompute', '--db', empty.db, '--concept-id', SKILL_7, '--activate', '--seed', '7', '--json']);
      expect(refit.status, refit.describe).toBe(0);
      const newer = refit.json().params_ids[0];
      expect((await bktIn(['params', 'list', '--db', empty.db, '--concept-id', '7', '--json'])).json().params.map((p: { id: string }) => p.id)).toEqual([newer]);
      const back = bkt(['params', 'activate', first.id, '--db', empty.db, '--json']);
      expect(back.status, back.describe).toBe(0);
      expect(back.json()).toMatchObject({ params: { id: first.id, is_active: true }, previous_active: [newer] });
      const all = (await bktIn(['params', 'list', '--db', empty.db, '--concept-id', '7', '--all', '--json'])).json().params;
      expect(all.filter((p: { is_active: boolean }) => p.is_active).map((p: { id: string }) => p.id)).toEqual([first.id]);
      expect(all).toHaveLength(2);
    }, 120_000);

    it('failing commands leave the store unchanged: bad flag, bad file, unknown id, database down', async () => {
      const before = await counts(empty.db);
      const cases: [string[], number, RegExp][] = [
        [['recompute', '--db', empty.db, '--min-attempts', 'abc'], 2, /min-attempts/],
        [['recompute', '--db', empty.db, '--trigger', 'submit'], 2, /trigger/],
        [['import', '--db', empty.db, '--input', 'fixtures/no-such-file.csv'], 3, /no-such-file\.csv/],
        [['params', 'activate', '99999999-9999-4999-8999-999999999999', '--db', empty.db], 4, /no such bkt_skill_params row/],
        [['params', 'activate', 'not-a-uuid', '--db', empty.db], 2, /not a UUID/],
        [['recompute', '--db', 'postgres://postgres:pw@127.0.0.1:1/x'], 5, /cannot connect to postgres/],
      ];
      for (const [args, status, message] of cases) {
        const r = await bktIn(args);
        expect(r.status, r.describe).toBe(status);
        expect(r.stderr, r.describe).toMatch(message);
      }
      expect(await counts(empty.db)).toEqual(before);
    }, 120_000);

    it('an invalid fit is not activated: exit 6, no parameter rows, the run row names the refusal', async () => {
      const before = await counts(empty.db);
      // Bounds that force (1 - S) - G below 0.1: degenerate by schema.md.
      const args = ['recompute', '--db', empty.db, '--concept-id', '7', '--activate', '--S-min', '0.46', '--S-max', '0.5', '--G-min', '0.46', '--G-max', '0.5', '--json'];
      const r = await bktIn(args);
      expect(r.status, r.describe).toBe(6);
      expect(r.stderr).toMatch(/concept 00000000-0000-0000-0000-000000000007: not activated \(degenerate/);
      expect(r.json().summary).toMatchObject({ params_fitted: 0, refused: [SKILL_7] });
      const after = await counts(empty.db);
      expect(after).toEqual({ ...before, algo_runs: before.algo_runs + 1 });
      // The run refused a concept: FAILED, as the exit code says; the refusal is counted as one, not as an error.
      expect(await run(empty.db, r.json().run_id)).toMatchObject({
        status: 'FAILED',
        output_summary_json: { params_fitted: 0, refused_count: 1, errors_count: 0, refused: { [SKILL_7]: expect.stringMatching(/^not activated \(degenerate/) } },
        error_message: expect.stringMatching(/quality gate refused activation of 1 concept/),
      });
      const forced = await bktIn([...args, '--force']);
      expect(forced.status, forced.describe).toBe(0);
      expect((await counts(empty.db)).bkt_skill_params).toBe(before.bkt_skill_params + 1);
    }, 120_000);
  });
}
