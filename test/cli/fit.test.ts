import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readParamsFile } from '../../src/params-file.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bkt-fit-'));
});

const json = (stdout: string) => JSON.parse(stdout);

describe('bkt fit on files', () => {
  it('fits the bundled real sample and prints one JSON document with every concept', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = json(r.stdout);
    expect(out.summary.fitted).toBeGreaterThan(10);
    expect(out.summary.fitted + out.summary.skipped).toBe(out.concepts.length);
    const fitted = out.concepts.find((c: { status: string }) => c.status === 'fitted');
    expect(Object.keys(fitted.params).sort()).toEqual(['p_F', 'p_G', 'p_L0', 'p_S', 'p_T']);
    expect(fitted.metrics.auc).toBeGreaterThan(0);
    expect(typeof fitted.valid).toBe('boolean');
    const skipped = out.concepts.find((c: { status: string }) => c.status === 'skipped');
    expect(skipped.reason).toMatch(/--min-(attempts|users)/);
  });

  it('writes --out as JSON and CSV that read back to the same parameters', async () => {
    const jsonOut = join(dir, 'params.json');
    const csvOut = join(dir, 'params.csv');
    expect((await bktIn(['fit', '--input', 'fixtures/sample.csv', '--out', jsonOut, '--json'])).status).toBe(0);
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--out', csvOut]);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout).toContain('parameters written to');
    const fromJson = await readParamsFile(jsonOut);
    const fromCsv = await readParamsFile(csvOut);
    expect(fromCsv.length).toBe(fromJson.length);
    const byId = new Map(fromCsv.map((e) => [e.concept_id, e.params]));
    for (const entry of fromJson) {
      for (const key of ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const) expect(byId.get(entry.concept_id)![key]).toBe(entry.params[key]);
    }
  });

  it('reads attempts from stdin and recovers simulated parameters', async () => {
    const file = join(dir, 'simulated.csv');
    const sim = await bktIn(['simulate', '--learners', '2000', '--attempts', '20', '--L0', '0.3', '--T', '0.1', '--S', '0.1', '--G', '0.2', '--seed', '9', '--out', file]);
    expect(sim.status, sim.describe).toBe(0);
    const r = await bktIn(['fit', '--input', '-', '--json'], { input: readFileSync(file, 'utf8') });
    expect(r.status, r.describe).toBe(0);
    const [concept] = json(r.stdout).concepts;
    // 40,000 answers: each estimate within 0.03 of the truth
    expect(Math.abs(concept.params.p_L0 - 0.3)).toBeLessThan(0.03);
    expect(Math.abs(concept.params.p_T - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(concept.params.p_S - 0.1)).toBeLessThan(0.03);
    expect(Math.abs(concept.params.p_G - 0.2)).toBeLessThan(0.03);
  });

  it('holds --fix parameters and respects bound flags', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix', 'p_G=0.25', '--S-max', '0.2', '--json']);
    expect(r.status, r.describe).toBe(0);
    for (const c of json(r.stdout).concepts.filter((c: { status: string }) => c.status === 'fitted')) {
      expect(c.params.p_G).toBe(0.25);
      expect(c.params.p_S).toBeLessThanOrEqual(0.2);
    }
  });

  it('--strict exits 6 naming the degenerate concepts, after printing the results', async () => {
    // Guess held at 0.6 and slip at 0.35: (1 - S) - G = 0.05 < 0.1, degenerate by schema.md
    const file = join(dir, 'degenerate.csv');
    expect((await bktIn(['simulate', '--learners', '300', '--attempts', '10', '--seed', '1', '--out', file])).status).toBe(0);
    const r = await bktIn(['fit', '--input', file, '--fix', 'p_G=0.6', '--fix', 'p_S=0.35', '--strict', '--json']);
    expect(r.status, r.describe).toBe(6);
    expect(json(r.stdout).concepts[0].degenerate).toBe(true);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--strict: 1 fitted concept\(s\) invalid or degenerate: concept-1/);
  });

  it('fails with exit 3 and one line naming file, line, column and value for a bad correct value', async () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, 'user_id,concept_id,correct\n1,a,1\n2,a,yes\n');
    const r = await bktIn(['fit', '--input', file]);
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/bad\.csv.*line 3.*correct.*yes/);
  });

  it('fails with exit 3 for a missing file and exit 2 for bad flags, each in one line', async () => {
    const missing = await bktIn(['fit', '--input', join(dir, 'nope.csv')]);
    expect(missing.status, missing.describe).toBe(3);
    expect(missing.stderr).toMatch(/nope\.csv/);
    const badTolerance = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--tolerance', 'abc']);
    expect(badTolerance.status, badTolerance.describe).toBe(2);
    expect(badTolerance.stderr).toMatch(/--tolerance must be a number/);
    const badFix = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix', 'p_X=2']);
    expect(badFix.status, badFix.describe).toBe(2);
    expect(badFix.stderr).toMatch(/--fix "p_X=2"/);
    const both = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--no-bounds', '--G-max', '0.3']);
    expect(both.status, both.describe).toBe(2);
  });

  it('--cv K cross-validates by learner and records real fold metrics with each concept', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--cv', '3', '--restarts', '2', '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = json(r.stdout);
    expect(out.summary.cross_validation.cv_folds).toBe(3);
    const fitted = out.concepts.filter((c: { status: string }) => c.status === 'fitted');
    for (const c of fitted) {
      expect(c.cv.cv_folds).toBe(3);
      expect(c.cv.cv_per_fold).toHaveLength(3);
      expect(c.cv.cv_rmse_mean).toBeGreaterThan(0);
      expect(c.cv.cv_rmse_mean).toBeLessThan(1);
    }
    // The overall held-out AUC is a real figure, not a placeholder 0.
    expect(out.summary.cross_validation.cv_auc_mean).toBeGreaterThan(0.5);
  });

  it('prints a readable table when not asked for JSON', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv']);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout).toMatch(/concept.*status.*attempts/);
    expect(r.stdout).toMatch(/\d+ fitted, \d+ skipped, 0 failed/);
    // no ANSI colours when piped
    expect(r.stdout).not.toMatch(/\u001b\[/);
    expect(readFileSync('fixtures/sample.csv', 'utf8').startsWith('user_id,skill_name,correct')).toBe(true);
  });
});
