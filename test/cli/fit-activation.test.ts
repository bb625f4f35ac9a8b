import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { integerToUuid } from '../../src/store/ids.js';
import { type TestDb, createSqliteDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

/**
 * Activation only when better, warm starts, the algo_params box and honest outcomes, end to end on
 * the README's sample in a SQLite store (the job is the same code on PostgreSQL; see fit-db.test.ts).
 */
const SAMPLE = 'fixtures/sample.csv';
// Concept 123 of the sample: 757 attempts, enough held-out ones (215 with the default learner split).
const BIG = integerToUuid(123);

async function withDb<T>(db: string, fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe('bkt fit --concept-id without attempts', () => {
  it('exits 4 naming the concept, after fitting and printing the others', async () => {
    const r = await bktIn(['fit', '--input', SAMPLE, '--concept-id', 'nonexistent', '--concept-id', '7', '--json']);
    expect(r.status, r.describe).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/no attempts for concept\(s\) nonexistent/);
    const out = r.json();
    expect(out.concepts.map((c: { concept_id: string; status: string }) => [c.concept_id, c.status])).toEqual([
      ['7', 'fitted'],
      ['nonexistent', 'not_found'],
    ]);
  });
});

describe('fit --activate against the active set (SQLite)', () => {
  let testDb: TestDb;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    const r = await bktIn(['import', '--input', SAMPLE, '--db', testDb.db]);
    expect(r.status, r.describe).toBe(0);
  });
  afterAll(async () => testDb?.drop());

  it('a first fit from the database activates, uses the algo_params box and records it in constraints_applied', async () => {
    const r = await bktIn(['fit', '--db', testDb.db, '--concept-id', '123', '--activate', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = r.json();
    expect(out.persisted.status).toBe('SUCCESS');
    expect(out.persisted.persisted).toMatchObject([{ concept_id: BIG, is_active: true }]);
    expect(out.persisted.comparisons).toEqual({});
    // A new bkt database's algo_params row holds the app's box; the default method fits inside it.
    expect(out.persisted.constraints_applied).toMatchObject({ L0_max: 0.5, G_max: 0.4, method: 'map', mastery_cap: 0.945, bounds_source: 'algo_params' });
    const row = await withDb(testDb.db, (store) => store.getActiveParams(BIG));
    expect(row?.constraints_applied).toEqual(out.persisted.constraints_applied);
  });

  it('keeps the active set when the new fit is worse on held-out learners, writing it inactive with both sides', async () => {
    const before = await withDb(testDb.db, (store) => store.getActiveParams(BIG));
    // S held at 0.3 fits concept 123 clearly worse (measured: held-out RMSE 0.522 vs 0.505).
    const r = await bktIn(['fit', '--db', testDb.db, '--concept-id', '123', '--activate', '--fix', 'p_S=0.3', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = r.json();
    expect(Object.keys(out.persisted.kept_active)).toEqual([BIG]);
    const comparison = out.persisted.comparisons[BIG];
    expect(comparison).toMatchObject({ decision: 'keep_active', active_params_id: before!.id, margin: 0.005, holdout: '1 in 5 learners held out (seed 42)' });
    expect(comparison.candidate.n).toBe(comparison.active.n);
    expect(comparison.candidate.rmse - comparison.active.rmse).toBeGreaterThan(0.005);
    const [written] = out.persisted.persisted;
    expect(written.is_active).toBe(false);
    await withDb(testDb.db, async (store) => {
      expect((await store.getActiveParams(BIG))?.id).toBe(before!.id);
      expect((await store.getParams(written.params_id))?.metrics.activation).toEqual(comparison);
      const run = await store.getRun(out.persisted.run_id);
      expect(run).toMatchObject({ status: 'SUCCESS', output_summary_json: { kept_active_count: 1, comparisons: { [BIG]: { decision: 'keep_active' } } } });
    });
    // --force activates it anyway, and says so.
    const forced = await bktIn(['fit', '--db', testDb.db, '--concept-id', '123', '--activate', '--force', '--fix', 'p_S=0.3', '--json']);
    expect(forced.status, forced.describe).toBe(0);
    expect(forced.json().persisted.comparisons[BIG].decision).toBe('force');
    expect(forced.json().persisted.persisted[0].is_active).toBe(true);
  });

  it('--warm-start active adds a restart from the active parameters, reported in the JSON', async () => {
    const active = await withDb(testDb.db, (store) => store.getActiveParams(BIG));
    const r = await bktIn(['fit', '--db', testDb.db, '--concept-id', '123', '--warm-start', 'active', '--restarts', '1', '--json']);
    expect(r.status, r.describe).toBe(0);
    const [concept] = r.json().concepts;
    expect(concept.warm_start).toMatchObject({ p_L0: active!.p_L0, p_S: active!.p_S });
    expect(concept.restarts.map((x: { restart: number; warm_start?: boolean }) => [x.restart, x.warm_start ?? false])).toEqual([
      [0, false],
      [1, true],
    ]);
    const noDb = await bktIn(['fit', '--input', SAMPLE, '--warm-start', 'active']);
    expect(noDb.status, noDb.describe).toBe(2);
    expect(noDb.stderr).toMatch(/--warm-start active needs/);
  });

  it('recompute --activate --trigger nightly: skips are skips, the run row and the exit code agree', async () => {
    const r = await bktIn(['recompute', '--db', testDb.db, '--activate', '--trigger', 'nightly', '--json']);
    const out = r.json();
    expect(r.status, r.describe).toBe(out.outcome.exit_code);
    expect(out.outcome).toEqual({ status: 'SUCCESS', exit_code: 0, message: null });
    expect(Object.keys(out.summary.skipped_concepts).length).toBeGreaterThan(0);
    expect(out.summary.errors).toEqual({});
    const run = await withDb(testDb.db, (store) => store.getRun(out.run_id));
    expect(run).toMatchObject({ status: 'SUCCESS', trigger: 'nightly', error_message: null, output_summary_json: { errors_count: 0, refused_count: 0 } });
    expect((run!.output_summary_json as { skipped_count: number }).skipped_count).toBe(Object.keys(out.summary.skipped_concepts).length);

    const missing = await bktIn(['recompute', '--db', testDb.db, '--concept-id', 'nonexistent', '--json']);
    expect(missing.status, missing.describe).toBe(4);
    expect(missing.stderr).toMatch(/no attempts for concept\(s\) nonexistent \(/);
    const failed = await withDb(testDb.db, (store) => store.getRun(missing.json().run_id));
    expect(failed?.status).toBe('FAILED');
  });
});
