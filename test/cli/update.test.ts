import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toUuid } from '../../src/store/ids.js';
import { openStore } from '../../src/store/open-store.js';
import { addUsers, createSqliteDb, type TestDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const C1 = 'cccccccc-0000-4000-8000-000000000001';
const C2 = 'cccccccc-0000-4000-8000-000000000002';

describe('bkt update, mastery and snapshot (SQLite)', () => {
  let testDb: TestDb;
  let dir: string;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    const store = await openStore(testDb.db);
    await addUsers(store, U1, U2);
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-cli-update-'));
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function counts() {
    return countsOf(testDb.db);
  }

  async function countsOf(db: string) {
    const store = await openStore(db);
    try {
      return { states: await store.countRows('bkt_user_skill_state'), ledger: await store.countRows('bkt_attempt_ledger'), snapshots: await store.countRows('mastery_snapshot') };
    } finally {
      await store.close();
    }
  }

  it('applies one attempt with the built-in defaults (L0 .1 T .2 S .1 G .2: correct -> 0.466667) and prints the seed fields as JSON', () => {
    const r = bkt(['update', '--db', testDb.db, '--user', U1, '--concept', C1, '--correct', 'true', '--at', '2026-01-21T12:00:00Z', '--snapshot', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ user_id: U1, concept_id: C1, correct: true, p_mastery_prior: 0.1, n_attempts: 1, is_mastered: false, snapshot_created: true, outcome: 'applied' });
    expect(out.p_mastery_new).toBeCloseTo(0.466667, 6);
    expect(out.params_used).toMatchObject({ p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, is_default: true, params_id: null });
  });

  it('reports the same timed attempt again as a duplicate, with exit 0', async () => {
    const r = await bktIn(['update', '--db', testDb.db, '--user', U1, '--concept', C1, '--correct', 'true', '--at', '2026-01-21T12:00:00Z']);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout).toMatch(/^duplicate: attempt h:[0-9a-f]{32} not applied/);
  });

  it('refuses an empty or malformed id with exit 2 naming the flag, maps other ids as bkt import does, and changes nothing', async () => {
    const before = await counts();
    const r = await bktIn(['update', '--db', testDb.db, '--user', '', '--concept-id', C1, '--correct', 'true']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr.trim()).toBe('Error: --user "" is empty. See bkt update --help');
    const session = await bktIn(['update', '--db', testDb.db, '--session', 'not-a-uuid']);
    expect(session.status, session.describe).toBe(2);
    expect(session.stderr.trim()).toBe('Error: --session "not-a-uuid" is not a UUID. See bkt update --help');
    // A non-UUID learner id is the learner "bkt import" stored under toUuid(id): here there is none.
    const mapped = await bktIn(['update', '--db', testDb.db, '--user', 'not-a-uuid', '--concept', C1, '--correct', 'true']);
    expect(mapped.status, mapped.describe).toBe(4);
    expect(mapped.stderr).toContain(`user ${toUuid('not-a-uuid')}: not in the users table`);
    expect(mapped.stderr.trim().split('\n')).toHaveLength(1);
    const m = await bktIn(['mastery', '--db', testDb.db, '--concept', 'xyz']);
    expect(m.status, m.describe).toBe(0);
    expect(m.stdout.trim()).toBe('no mastery states match --concept-id, --mastered or --below');
    expect(await counts()).toEqual(before);
  });

  it('refuses another user in a learner scope (--as-user) with one line, and changes nothing', async () => {
    const before = await counts();
    const r = await bktIn(['update', '--db', testDb.db, '--as-user', U2, '--user', U1, '--concept', C1, '--correct', 'false']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('cannot update mastery for other users');
    const m = await bktIn(['mastery', '--db', testDb.db, '--as-user', U2, '--user', U1]);
    expect(m.status, m.describe).toBe(2);
    expect(m.stderr).toContain('cannot query mastery for other users');
    expect(await counts()).toEqual(before);
  });

  it('says which user is missing (exit 4) and leaves the store unchanged', async () => {
    const before = await counts();
    const r = await bktIn(['update', '--db', testDb.db, '--user', '99999999-9999-4999-8999-999999999999', '--concept', C1, '--correct', 'true']);
    expect(r.status, r.describe).toBe(4);
    expect(r.stderr).toContain('99999999-9999-4999-8999-999999999999');
    expect(await counts()).toEqual(before);
  });

  it('applies a batch from stdin, lists rejected rows by line, and applies nothing with --fail-fast on a bad file', async () => {
    const csv = ['user_id,concept_id,correct,answered_at', `${U2},${C1},1,2026-01-21T12:00:00Z`, `${U2},${C1},maybe,2026-01-21T12:01:00Z`, `${U2},${C1},0,2026-01-21T12:02:00Z`].join('\n');
    const before = await counts();
    const ff = await bktIn(['update', '--db', testDb.db, '--input', '-', '--fail-fast'], { input: csv });
    expect(ff.status, ff.describe).toBe(3);
    expect(ff.stderr).toContain('stdin line 3: column "correct" is "maybe"');
    expect(await counts()).toEqual(before);
    const r = await bktIn(['update', '--db', testDb.db, '--input', '-', '--json'], { input: csv });
    expect(r.status, r.describe).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ applied: 2, duplicate: 0, stale: 0, rejected: [{ line: 3 }] });
    const file = join(dir, 'a.csv');
    writeFileSync(file, csv);
    const again = await bktIn(['update', '--db', testDb.db, '--input', file]);
    expect(again.status, again.describe).toBe(0);
    expect(again.stdout).toContain('applied 0, duplicate 2, stale 0, rejected 1');
    expect(again.stdout).toContain('line 3: column "correct" is "maybe"');
  });

  it('reads --input as fit does: a .csv.gz applies; a missing path, a directory and a header-only file fail with fit\'s exit code and line, changing nothing', async () => {
    // Its own database: the tests below count every state of the shared one.
    const own = await createSqliteDb();
    const store = await openStore(own.db);
    await addUsers(store, U2);
    await store.close();
    try {
      const gz = join(dir, 'batch.csv.gz');
      writeFileSync(gz, gzipSync(['user_id,concept_id,correct,answered_at', `${U2},${C2},1,2026-02-01T00:00:00Z`].join('\n')));
      const ok = await bktIn(['update', '--db', own.db, '--input', gz, '--json']);
      expect(ok.status, ok.describe).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ applied: 1, rejected: [] });

      const headerOnly = join(dir, 'header-only.csv');
      writeFileSync(headerOnly, 'user_id,concept_id,correct\n');
      const before = await countsOf(own.db);
      const folder = join(dir, 'folder.csv');
      mkdirSync(folder, { recursive: true });
      // A directory without an extension is a usage error (exit 2: no format); the others exit 3.
      for (const [input, status] of [[join(dir, 'missing.csv'), 3], [folder, 3], [dir, 2], [headerOnly, 3]] as const) {
        const fit = await bktIn(['fit', '--input', input]);
        const update = await bktIn(['update', '--db', own.db, '--input', input]);
        expect(fit.status, fit.describe).toBe(status);
        expect(update.status, update.describe).toBe(fit.status);
        expect(update.stderr.trim().split('\n')).toHaveLength(1);
        expect(update.stderr, update.describe).toBe(fit.stderr);
      }
      expect(await countsOf(own.db)).toEqual(before);
    } finally {
      await own.drop();
    }
  });

  it('names a missing column (exit 3)', async () => {
    const r = await bktIn(['update', '--db', testDb.db, '--input', '-'], { input: 'learner,skill,correct\n1,2,1\n' });
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr).toContain('no user column');
  });

  it('lists mastery as CSV, a per-concept summary, and writes snapshots', async () => {
    const m = bkt(['mastery', '--db', testDb.db, '--user', U1, '--csv']);
    expect(m.status, m.describe).toBe(0);
    const [header, row] = m.stdout.trim().split('\n');
    expect(header).toBe('user_id,concept_id,p_mastery,n_attempts,last_attempt_at,last_seen_question_id,is_mastered,updated_at');
    expect(row.startsWith(`${U1},${C1},0.4666666`)).toBe(true);
    const s = await bktIn(['mastery', '--db', testDb.db, '--json']);
    expect(JSON.parse(s.stdout)).toMatchObject({ concepts: [{ concept_id: C1, learners: 2, mastered: 0, share_mastered: 0 }], total: 1 });
    const snap = await bktIn(['snapshot', '--db', testDb.db, '--json']);
    expect(JSON.parse(snap.stdout)).toEqual({ snapshots: 2 });
  });
});
