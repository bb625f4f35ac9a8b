/**
 * Untimed batch rows without an attempt key: no silent identity guess. Refused unless
 * `--untimed` names the rule; a growing log skips the rows an earlier file already applied, a new
 * batch applies them again; re-running the very same batch is a no-op under either rule.
 * Also: `update --fail-fast` names the file and the line of the row the store refuses.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BktError } from '../../src/errors.js';
import { runUpdate } from '../../src/mastery/run-update.js';
import { openStore } from '../../src/store/open-store.js';
import { bkt } from '../support/run-bkt.js';
import { addUsers, createPostgresDb, createSqliteDb, postgresAvailable, randomUuid, type TestDb } from './backends.js';

const pgOk = await postgresAvailable();
const dir = mkdtempSync(join(tmpdir(), 'bkt-untimed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileNo = 0;
function file(lines: string[]): string {
  const path = join(dir, `batch-${++fileNo}.csv`);
  writeFileSync(path, ['user_id,concept_id,correct', ...lines].join('\n') + '\n');
  return path;
}

async function failure(promise: Promise<unknown>): Promise<BktError> {
  try {
    await promise;
  } catch (error) {
    return error as BktError;
  }
  throw new Error('expected a failure');
}

for (const make of [createSqliteDb, createPostgresDb]) {
  const name = make === createSqliteDb ? 'sqlite' : 'postgres';
  describe.skipIf(name === 'postgres' && !pgOk)(`untimed batch rows on ${name}`, () => {
    let testDb: TestDb;
    const user = randomUuid();
    const concept = randomUuid();
    beforeAll(async () => {
      testDb = await make();
      const store = await openStore(testDb.db);
      await addUsers(store, user);
      await store.close();
    });
    afterAll(async () => testDb?.drop());

    async function ledger(): Promise<number> {
      const store = await openStore(testDb.db);
      try {
        return await store.countRows('bkt_attempt_ledger');
      } finally {
        await store.close();
      }
    }

    it('refuses them without --untimed (exit 2, naming the file, the count and the first line), changing nothing', async () => {
      const path = file([`${user},${concept},1`, `${user},${concept},0`]);
      const before = await ledger();
      const error = await failure(runUpdate({ db: testDb.db, input: path }));
      expect((error as BktError).exitCode).toBe(2);
      expect(error.toLine()).toContain(`${path}: 2 rows (first at line 2) have no time and no attempt key`);
      expect(error.toLine()).toMatch(/`untimed` growing-log .* `untimed` new-batch/);
      expect(await ledger()).toBe(before);
    });

    it('growing-log: [A] then [A, B] applies B only; the same file again applies nothing', async () => {
      const c = randomUuid();
      const a = `${user},${c},1`;
      const b = `${user},${c},0`;
      const first = await runUpdate({ db: testDb.db, input: file([a]), untimed: 'growing-log' });
      expect(first).toMatchObject({ mode: 'batch', applied: 1, duplicate: 0, untimed: { rows: 1, rule: 'growing-log' } });
      const grown = file([a, b]);
      const second = await runUpdate({ db: testDb.db, input: grown, untimed: 'growing-log' });
      expect(second).toMatchObject({ applied: 1, duplicate: 1, untimed: { rows: 2, rule: 'growing-log' } });
      const again = await runUpdate({ db: testDb.db, input: grown, untimed: 'growing-log' });
      expect(again).toMatchObject({ applied: 0, duplicate: 2 });
    });

    it('new-batch: [A] then a separate [A, B] applies both; each file re-run applies nothing', async () => {
      const c = randomUuid();
      const a = `${user},${c},1`;
      const b = `${user},${c},0`;
      const one = file([a]);
      expect(await runUpdate({ db: testDb.db, input: one, untimed: 'new-batch' })).toMatchObject({ applied: 1, untimed: { rows: 1, rule: 'new-batch' } });
      expect(await runUpdate({ db: testDb.db, input: one, untimed: 'new-batch' })).toMatchObject({ applied: 0, duplicate: 1 });
      const two = file([a, b]);
      expect(await runUpdate({ db: testDb.db, input: two, untimed: 'new-batch' })).toMatchObject({ applied: 2, duplicate: 0 });
      expect(await runUpdate({ db: testDb.db, input: two, untimed: 'new-batch' })).toMatchObject({ applied: 0, duplicate: 2 });
      const store = await openStore(testDb.db);
      try {
        expect((await store.getState(user, c))!.n_attempts).toBe(3);
      } finally {
        await store.close();
      }
    });

    it('timed rows and rows with an attempt key need no rule (summary says none applied)', async () => {
      const c = randomUuid();
      const path = join(dir, `keyed-${name}.csv`);
      writeFileSync(path, `user_id,concept_id,correct,answered_at,attempt_key\n${user},${c},1,2026-01-01T00:00:00Z,\n${user},${c},0,,k-${c}\n`);
      expect(await runUpdate({ db: testDb.db, input: path })).toMatchObject({ applied: 2, untimed: { rows: 0, rule: null } });
    });

    it('--fail-fast names the file and the line of a row whose user is missing; nothing of that transaction stays', async () => {
      const ghost = randomUuid();
      const path = file([`${user},${concept},1`, `${ghost},${concept},1`]);
      const before = await ledger();
      const error = await failure(runUpdate({ db: testDb.db, input: path, untimed: 'new-batch', failFast: true }));
      expect((error as BktError).exitCode).toBe(4);
      expect(error.message).toBe(`${path} line 3: user ${ghost} does not exist in users`);
      expect(await ledger()).toBe(before);
    });
  });
}

describe('bkt update --untimed (CLI)', () => {
  it('refuses without the flag, and the summary names the rule that applied', async () => {
    const testDb = await createSqliteDb();
    try {
      const user = randomUuid();
      const store = await openStore(testDb.db);
      await addUsers(store, user);
      await store.close();
      const path = file([`${user},${randomUuid()},1`]);
      const refused = bkt(['update', '--db', testDb.db, '--input', path]);
      expect(refused.status, refused.describe).toBe(2);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      const ok = bkt(['update', '--db', testDb.db, '--input', path, '--untimed', 'growing-log']);
      expect(ok.status, ok.describe).toBe(0);
      expect(ok.stdout).toContain('1 row without time or key identified as a growing log');
    } finally {
      await testDb.drop();
    }
  });
});
