import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { type TestDb, createPostgresDb, createSqliteDb, postgresAvailable } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

/** `bkt fit` against each backend: from the app's tables, from a file into the store, and the quality gate. */
const backends: [string, () => Promise<TestDb | null>][] = [
  ['sqlite', createSqliteDb],
  ['postgres', async () => ((await postgresAvailable()) ? createPostgresDb() : null)],
];

async function counts(db: string) {
  const store = await openStore(db);
  try {
    return {
      params: await store.countRows('bkt_skill_params'),
      active: (await store.listParams({})).length,
      runs: await store.countRows('algo_runs'),
    };
  } finally {
    await store.close();
  }
}

describe.each(backends)('bkt fit --db on %s', (_name, create) => {
  let testDb: TestDb | null = null;
  beforeAll(async () => {
    testDb = await create();
    if (testDb) {
      const r = await bktIn(['import', '--input', 'fixtures/sample.csv', '--db', testDb.db]);
      expect(r.status, r.describe).toBe(0);
    }
  });
  afterAll(async () => testDb?.drop());

  it('fits every concept from the app\'s tables and activates one row per fitted concept', async (context) => {
    if (!testDb) return context.skip();
    const r = await bktIn(['fit', '--db', testDb.db, '--activate', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.persisted.persisted.length).toBe(out.summary.fitted);
    const after = await counts(testDb.db);
    expect(after.active).toBe(out.summary.fitted);
    expect(after.runs).toBe(1);
    // Fitting again and activating leaves still exactly one active row per concept.
    const second = await bktIn(['fit', '--db', testDb.db, '--activate', '--seed', '7']);
    expect(second.status, second.describe).toBe(0);
    const again = await counts(testDb.db);
    expect(again.active).toBe(out.summary.fitted);
    expect(again.params).toBe(2 * out.summary.fitted);
  });

  it('fits the same attempts from the database as from the file (ids mapped as bkt import maps them)', async (context) => {
    if (!testDb) return context.skip();
    const fromDb = JSON.parse((await bktIn(['fit', '--db', testDb.db, '--restarts', '1', '--json'])).stdout);
    const fromFile = JSON.parse((await bktIn(['fit', '--input', 'fixtures/sample.csv', '--restarts', '1', '--json'])).stdout);
    const shape = (concepts: { concept_id: string; n_attempts: number; n_users: number; status: string }[]) =>
      concepts
        .map((c) => [c.concept_id.replace(/^0{8}-0{4}-0{4}-0{4}-/, '').replace(/^0+/, ''), c.n_attempts, c.n_users, c.status].join(':'))
        .sort();
    const hexToDecimal = (list: string[]) => list.map((s) => s.replace(/^([0-9a-f]+):/, (_, hex) => `${parseInt(hex, 16)}:`)).sort();
    expect(hexToDecimal(shape(fromDb.concepts))).toEqual(shape(fromFile.concepts).sort());
    expect(fromDb.summary.n_attempts).toBe(fromFile.summary.n_attempts);
  });

  it('refuses to activate a degenerate fit: exit 6, one line, nothing written for it', async (context) => {
    if (!testDb) return context.skip();
    const before = await counts(testDb.db);
    const concept = '00000000-0000-0000-0000-000000000007';
    const r = await bktIn(['fit', '--db', testDb.db, '--concept-id', concept, '--activate', '--fix', 'p_G=0.6', '--fix', 'p_S=0.35']);
    expect(r.status, r.describe).toBe(6);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/not activated.*--force/);
    const after = await counts(testDb.db);
    expect(after.params).toBe(before.params);
    expect(after.active).toBe(before.active);
  });

  it('fits a file into the store with --input and --db', async (context) => {
    if (!testDb) return context.skip();
    const before = await counts(testDb.db);
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--db', testDb.db, '--concept-id', '7', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.persisted.persisted).toHaveLength(1);
    expect(out.persisted.persisted[0].concept_id).toBe('00000000-0000-0000-0000-000000000007');
    expect(out.persisted.persisted[0].is_active).toBe(false);
    expect((await counts(testDb.db)).params).toBe(before.params + 1);
  });

  it('stores --cv fold metrics in the persisted parameters\' metrics', async (context) => {
    if (!testDb) return context.skip();
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--db', testDb.db, '--concept-id', '7', '--cv', '3', '--json']);
    expect(r.status, r.describe).toBe(0);
    const id = JSON.parse(r.stdout).persisted.params_ids[0];
    const store = await openStore(testDb.db);
    try {
      const row = await store.getParams(id);
      const metrics = row!.metrics as Record<string, unknown>;
      expect(metrics.cv_folds).toBe(3);
      expect(metrics.cv_per_fold).toHaveLength(3);
      expect(typeof metrics.cv_rmse_mean).toBe('number');
    } finally {
      await store.close();
    }
  });
});

describe('bkt fit with a database that is down', () => {
  it('exits 5 with one line and no password', async () => {
    const r = await bktIn(['fit', '--db', 'postgres://ops:s3cret@127.0.0.1:1/app', '--activate']);
    expect(r.status, r.describe).toBe(5);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toContain('s3cret');
  });
});
