import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableFromIPC } from 'apache-arrow';
import { openStore } from '../../src/store/open-store.js';
import { readParamsFile } from '../../src/params-file.js';
import { addUsers, createSqliteDb, type TestDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const C1 = 'cccccccc-0000-4000-8000-000000000001';
const C2 = 'cccccccc-0000-4000-8000-000000000002';
const FITTED = {
  [C1]: { p_L0: 0.123456789012345, p_T: 0.0987654321, p_S: 0.05, p_G: 0.2 },
  [C2]: { p_L0: 0.3, p_T: 0.01, p_S: 0.15, p_G: 0.123 },
};

describe('bkt export (SQLite)', () => {
  let testDb: TestDb;
  let dir: string;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    const store = await openStore(testDb.db);
    await addUsers(store, U1);
    for (const [concept_id, params] of Object.entries(FITTED)) {
      await store.saveParams({ concept_id, params }, { activate: true, constraints: { L0_min: 0.001 }, metrics: { auc: 0.7, note: 'a, "quoted" value' } });
    }
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-cli-export-'));
    const r = await bktIn(['update', '--db', testDb.db, '--user', U1, '--concept', C1, '--correct', 'true', '--at', '2026-01-21T12:00:00Z']);
    expect(r.status, r.describe).toBe(0);
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['csv', 'json', 'ndjson'] as const)('exports params as %s that the params-file reader reads back exactly', async (format) => {
    const out = join(dir, `params.${format}`);
    const r = await bktIn(['export', 'params', '--db', testDb.db, '--format', format, '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const entries = await readParamsFile(out);
    expect(entries.map((e) => e.concept_id).sort()).toEqual([C1, C2]);
    for (const e of entries) expect(e.params).toEqual({ ...FITTED[e.concept_id as keyof typeof FITTED], p_F: 0 });
  });

  it('uses the fitted parameters for an update (params_id set, is_default false)', async () => {
    const r = await bktIn(['update', '--db', testDb.db, '--user', U1, '--concept', C2, '--correct', 'false', '--json']);
    const out = JSON.parse(r.stdout);
    expect(out.params_used).toMatchObject({ ...FITTED[C2], is_default: false });
    expect(out.params_used.params_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exports mastery as Arrow with pyarrow-compatible types that reads back', async () => {
    const out = join(dir, 'mastery.arrow');
    const r = await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'arrow', '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const table = tableFromIPC(readFileSync(out));
    expect(table.numRows).toBe(2);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({ user_id: 'Utf8', p_mastery: 'Float64', n_attempts: 'Int32', is_mastered: 'Bool', last_attempt_at: 'Timestamp<MILLISECOND, UTC>' });
    const rows = table.toArray().map((row) => row.toJSON());
    const c1 = rows.find((x) => x.concept_id === C1)!;
    expect(c1.last_attempt_at).toBe(Date.parse('2026-01-21T12:00:00Z'));
  });

  it('exports mastery as Parquet with the same columns and values as the Arrow export', async () => {
    const out = join(dir, 'mastery.parquet');
    const r = await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'parquet', '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const { parquetReadObjects } = await import('hyparquet');
    const bytes = readFileSync(out);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows).toHaveLength(2);
    const c1 = rows.find((x) => x.concept_id === C1)!;
    expect((c1.last_attempt_at as Date).toISOString()).toBe('2026-01-21T12:00:00.000Z');
    const arrowRows = tableFromIPC(readFileSync(join(dir, 'mastery.arrow'))).toArray().map((row) => row.toJSON());
    const a1 = arrowRows.find((x) => x.concept_id === C1)!;
    expect({ p: c1.p_mastery, n: c1.n_attempts, m: c1.is_mastered }).toEqual({ p: a1.p_mastery, n: a1.n_attempts, m: a1.is_mastered });
  });

  it('streams snapshots as NDJSON to stdout and refuses an empty --user (exit 2, no file left)', async () => {
    await bktIn(['snapshot', '--db', testDb.db]);
    const r = bkt(['export', 'snapshots', '--db', testDb.db, '--format', 'ndjson', '--out', '-']);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).user_id)).toEqual([U1, U1]);
    const bad = await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'csv', '--out', join(dir, 'x.csv'), '--user', '']);
    expect(bad.status, bad.describe).toBe(2);
    expect(bad.stderr).toContain('--user "" is empty');
    expect(existsSync(join(dir, 'x.csv'))).toBe(false);
    // Any other id is mapped as bkt import maps it; nobody imported "bob", so nothing matches and the count says why.
    const none = await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'csv', '--out', join(dir, 'none.csv'), '--user', 'bob']);
    expect(none.status, none.describe).toBe(0);
    expect(none.stderr).toMatch(/^exported 0 mastery rows to .*none\.csv \(nothing matched the filters/);
  });
});
