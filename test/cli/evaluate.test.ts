import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bkt, reference, tempDir, writePybktParamsFile } from './quality-fixtures.js';
import { bktIn } from '../support/in-process.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bkt evaluate --params', () => {
  it.each(['num_fits_5_seed_42', 'num_fits_5_seed_42_forgets'])(
    "scores pyBKT's %s params on test.csv.gz with pyBKT's own test metrics (1e-6)",
    (config) => {
      const params = writePybktParamsFile(dir, config);
      const r = bkt(['evaluate', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--json']);
      expect(r.status, r.describe).toBe(0);
      const out = JSON.parse(r.stdout);
      const expected = reference.fits[config].test_metrics;
      // Same rows and the same formula as pyBKT; only summation order differs.
      expect(out.rows_scored).toBe(117_566);
      expect(Math.abs(out.overall.model.rmse - expected.rmse)).toBeLessThan(1e-6);
      expect(Math.abs(out.overall.model.auc - expected.auc)).toBeLessThan(1e-6);
      expect(Math.abs(out.overall.model.accuracy - expected.accuracy)).toBeLessThan(1e-6);
      expect(out.concepts_no_params).toEqual(['64']);
      const skill64 = out.concepts.find((c: { concept_id: string }) => c.concept_id === '64');
      expect(skill64).toMatchObject({ status: 'no_params', n: 1, model: null });
      expect(out.baseline_source).toBe('evaluated_data');
      expect(out.overall.lift.rmse).toBeGreaterThan(0);
    },
  );

  it('takes baseline means from --baseline-input and says so', async () => {
    const params = writePybktParamsFile(dir, 'num_fits_5_seed_42');
    const r = await bktIn(['evaluate', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--baseline-input', 'fixtures/builder/train.csv.gz', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.baseline_source).toBe('training_data');
    // Training share correct is 0.677, test 0.688: the overall-mean baseline is then worse than in-sample.
    expect(out.overall.baseline_overall_mean.rmse).toBeGreaterThan(0.4631);
  });

  it('prints a human table with the baselines and the rows left unscored', async () => {
    const params = writePybktParamsFile(dir, 'num_fits_5_seed_42');
    const r = await bktIn(['evaluate', '--input', 'fixtures/builder/test.csv.gz', '--params', params]);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout).toMatch(/baseline: per-concept mean/);
    expect(r.stdout).toMatch(/1 concept\(s\) without parameters, 1 rows not scored: 64/);
  });
});

describe('bkt evaluate --folds', () => {
  it('cross-validates by learner with the trainer flags, deterministic for a seed', async () => {
    const args = ['evaluate', '--input', 'fixtures/sample.csv', '--folds', '3', '--seed', '7', '--restarts', '2', '--json'];
    const a = await bktIn(args);
    expect(a.status, a.describe).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out.mode).toBe('cross_validation');
    expect(out.cv_folds).toBe(3);
    expect(out.per_fold).toHaveLength(3);
    expect(out.per_fold.reduce((s: number, f: { test_learners: number }) => s + f.test_learners, 0)).toBe(23);
    expect(out.cv_auc_mean).toBeGreaterThan(0.5);
    const b = await bktIn(args);
    expect(JSON.parse(b.stdout).per_fold).toEqual(out.per_fold);
  });
});

describe('bkt evaluate errors', () => {
  it('exits 2 when both --params and --folds are given', async () => {
    const r = await bktIn(['evaluate', '--input', 'fixtures/sample.csv', '--params', 'x.json', '--folds', '3']);
    expect(r.status, r.describe).toBe(2);
  });

  it('exits 2 when neither params nor folds are given, naming the choice', async () => {
    const r = await bktIn(['evaluate', '--input', 'fixtures/sample.csv']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toMatch(/--params FILE, --db URL or --folds K/);
  });

  it('exits 3 naming a params file that holds no parameters', async () => {
    const file = join(dir, 'empty.json');
    writeFileSync(file, '[]');
    const r = await bktIn(['evaluate', '--input', 'fixtures/sample.csv', '--params', file]);
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr).toContain('empty.json');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
