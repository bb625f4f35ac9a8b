/**
 * A run whose process is killed (SIGKILL: no handler runs) stays RUNNING until someone looks:
 * `bkt db check` and the next run close it as FAILED ("abandoned", with when it was found),
 * and never a run whose process is still alive. Both backends: PostgreSQL by the run's
 * session advisory lock, SQLite by the owner's pid and host.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../../src/jobs/db-admin.js';
import type { RunRow } from '../../src/store/store.js';
import { BACKENDS, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { BIN, ROOT, bkt, cliSampleDatabase } from '../support/run-bkt.js';

const pgOk = await postgresAvailable();
/** Slow enough to be killed mid-run (as in recompute-interrupt.test.ts). */
const SLOW = ['--restarts', '1000', '--tolerance', '0', '--max-iterations', '20000', '--workers', '1', '--min-attempts', '30'];

const runs = (db: string) =>
  withStore(db, 'use', async (store) => {
    const out: RunRow[] = [];
    for await (const r of store.streamRuns()) out.push(r);
    return out;
  });

/** Start a slow recompute; resolves once its RUNNING row is committed, with the row and a way to kill it. */
async function startSlowRecompute(db: string): Promise<{ run: RunRow; kill(): Promise<void> }> {
  const before = new Set((await runs(db)).map((r) => r.id));
  const child = spawn(process.execPath, [BIN, 'recompute', '--db', db, '--activate', '--force', ...SLOW, '--json'], { cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  for (let i = 0; i < 600; i++) {
    const run = (await runs(db).catch(() => [])).find((r) => !before.has(r.id) && r.status === 'RUNNING');
    if (run) {
      return {
        run,
        kill: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`no RUNNING row appeared; stderr: ${stderr}`);
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`abandoned runs on ${backend.name}`, () => {
    let empty: EmptyDb;
    beforeAll(async () => {
      empty = await cliSampleDatabase(backend);
    });
    afterAll(async () => empty?.drop());

    it('bkt db check leaves a live run alone, and closes it as abandoned once its process was killed', async () => {
      const slow = await startSlowRecompute(empty.db);
      let killed = false;
      try {
        // Alive: db check must not touch it.
        const live = bkt(['db', 'check', '--db', empty.db, '--json']);
        expect(live.status, live.describe).toBe(0);
        expect(live.json().abandoned_runs).toEqual([]);
        expect((await runs(empty.db)).find((r) => r.id === slow.run.id)?.status).toBe('RUNNING');
        expect(slow.run.input_summary_json).toMatchObject({ owner: { pid: expect.any(Number), hostname: expect.any(String) } });

        await slow.kill();
        killed = true;
        // Nothing has looked yet: the row still says RUNNING.
        expect((await runs(empty.db)).find((r) => r.id === slow.run.id)).toMatchObject({ status: 'RUNNING', completed_at: null });

        const before = Date.now();
        const check = bkt(['db', 'check', '--db', empty.db, '--json']);
        expect(check.status, check.describe).toBe(0);
        const closed = check.json().abandoned_runs;
        expect(closed).toHaveLength(1);
        expect(closed[0]).toMatchObject({ id: slow.run.id, started_at: slow.run.started_at });
        const row = (await runs(empty.db)).find((r) => r.id === slow.run.id)!;
        expect(row).toMatchObject({ status: 'FAILED', completed_at: closed[0].found_at, error_message: closed[0].error_message });
        expect(row.error_message).toMatch(/^abandoned: its process \(pid \d+ on .+\) .*; found \d{4}-\d\d-\d\dT[\d:.]+Z by bkt db check$/);
        expect(Date.parse(row.completed_at!)).toBeGreaterThanOrEqual(before - 1000);
        // What the run said about itself is kept (the recompute rewrote its summary after the start, owner included).
        expect(row.input_summary_json.owner).toEqual(slow.run.input_summary_json.owner);
        expect(row.input_summary_json).toMatchObject({ activate: true, min_attempts: 30 });

        // Looking again finds nothing more.
        const again = bkt(['db', 'check', '--db', empty.db]);
        expect(again.status, again.describe).toBe(0);
        expect(again.stdout).not.toMatch(/abandoned/);
      } finally {
        if (!killed) await slow.kill();
      }
    }, 180_000);

    it('the next run closes a killed run as abandoned', async () => {
      const slow = await startSlowRecompute(empty.db);
      await slow.kill();
      const next = bkt(['recompute', '--db', empty.db, '--concept-id', '7', '--dry-run', '--json']);
      expect([0, 6], next.describe).toContain(next.status);
      const all = await runs(empty.db);
      const row = all.find((r) => r.id === slow.run.id)!;
      expect(row.status).toBe('FAILED');
      expect(row.error_message).toMatch(new RegExp(`^abandoned: .*; found \\S+ by run ${next.json().run_id} at its start$`));
      expect(all.find((r) => r.id === next.json().run_id)?.status).toBe('SUCCESS');
      expect(all.filter((r) => r.status === 'RUNNING')).toEqual([]);
    }, 180_000);
  });
}
