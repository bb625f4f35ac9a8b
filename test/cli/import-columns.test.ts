/** `bkt import` reads with the same column flags as `fit`, and refuses bad input without writing. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toUuid } from '../../src/store/ids.js';
import { openStore } from '../../src/store/open-store.js';
import { tableCounts } from '../store/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bkt import', () => {
  it('maps columns with --col-* flags, keeps times and question ids, and maps ids to UUIDs', async () => {
    const db = join(dir, 'cols.sqlite');
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    const csv = join(dir, 'log.csv');
    writeFileSync(
      csv,
      ['student,kc,ok,ts,item', 'amy,fractions,1,2026-03-01T10:00:00Z,i1', 'amy,fractions,0,2026-03-01T09:00:00Z,i2', '42,fractions,1,2026-03-02T10:00:00Z,i1', ''].join('\n'),
    );
    const r = bkt(['import', '--db', db, '--input', csv, '--col-user', 'student', '--col-concept', 'kc', '--col-correct', 'ok', '--col-time', 'ts', '--col-question', 'item', '--json']);
    expect(r.status, r.describe).toBe(0);
    expect(r.json()).toMatchObject({ users: 2, sessions: 2, answers: 3, already_imported: false });
    const store = await openStore(db);
    try {
      const read = await store.readAttempts({ includeQuestions: true });
      expect(read.table.learnerIds.sort()).toEqual([toUuid('amy'), toUuid('42')].sort());
      expect(toUuid('42')).toBe('00000000-0000-0000-0000-00000000002a');
      expect(read.table.conceptIds).toEqual([toUuid('fractions')]);
      // amy answered i2 (wrong) at 09:00 before i1 (right) at 10:00.
      const amy = read.table.learnerIds.indexOf(toUuid('amy'));
      const amyRows = [0, 1, 2].filter((i) => read.table.learner[i] === amy);
      expect(amyRows.map((i) => read.table.correct[i])).toEqual([0, 1]);
      expect(amyRows.map((i) => read.table.time![i])).toEqual([Date.parse('2026-03-01T09:00:00Z'), Date.parse('2026-03-01T10:00:00Z')]);
      const window = await store.readAttempts({ fromDate: '2026-03-02' });
      expect(window.table.length).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('a malformed file is exit 3 naming file, line and column, and writes nothing', async () => {
    const db = join(dir, 'bad.sqlite');
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    const csv = join(dir, 'bad.csv');
    writeFileSync(csv, 'user_id,concept_id,correct\nu1,c1,1\nu2,c1,yes\n');
    const store = await openStore(db);
    const before = await tableCounts(store);
    await store.close();
    const r = await bktIn(['import', '--db', db, '--input', csv]);
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr).toMatch(/bad\.csv.*line 3.*correct/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const after = await openStore(db);
    expect(await tableCounts(after)).toEqual(before);
    await after.close();
  });

  it('needs a migrated database: exit 5 naming bkt db migrate, and no file is created', async () => {
    const db = join(dir, 'none.sqlite');
    const r = await bktIn(['import', '--db', db, '--input', 'fixtures/sample.csv']);
    expect(r.status, r.describe).toBe(5);
    expect(r.stderr).toMatch(/no database at .*bkt db migrate/);
    expect(existsSync(db)).toBe(false);
  });
});
