/**
 * A library caller reads the names it passed: errors from the exported functions name options by
 * their option path in backticks (`input`, `fromDate`, `db`), never by the CLI flag the command
 * line shows for them (the CLI translates, see src/cli/option-flags.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { optionPathsToFlags } from '../../src/cli/option-flags.js';
import { BktError, openStore, readAttempts, readParamsFile, runPredict } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-option-paths-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lineOf(work: () => Promise<unknown>): Promise<string> {
  try {
    await work();
  } catch (error) {
    if (error instanceof BktError) return error.toLine();
    throw error;
  }
  throw new Error('expected an error');
}

describe('library errors name option paths', () => {
  it('readAttempts, readParamsFile and runPredict name `input`, `table`, `params`, `conceptIds`', async () => {
    const missing = await lineOf(() => readAttempts({ input: join(dir, 'missing.csv') }));
    expect(missing).toMatch(/Check the `input` path$/);
    expect(optionPathsToFlags(missing)).toMatch(/Check the --input path$/);

    const db = join(dir, 'attempts.sqlite');
    const { default: Database } = await import('better-sqlite3');
    const sqlite = new Database(db);
    sqlite.exec('CREATE TABLE other (user_id TEXT, concept_id TEXT, correct INTEGER)');
    sqlite.close();
    const noTable = await lineOf(() => readAttempts({ input: db }));
    expect(noTable).toMatch(/no table "attempts" .*Pass `table` NAME or `query` "SELECT \.\.\."$/);
    expect(optionPathsToFlags(noTable)).toMatch(/Pass --table NAME or --query "SELECT \.\.\."$/);

    expect(await lineOf(() => readParamsFile(join(dir, 'missing.json')))).toMatch(/Check the `params` path$/);

    const params = join(dir, 'params.json');
    writeFileSync(params, JSON.stringify([{ concept_id: '7', p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2 }]));
    const none = await lineOf(() => runPredict({ read: { input: 'fixtures/sample.csv' }, params, out: join(dir, 'p.csv'), conceptIds: ['nope'] }));
    expect(none).toMatch(/^`conceptIds` nope: no concept/);
    expect(optionPathsToFlags(none)).toMatch(/^--concept-id nope: no concept/);
  });

  it('openStore and the store name `db` and `fromDate`', async () => {
    const absent = join(dir, 'absent.sqlite');
    const noDb = await lineOf(() => openStore(absent));
    expect(noDb).toContain('or pass `db`');
    expect(optionPathsToFlags(noDb)).toContain(`Run "bkt db migrate --db ${absent}" to create it, or pass --db`);

    const path = join(dir, 'store.sqlite');
    const created = await openStore(path, { mode: 'migrate' });
    await created.migrate();
    await created.close();
    const opened = await openStore(path);
    try {
      const badDate = await lineOf(() => opened.readAttempts({ fromDate: 'soon' }));
      expect(badDate).toMatch(/^`fromDate` "soon" is not a date/);
      expect(optionPathsToFlags(badDate)).toMatch(/^--from-date "soon" is not a date/);
    } finally {
      await opened.close();
    }
  });
});
