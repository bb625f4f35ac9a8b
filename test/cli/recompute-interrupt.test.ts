/**
 * Interrupting `bkt recompute` (SIGINT, or SIGKILL) leaves only whole concepts and a run row that
 * says how far it got. The run is slowed down (many restarts, no early stop) so that it is
 * interrupted while it writes.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withStore } from '../../src/jobs/db-admin.js';
import type { RunRow } from '../../src/store/store.js';
import { BACKENDS, exec, postgresAvailable, type EmptyDb } from '../store/backends.js';
import { BIN, ROOT, cliSampleDatabase } from '../support/run-bkt.js';

const pgOk = await postgresAvailable();
const SLOW = ['--restarts', '1000', '--tolerance', '0', '--max-iterations', '20000', '--workers', '1', '--min-attempts', '30'];

/** The latest run row and every parameter row id. */
const snapshot = (db: string) =>
  withStore(db, 'use', async (store) => {
    let run: RunRow | null = null;
    for await (const r of store.streamRuns()) run = r;
    const params = (await store.listParams({ all: true })).map((p) => p.id).sort();
    return { run, params };
  });

const clearParams = (db: string) => withStore(db, 'use', (store) => exec(store, 'DELETE FROM bkt_skill_params'));

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`interrupting recompute on ${backend.name}`, () => {
    let empty: EmptyDb;
    beforeAll(async () => {
      empty = await cliSampleDatabase(backend);
    });
    afterAll(async () => empty?.drop());

    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      it(`${signal} while writing leaves whole concepts and a run row that matches them`, async () => {
        await clearParams(empty.db);
        await snapshot(empty.db); // warm the reader up before the clock starts
        const child = spawn(process.execPath, [BIN, 'recompute', '--db', empty.db, '--activate', '--force', ...SLOW, '--json'], { cwd: ROOT });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        // An interrupted run still prints its result (--json, with the failure): read it, or a full
        // pipe keeps the process from flushing and exiting.
        child.stdout.resume();
        const exited = new Promise<number | null>((r) => child.on('close', (code, sig) => r(code ?? (sig ? -1 : null))));
        let fitted = 0;
        for (let i = 0; i < 900 && fitted === 0; i++) {
          await new Promise((r) => setTimeout(r, 100));
          const { run } = await snapshot(empty.db).catch(() => ({ run: null }));
          if (run?.status === 'RUNNING') fitted = (run.output_summary_json as { params_fitted?: number }).params_fitted ?? 0;
        }
        expect(fitted, `the run wrote a concept before it finished; stderr: ${stderr}`).toBeGreaterThan(0);
        child.kill(signal);
        const code = await exited;
        const { run, params } = await snapshot(empty.db);
        const summary = run!.output_summary_json as { params_ids: string[]; concept_total: number };
        if (signal === 'SIGINT') {
          expect(code, stderr).toBe(130);
          expect(run).toMatchObject({ status: 'FAILED', error_message: expect.stringMatching(/^interrupted after \d+ of \d+ concepts/) });
          expect(stderr).toMatch(/Interrupted: finishing the concept being written/);
        } else {
          expect(run?.status).toBe('RUNNING');
        }
        // Whole concepts only: every row the run wrote is listed, and nothing else exists.
        expect(params).toEqual([...summary.params_ids].sort());
        expect(params.length).toBeLessThan(summary.concept_total);
      }, 180_000);
    }
  });
}

