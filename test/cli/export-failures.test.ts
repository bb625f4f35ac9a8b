/** `bkt export --out` failure paths end to end, on SQLite and PostgreSQL. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { bkt, cliSampleDatabase } from '../support/run-bkt.js';

const pgOk = await postgresAvailable();
const created: EmptyDb[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bkt-export-fail-'));
afterAll(async () => {
  for (const d of created) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`bkt export failures on ${backend.name}`, () => {
    it('--out into a missing folder: exit 2, one line naming the path (csv and arrow), no temp file', async () => {
      const db = await cliSampleDatabase(backend);
      created.push(db);
      for (const format of ['csv', 'arrow'] as const) {
        const out = join(dir, backend.name, 'missing', `states.${format}`);
        const r = bkt(['export', 'mastery', '--all', '--format', format, '--out', out, '--db', db.db]);
        expect(r.status, r.describe).toBe(2);
        expect(r.stderr.trim().split('\n'), r.describe).toHaveLength(1);
        expect(r.stderr).toContain(`--out ${out}: the folder ${join(dir, backend.name, 'missing')} does not exist`);
        expect(r.stderr).not.toMatch(/tmp-\d+|ENOENT|at .*\.js/);
      }
      const folder = bkt(['export', 'params', '--format', 'csv', '--out', dir, '--db', db.db]);
      expect(folder.status, folder.describe).toBe(2);
      expect(folder.stderr).toMatch(/is a folder/);
      expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    });
  });
}
