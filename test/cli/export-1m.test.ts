import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { createSqliteDb, type TestDb } from '../mastery/backends.js';

/**
 * 1 M mastery rows exported in constant memory: a child process runs the export and reports its
 * own peak RSS (process.resourceUsage().maxRSS), which must stay under 200 MB for every format.
 */
describe('bkt export of 1 M mastery rows', () => {
  let testDb: TestDb;
  let dir: string;
  const N_USERS = 1000;
  const N_CONCEPTS = 1000;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    const store = await openStore(testDb.db);
    const driver = sqlDriverOf(store);
    const users = Array.from({ length: N_USERS }, (_, i) => `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`);
    const concepts = Array.from({ length: N_CONCEPTS }, (_, c) => `cccccccc-0000-4000-8000-${c.toString(16).padStart(12, '0')}`);
    await driver.transaction(async (tx) => {
      // Rows in primary-key order, the secondary indexes built once at the end: half the time of
      // updating five indexes a million times (the same rows and schema either way).
      const indexes = await tx.queryArrays("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'bkt_user_skill_state' AND sql IS NOT NULL");
      for (const [name] of indexes) await tx.run(`DROP INDEX ${String(name)}`);
      await tx.bulkInsert('users', ['id', 'role'], users.map((u) => [u, 'STUDENT']));
      function* states() {
        const now = '2026-01-21T12:00:00.000Z';
        for (let u = 0; u < N_USERS; u++) {
          for (let c = 0; c < N_CONCEPTS; c++) yield [users[u], concepts[c], ((u * 31 + c * 17) % 1000) / 1000, 1 + (u % 7), now, null, null, now, now];
        }
      }
      await tx.bulkInsert('bkt_user_skill_state', ['user_id', 'concept_id', 'p_mastery', 'n_attempts', 'last_attempt_at', 'last_seen_question_id', 'algo_version_id', 'created_at', 'updated_at'], states());
      for (const [, sql] of indexes) await tx.run(String(sql));
    });
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-export-1m-'));
  }, 300_000);
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(['csv', 'arrow', 'parquet'] as const)('exports as %s with peak RSS under 200 MB', (format) => {
    const out = join(dir, `m.${format}`);
    const script = `
      const { runExport } = await import(${JSON.stringify(new URL('../../dist/src/export/export-rows.js', import.meta.url).href)});
      const r = await runExport({ db: ${JSON.stringify(testDb.db)}, kind: 'mastery', format: ${JSON.stringify(format)}, out: ${JSON.stringify(out)} });
      process.stdout.write(JSON.stringify({ rows: r.rows, maxRssKb: process.resourceUsage().maxRSS }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(child.status, child.stderr).toBe(0);
    const { rows, maxRssKb } = JSON.parse(child.stdout);
    expect(rows).toBe(N_USERS * N_CONCEPTS);
    console.log(`export mastery ${format}: 1 M rows, peak RSS ${(maxRssKb / 1024).toFixed(0)} MB`);
    expect(maxRssKb / 1024).toBeLessThan(200);
  }, 300_000);
});
