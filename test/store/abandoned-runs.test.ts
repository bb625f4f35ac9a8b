/**
 * Store.closeAbandonedRuns on both backends: a run is closed only when its owner is provably
 * gone. PostgreSQL: the owner's session advisory lock is free (its store closed, or its process
 * died); SQLite: the owner's pid on this host is gone or belongs to another process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS, exec, migratedStore, postgresAvailable, type EmptyDb } from './backends.js';

const pgOk = await postgresAvailable();

/** A pid that existed and has exited (and was reaped). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

const setOwner = (store: Store, runId: string, owner: unknown) =>
  exec(store, 'UPDATE algo_runs SET input_summary_json = ? WHERE id = ?', [JSON.stringify({ concept_count: 3, ...(owner === undefined ? {} : { owner }) }), runId]);

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`abandoned runs in the ${backend.name} store`, () => {
    const open: Store[] = [];
    const dbs: EmptyDb[] = [];
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close().catch(() => undefined);
      for (const d of dbs.splice(0)) await d.drop();
    });
    const fresh = async () => {
      const empty = await backend.create();
      dbs.push(empty);
      const store = await migratedStore(empty.db);
      open.push(store);
      return { db: empty.db, store };
    };

    it('records the owner, never closes a live run, and closes a run whose owner is gone', async () => {
      const { db, store } = await fresh();
      const other = await openStore(db);
      open.push(other);
      const id = await other.startRun({ trigger: 'manual', input_summary: { concept_count: 3 } });
      const row = await store.getRun(id);
      expect(row?.input_summary_json).toMatchObject({ concept_count: 3, owner: { pid: process.pid, hostname: hostname() } });

      // Alive (another store of this process holds it): left alone, by anyone.
      expect(await store.closeAbandonedRuns('a test')).toEqual([]);
      expect(await other.closeAbandonedRuns('a test')).toEqual([]);
      // Its summaries can be rewritten without losing the owner.
      await other.updateRun(id, { input_summary: { concept_count: 4 } });
      expect((await store.getRun(id))?.input_summary_json).toMatchObject({ concept_count: 4, owner: row!.input_summary_json.owner });

      if (backend.name === 'postgres') {
        // Its store closes without closing the run: the lock goes with the connection.
        await other.close();
      } else {
        // This process cannot die here: the row names a process that has.
        await setOwner(store, id, { ...(row!.input_summary_json.owner as object), pid: deadPid() });
      }
      const closed = await store.closeAbandonedRuns('a test');
      expect(closed).toEqual([{ id, started_at: row!.started_at, found_at: expect.any(String), error_message: expect.stringMatching(/^abandoned: .*; found \S+ by a test$/) }]);
      expect(await store.getRun(id)).toMatchObject({ status: 'FAILED', completed_at: closed[0].found_at, error_message: closed[0].error_message });
      // Closed once: nothing left to find, and a finished run is never touched.
      expect(await store.closeAbandonedRuns('a test')).toEqual([]);
      const done = await store.startRun({ trigger: 'manual', input_summary: {} });
      await store.finishRun(done, { status: 'SUCCESS', output_summary: {} });
      expect(await store.closeAbandonedRuns('a test')).toEqual([]);
      expect((await store.getRun(done))?.status).toBe('SUCCESS');
    });

    it('leaves runs it cannot judge: no owner (an older bkt), or (SQLite) another host', async () => {
      const { store } = await fresh();
      const legacy = await store.startRun({ trigger: 'manual', input_summary: {} });
      const elsewhere = await store.startRun({ trigger: 'manual', input_summary: {} });
      await store.close();
      open.length = 0;
      const reopened = await openStore(dbs[0].db);
      open.push(reopened);
      await setOwner(reopened, legacy, undefined);
      if (backend.name === 'sqlite') await setOwner(reopened, elsewhere, { pid: deadPid(), hostname: `not-${hostname()}` });
      const closed = (await reopened.closeAbandonedRuns('a test')).map((r) => r.id);
      expect(closed).not.toContain(legacy);
      // PostgreSQL judges by the lock alone, wherever the owner ran: its store is closed, so it is gone.
      expect(closed).toEqual(backend.name === 'postgres' ? [elsewhere] : []);
      expect((await reopened.getRun(legacy))?.status).toBe('RUNNING');
    });

    it.skipIf(backend.name !== 'sqlite' || !safeProcStat())('(SQLite) a reused pid is not the owner: another start time means gone', async () => {
      const { store } = await fresh();
      const id = await store.startRun({ trigger: 'manual', input_summary: {} });
      const owner = (await store.getRun(id))!.input_summary_json.owner as { process_started: string };
      expect(owner.process_started).toMatch(/^\d+$/);
      // Another store (as another process would) sees this pid alive with the recorded start time...
      const other = await openStore(dbs[0].db);
      open.push(other);
      expect(await other.closeAbandonedRuns('a test')).toEqual([]);
      // ...and a different recorded start time as a different process.
      await setOwner(store, id, { ...owner, process_started: String(Number(owner.process_started) + 1) });
      expect((await other.closeAbandonedRuns('a test')).map((r) => r.id)).toEqual([id]);
    });
  });
}

function safeProcStat(): boolean {
  try {
    return readFileSync('/proc/self/stat', 'utf8').length > 0;
  } catch {
    return false;
  }
}
