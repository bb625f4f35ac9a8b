/** `bkt db migrate` and `bkt db check` end to end, on SQLite and PostgreSQL. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { BACKENDS, exec, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const pgOk = await postgresAvailable();
const created: EmptyDb[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`bkt db on ${backend.name}`, () => {
    it('migrate creates the schema once, check passes, a dropped index makes check exit 5 naming it', async () => {
      const empty = await backend.create();
      created.push(empty);
      const first = bkt(['db', 'migrate', '--db', empty.db, '--json']);
      expect(first.status, first.describe).toBe(0);
      expect(first.json().created).toContain('table algo_runs');
      const again = await bktIn(['db', 'migrate', '--db', empty.db, '--json']);
      expect(again.json().created, again.describe).toEqual([]);

      const check = await bktIn(['db', 'check', '--db', empty.db]);
      expect(check.status, check.describe).toBe(0);
      expect(check.stdout).toMatch(/matches the schema/);

      const store = await openStore(empty.db);
      await exec(store, 'DROP INDEX idx_mastery_snapshot_concept');
      await store.close();
      const bad = await bktIn(['db', 'check', '--db', empty.db]);
      expect(bad.status, bad.describe).toBe(5);
      expect(bad.stdout.trim()).toBe('mastery_snapshot.idx_mastery_snapshot_concept: index is missing (expected INDEX (concept_id))');
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      const badJson = await bktIn(['db', 'check', '--db', empty.db, '--json']);
      expect(badJson.status).toBe(5);
      expect(badJson.json()).toMatchObject({ ok: false, differences: [{ table: 'mastery_snapshot', kind: 'missing_index' }] });
    });
  });
}

describe('bkt db errors', () => {
  it('a database that is down is exit 5 with one line and the password hidden', async () => {
    const r = await bktIn(['db', 'migrate', '--db', 'postgres://postgres:s3cret@127.0.0.1:1/x']);
    expect(r.status, r.describe).toBe(5);
    expect(r.stderr).toMatch(/^Error: cannot connect to postgres at 127\.0\.0\.1:1\/x \(password hidden\)/);
    expect(r.stderr).not.toContain('s3cret');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('DATABASE_URL is used when --db is absent', async () => {
    const r = await bktIn(['db', 'check'], { env: { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/y' } });
    expect(r.status, r.describe).toBe(5);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1\/y/);
    expect(r.stderr).not.toContain('hunter2');
  });

  it('check on a missing SQLite file is exit 5 and does not create the file', async () => {
    const empty = await BACKENDS[0].create();
    created.push(empty);
    const r = await bktIn(['db', 'check', '--db', empty.db]);
    expect(r.status, r.describe).toBe(5);
    expect(r.stderr).toMatch(/no database at .*bkt db migrate/);
    expect(existsSync(empty.db)).toBe(false);
    expect(existsSync(join(empty.db, '..'))).toBe(true);
  });
});
