/**
 * recompute and persistFitReport against both backends: run rows, per-concept transactions,
 * interruption, dry runs and the quality gate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import { QualityGateError } from '../../src/errors.js';
import { persistFitReport } from '../../src/jobs/persist-fit.js';
import { recompute } from '../../src/jobs/recompute.js';
import { fitConcepts } from '../../src/model/fit-concepts.js';
import { toUuid } from '../../src/store/ids.js';
import type { Store } from '../../src/store/store.js';
import { BACKENDS, migratedStore, postgresAvailable, tableCounts, type EmptyDb } from '../store/backends.js';

const pgOk = await postgresAvailable();
const SAMPLE = 'fixtures/sample.csv';
const FAST = { restarts: 2, workers: 1 };

for (const backend of BACKENDS) {
  describe.skipIf(backend.name === 'postgres' && !pgOk)(`jobs on ${backend.name}`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });
    async function sampleStore(): Promise<Store> {
      const empty: EmptyDb = await backend.create();
      const store = await migratedStore(empty.db);
      cleanup.push(() => empty.drop(), () => store.close());
      const { table } = await readAttempts({ input: SAMPLE });
      await store.importAttempts(table);
      return store;
    }

    it('writes one row per fitted concept and a SUCCESS run whose summaries match', async () => {
      const store = await sampleStore();
      const result = await recompute(store, { activate: true }, FAST);
      const run = await store.getRun(result.run_id);
      expect(run?.status).toBe('SUCCESS');
      expect(run?.output_summary_json).toMatchObject({
        concepts_processed: result.summary.concepts_processed,
        params_fitted: result.params_ids.length,
        errors_count: Object.keys(result.summary.errors).length,
      });
      expect(await store.countRows('bkt_skill_params')).toBe(result.params_ids.length);
      const active = await store.listParams();
      expect(active.map((p) => p.id).sort()).toEqual([...result.params_ids].sort());
      // Too little data is a skip per concept, counted apart from errors, not a stop.
      expect(Object.values(result.summary.skipped_concepts).some((r) => /< --min-(attempts|users)/.test(r))).toBe(true);
      expect(result.summary.errors).toEqual({});
      expect(run?.output_summary_json).toMatchObject({ skipped_count: Object.keys(result.summary.skipped_concepts).length, errors_count: 0 });
    });

    it('an abort between concepts leaves whole concepts and a FAILED run saying how far it got', async () => {
      const store = await sampleStore();
      const abort = new AbortController();
      const result = await recompute(store, { activate: true, batchSize: 4 }, FAST, {
        signal: abort.signal,
        onProgress: (done) => {
          if (done === 5) abort.abort();
        },
      });
      expect(result.ok).toBe(false);
      expect(result.summary.interrupted).toBe(true);
      expect(result.summary.concepts_processed).toBe(5);
      const run = await store.getRun(result.run_id);
      expect(run).toMatchObject({ status: 'FAILED', error_message: expect.stringMatching(/^interrupted after 5 of \d+ concepts/) });
      const rows = await store.listParams({ all: true });
      expect(rows.map((r) => r.id).sort()).toEqual([...result.params_ids].sort());
      expect(run?.output_summary_json.params_ids).toEqual(result.params_ids);
    });

    it('--dry-run writes no parameter rows, only the run row', async () => {
      const store = await sampleStore();
      const before = await tableCounts(store);
      const result = await recompute(store, { dryRun: true, conceptIds: ['0', '1'] }, FAST);
      expect(result.params_ids).toEqual([]);
      expect(result.summary.concepts_processed).toBe(2);
      expect(await tableCounts(store)).toEqual({ ...before, algo_runs: before.algo_runs + 1 });
    });

    it('names requested concepts that have no data', async () => {
      const store = await sampleStore();
      const result = await recompute(store, { conceptIds: ['0', '424242'] }, FAST);
      expect(result.summary.errors[toUuid('424242')]).toMatch(/no attempts/);
      expect(result.summary.concepts_processed).toBe(2);
      expect((await store.getRun(result.run_id))?.input_summary_json).toMatchObject({ concept_count: 2, min_attempts: 10, activate: false });
    });

    it('persistFitReport refuses to activate a degenerate fit: QualityGateError after writing the others', async () => {
      const store = await sampleStore();
      const { table } = await readAttempts({ input: SAMPLE, conceptIds: ['0', '1'] });
      // The box method made explicit: its constraints_applied is the bare box.
      const report = await fitConcepts(table, { ...FAST, method: 'box' });
      const bad = report.concepts.find((c) => c.status === 'fitted')!;
      bad.degenerate = true;
      bad.violations = [{ rule: 'low_discrimination', kind: 'degenerate', message: '(1 - S) - G = 0.01 < 0.1' }];
      const error = await persistFitReport(store, report, { activate: true }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QualityGateError);
      expect((error as QualityGateError).exitCode).toBe(6);
      expect((error as QualityGateError).message).toMatch(new RegExp(`concept ${bad.concept_id}: not activated \\(degenerate: \\(1 - S\\) - G = 0.01`));
      const rows = await store.listParams({ all: true });
      expect(rows.map((r) => r.concept_id)).not.toContain(toUuid(bad.concept_id));
      const fitted = report.concepts.filter((c) => c.status === 'fitted').length;
      expect(rows).toHaveLength(fitted - 1);
      const forced = await persistFitReport(store, report, { activate: true, force: true, dataFrom: '2026-01-01' });
      expect(forced.params_ids).toHaveLength(fitted);
      const row = await store.getActiveParams(toUuid(bad.concept_id));
      expect(row).toMatchObject({ is_active: true, fitted_on_data_from: '2026-01-01T00:00:00.000Z', metrics: { degenerate: true, trainer: { restarts: 2 } } });
      expect(row?.constraints_applied).toEqual({ L0_min: 0.001, L0_max: 0.5, T_min: 0.001, T_max: 0.5, S_min: 0.001, S_max: 0.4, G_min: 0.001, G_max: 0.4 });
      expect((await store.getRun(forced.run_id!))?.status).toBe('SUCCESS');
    });

    it('stores p_F under metrics.model when forgetting is fitted, and resolves it', async () => {
      const store = await sampleStore();
      const { table } = await readAttempts({ input: SAMPLE, conceptIds: ['0'] });
      const report = await fitConcepts(table, { ...FAST, forgets: true });
      const result = await persistFitReport(store, report, { activate: true, force: true, logRun: false });
      expect(result.run_id).toBeNull();
      const pF = report.concepts[0].params!.p_F;
      expect((await store.getParams(result.params_ids[0]))?.metrics.model).toEqual({ p_F: pF });
      expect((await store.resolveParams(toUuid('0'))).params.p_F).toBe(pF);
    });
  });
}
