/**
 * Activations racing each other from separate processes (the production shape: two operators, or
 * a nightly job and an operator) leave exactly one active parameter set per concept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integerToUuid } from '../../src/store/ids.js';
import { withStore } from '../../src/jobs/db-admin.js';
import { BACKENDS, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { bktAsync, cliSampleDatabase } from '../support/run-bkt.js';

const pgOk = await postgresAvailable();
const CONCEPT = integerToUuid(0);

const rows = (db: string) => withStore(db, 'use', (store) => store.listParams({ conceptIds: [CONCEPT], all: true }));

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`concurrent activations on ${backend.name}`, () => {
    let empty: EmptyDb;
    beforeAll(async () => {
      empty = await cliSampleDatabase(backend);
    });
    afterAll(async () => empty?.drop());

    it('four processes fitting and activating one concept at once leave one active row of four', async () => {
      const runs = await Promise.all(
        [1, 2, 3, 4].map((seed) =>
          bktAsync(['recompute', '--db', empty.db, '--concept-id', '0', '--activate', '--force', '--restarts', '1', '--seed', String(seed), '--json']),
        ),
      );
      for (const r of runs) expect(r.status, r.describe).toBe(0);
      const all = await rows(empty.db);
      expect(all).toHaveLength(4);
      expect(all.filter((p) => p.is_active)).toHaveLength(1);
    }, 120_000);

    it('two processes rolling back to different sets leave exactly one of them active', async () => {
      const [a, b] = (await rows(empty.db)).filter((p) => !p.is_active);
      const [ra, rb] = await Promise.all([
        bktAsync(['params', 'activate', a.id, '--db', empty.db, '--json']),
        bktAsync(['params', 'activate', b.id, '--db', empty.db, '--json']),
      ]);
      expect(ra.status, ra.describe).toBe(0);
      expect(rb.status, rb.describe).toBe(0);
      const active = (await rows(empty.db)).filter((p) => p.is_active).map((p) => p.id);
      expect(active).toHaveLength(1);
      expect([a.id, b.id]).toContain(active[0]);
    }, 120_000);
  });
}
