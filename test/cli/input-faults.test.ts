/**
 * Bad input values end to end on SQLite and PostgreSQL: invalid UTF-8, times out of range and
 * over-long ids are exit 3 naming file, line and column in `fit`, `evaluate`, `import` and
 * `update` (or a rejected row in update's per-row mode), never exit 1 (`RangeError: Invalid time
 * value` before), and leave the database exactly as it was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Evaluate from '../../commands/evaluate.js';
import Fit from '../../commands/fit.js';
import Import from '../../commands/import.js';
import Update from '../../commands/update.js';
import { BACKENDS, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { databaseDigest, runCommand } from '../support/in-process.js';
import { cliSampleDatabase } from '../support/run-bkt.js';

const pgOk = await postgresAvailable();
const dir = mkdtempSync(join(tmpdir(), 'bkt-input-faults-'));
const created: EmptyDb[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const HEADER = 'user_id,concept_id,correct,answered_at\n';
// Users 1 and 2 exist in the sample database (fixtures/sample.csv).
const GOOD = '1,7,1,2026-01-01T00:00:00Z\n1,7,0,2026-01-01T00:00:01Z\n';

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const cases = (): { name: string; path: string; message: RegExp }[] => [
  {
    name: 'invalid UTF-8 in a concept id',
    path: write('utf8.csv', Buffer.concat([Buffer.from(HEADER + GOOD + '1,c'), Buffer.from([0xff]), Buffer.from(',1,2026-01-01T00:00:02Z\n')])),
    message: /utf8\.csv line 4: column 2 \("concept_id"\) is not valid UTF-8/,
  },
  {
    name: 'an epoch of 9000000000000000',
    path: write('far.csv', HEADER + GOOD + '2,7,1,9000000000000000\n'),
    message: /far\.csv line 4: column "answered_at" is "9000000000000000"; expected .* between 0001-01-01 and 9999-12-31/,
  },
  {
    name: 'a 50-thousand-digit epoch',
    path: write('digits.csv', HEADER + GOOD + `2,7,1,${'9'.repeat(50_000)}\n`),
    message: /digits\.csv line 4: column "answered_at" is "9{60}\.\.\."/,
  },
  {
    name: 'an id of 5000 bytes',
    path: write('long-id.csv', HEADER + GOOD + `2,${'x'.repeat(5000)},1,2026-01-01T00:00:02Z\n`),
    message: /long-id\.csv line 4: column "concept_id" holds an id of 5000 bytes; ids are at most 4096 bytes/,
  },
];

describe('fit and evaluate', () => {
  let params: string;
  beforeAll(async () => {
    params = join(dir, 'params.json');
    const fit = await runCommand(Fit, ['--input', 'fixtures/sample.csv', '--out', params]);
    expect(fit.status, fit.stderr).toBe(0);
  });

  it('refuse each bad value with exit 3 and one line naming file, line and column', async () => {
    for (const c of cases()) {
      for (const [name, command, argv] of [
        ['fit', Fit, ['--input', c.path]],
        ['evaluate', Evaluate, ['--input', c.path, '--params', params]],
      ] as const) {
        const r = await runCommand(command, [...argv]);
        expect(r.status, `${name}, ${c.name}: ${r.stderr}`).toBe(3);
        expect(r.stderr.trim().split('\n'), `${name}, ${c.name}`).toHaveLength(1);
        expect(r.stderr, `${name}, ${c.name}`).toMatch(c.message);
      }
    }
  });
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`import and update on ${backend.name}`, () => {
    let db: EmptyDb;
    beforeAll(async () => {
      db = await cliSampleDatabase(backend);
      created.push(db);
    });

    it('import: exit 3 naming file, line and column; the database is unchanged', async () => {
      for (const c of cases()) {
        const before = await databaseDigest(db.db);
        const r = await runCommand(Import, ['--input', c.path, '--db', db.db]);
        expect(r.status, `${c.name}: ${r.stderr}`).toBe(3);
        expect(r.stderr, c.name).toMatch(c.message);
        expect(await databaseDigest(db.db), c.name).toBe(before);
      }
    });

    it('update --input: an out-of-range time is a rejected row naming its line, or exit 3 with --fail-fast; never exit 1', async () => {
      for (const time of ['9000000000000000', '0000-06-01T00:00:00Z', '9999-12-31T23:59:59.999-01:00']) {
        const path = write(`update-${backend.name}.csv`, HEADER + `2,9,1,${time}\n2,9,0,2026-02-01T00:00:00Z\n`);
        const before = await databaseDigest(db.db);
        const failFast = await runCommand(Update, ['--input', path, '--db', db.db, '--fail-fast']);
        expect(failFast.status, failFast.stderr).toBe(3);
        expect(failFast.stderr).toContain(`${path} line 2: column "answered_at"`);
        expect(await databaseDigest(db.db)).toBe(before);
        const perRow = await runCommand(Update, ['--input', path, '--db', db.db, '--json']);
        expect(perRow.status, perRow.stderr).toBe(0);
        const summary = JSON.parse(perRow.stdout);
        expect(summary.rejected).toHaveLength(1);
        expect(summary.rejected[0]).toMatchObject({ line: 2 });
        expect(summary.rejected[0].reason).toContain('column "answered_at"');
      }
    });

    it('update --at: an out-of-range time is exit 2 naming the flag; nothing changes', async () => {
      const before = await databaseDigest(db.db);
      const r = await runCommand(Update, ['--db', db.db, '--user', '00000000-0000-0000-0000-000000000001', '--concept', '00000000-0000-0000-0000-000000000007', '--correct', 'true', '--at', '0000-01-01T00:00:00Z']);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/--at "0000-01-01T00:00:00Z" is not an ISO-8601 time between 0001-01-01 and 9999-12-31/);
      expect(await databaseDigest(db.db)).toBe(before);
    });

    it('update --input (Arrow, Parquet, CSV through the shared readers): invalid UTF-8 is exit 3 naming the row with --fail-fast (nothing changes), else a rejected row', async () => {
      const arrow = await import('apache-arrow');
      const table = new arrow.Table({
        user_id: arrow.vectorFromArray(['1', '2'], new arrow.Utf8()),
        concept_id: arrow.vectorFromArray(['cA', 'cB'], new arrow.Utf8()),
        correct: arrow.vectorFromArray([1, 0], new arrow.Int8()),
      });
      const bytes = Buffer.from(arrow.tableToIPC(table, 'file'));
      bytes[bytes.indexOf('cB') + 1] = 0xfe;
      const { parquetWriteBuffer } = await import('hyparquet-writer');
      const parquet = parquetWriteBuffer({
        columnData: [
          { name: 'user_id', data: ['1', '2'], type: 'STRING' },
          { name: 'concept_id', data: [new TextEncoder().encode('cA'), Uint8Array.from([0x63, 0xfe])], type: 'STRING' },
          { name: 'correct', data: [true, false], type: 'BOOLEAN' },
        ],
      });
      const csv = Buffer.concat([Buffer.from('user_id,concept_id,correct,note\n1,cA,1,x\n2,cB,0,caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
      for (const [path, where] of [
        [write(`bad-${backend.name}.arrow`, bytes), /row 2: column "concept_id" is not valid UTF-8/],
        [write(`bad-${backend.name}.parquet`, Buffer.from(parquet)), /row 2: column "concept_id" is not valid UTF-8/],
        [write(`bad-${backend.name}.csv`, csv), /line 3: column 4 \("note"\) is not valid UTF-8/],
      ] as const) {
        const before = await databaseDigest(db.db);
        const failFast = await runCommand(Update, ['--input', path, '--db', db.db, '--untimed', 'new-batch', '--fail-fast']);
        expect(failFast.status, failFast.stderr).toBe(3);
        expect(failFast.stderr).toMatch(where);
        expect(await databaseDigest(db.db)).toBe(before);
        const perRow = await runCommand(Update, ['--input', path, '--db', db.db, '--untimed', 'new-batch', '--json']);
        expect(perRow.status, perRow.stderr).toBe(0);
        const summary = JSON.parse(perRow.stdout);
        expect(summary.rejected).toHaveLength(1);
        expect(summary.rejected[0].line).toBe(path.endsWith('.csv') ? 3 : 2);
        expect(summary.rejected[0].reason).toMatch(/is not valid UTF-8/);
      }
    });
  });
}
