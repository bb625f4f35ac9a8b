import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readParamsFile } from '../../src/params-file.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bkt-fit-variants-'));
});

const GS = 'fixtures/pybkt-variants/gs/train.csv.gz';

describe('bkt fit with model variants', () => {
  it('fits --multigs (default column template_id) with --multilearn, prints class parameters and writes them to --out', async () => {
    const out = join(dir, 'params.json');
    const r = await bktIn(['fit', '--input', GS, '--concept-id', 'skill_1', '--multigs', '--multilearn', 'template_id', '--restarts', '2', '--out', out, '--json']);
    expect(r.status, r.describe).toBe(0);
    const [concept] = r.json().concepts;
    expect(concept.model.variants).toEqual(['multigs', 'multilearn']);
    expect(concept.model.columns).toEqual({ multigs: 'template_id', multilearn: 'template_id' });
    // skill_1 has templates 101..110, listed in natural order.
    expect(concept.model.gs.map((e: { id: string }) => e.id)).toEqual(['101', '102', '103', '104', '105', '106', '107', '108', '109', '110']);
    expect(concept.model.learn).toHaveLength(10);
    const [entry] = await readParamsFile(out);
    expect(entry.model).toEqual(concept.model);
    expect(entry.params).toEqual(concept.params);
  });

  it('keeps the class parameters through a CSV params file', async () => {
    const out = join(dir, 'params.csv');
    const r = await bktIn(['fit', '--input', GS, '--concept-id', 'skill_2', '--multigs', '--restarts', '1', '--out', out]);
    expect(r.status, r.describe).toBe(0);
    const [entry] = await readParamsFile(out);
    expect(entry.model!.gs).toHaveLength(9);
  });

  it('refuses --multiprior on the answer column (exit 2) and on a per-attempt column (exit 3), one line each', async () => {
    const leak = await bktIn(['fit', '--input', GS, '--multiprior', 'correct', '--restarts', '1']);
    expect(leak.status, leak.describe).toBe(2);
    expect(leak.stderr.trim().split('\n')).toHaveLength(1);
    expect(leak.stderr).toMatch(/--multiprior correct: .*answer/);
    const perAttempt = await bktIn(['fit', '--input', GS, '--multiprior', 'template_id', '--restarts', '1']);
    expect(perAttempt.status, perAttempt.describe).toBe(3);
    expect(perAttempt.stderr).toMatch(/learner \d+ has both .* per-attempt column/);
  });

  it('refuses two transition variants together and a missing column', async () => {
    const both = await bktIn(['fit', '--input', GS, '--multilearn', '--multipair']);
    expect(both.status, both.describe).toBe(2);
    const missing = await bktIn(['fit', '--input', GS, '--multigs', 'item_id']);
    expect(missing.status, missing.describe).toBe(3);
    expect(missing.stderr).toMatch(/no column "item_id" \(given with --multigs\)/);
  });
});

describe('evaluate and validate with variant parameters', () => {
  it('scores held-out learners per item (better than the standard model on item-varying data) and validates every class', async () => {
    const variant = join(dir, 'variant.json');
    const standard = join(dir, 'standard.json');
    const test = 'fixtures/pybkt-variants/gs/test.csv.gz';
    expect((await bktIn(['fit', '--input', GS, '--concept-id', 'skill_3', '--multigs', '--restarts', '1', '--out', variant])).status).toBe(0);
    expect((await bktIn(['fit', '--input', GS, '--concept-id', 'skill_3', '--restarts', '1', '--out', standard])).status).toBe(0);
    const auc = async (params: string) => {
      const r = await bktIn(['evaluate', '--input', test, '--concept-id', 'skill_3', '--params', params, '--json']);
      expect(r.status, r.describe).toBe(0);
      return r.json().overall.model.auc as number;
    };
    // Dataset A's gs family: per-template guess and slip lift held-out AUC by about 0.02 (pyBKT's fixed build: 0.826 vs 0.808 pooled).
    expect(await auc(variant)).toBeGreaterThan((await auc(standard)) + 0.005);
    const v = await bktIn(['validate', '--params', variant, '--json']);
    expect(v.status, v.describe).toBe(0);
    const [concept] = v.json().concepts;
    const classes = concept.checks.find((c: { name: string }) => c.name === 'classes');
    expect(classes.status).toBe('pass');
    expect(classes.message).toMatch(/multigs \(10 classes\)/);
  });
});

describe('cross-validation of a variant', () => {
  it('evaluate --folds fits the variant in each fold and scores held-out learners per item', async () => {
    const cv = async (flags: string[]) => {
      const r = await bktIn(['evaluate', '--input', GS, '--concept-id', 'skill_1', '--folds', '3', '--restarts', '1', ...flags, '--json']);
      expect(r.status, r.describe).toBe(0);
      return r.json().cv_auc_mean as number;
    };
    expect(await cv(['--multigs'])).toBeGreaterThan((await cv([])) + 0.005);
    const refused = await bktIn(['evaluate', '--input', GS, '--params', 'fixtures/pybkt-variants/reference.json.gz', '--multigs']);
    expect(refused.status, refused.describe).toBe(2);
  });
});

describe('a variant fit from the app\'s tables', () => {
  it('classes rows by the answers\' question ids, stores the classes under metrics.model and scores them back', async () => {
    const db = join(dir, 'app.sqlite');
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    const imported = await bktIn(['import', '--input', GS, '--col-question', 'template_id', '--concept-id', 'skill_2', '--db', db]);
    expect(imported.status, imported.describe).toBe(0);
    const fit = await bktIn(['fit', '--db', db, '--multigs', '--restarts', '1', '--activate', '--force', '--json']);
    expect(fit.status, fit.describe).toBe(0);
    const [concept] = fit.json().concepts;
    expect(concept.model.columns).toEqual({ multigs: 'question_id' });
    expect(concept.model.gs).toHaveLength(9);
    const scored = await bktIn(['evaluate', '--input', 'fixtures/pybkt-variants/gs/test.csv.gz', '--col-question', 'template_id', '--concept-id', 'skill_2', '--db', db, '--json']);
    expect(scored.status, scored.describe).toBe(0);
    // The same concept-level values without the classes: the items' own guess and slip must score better.
    const pooled = join(dir, 'pooled.json');
    writeFileSync(pooled, JSON.stringify([{ concept_id: 'skill_2', ...concept.params }]));
    const baseline = await bktIn(['evaluate', '--input', 'fixtures/pybkt-variants/gs/test.csv.gz', '--concept-id', 'skill_2', '--params', pooled, '--json']);
    expect(baseline.status, baseline.describe).toBe(0);
    expect(scored.json().overall.model.auc).toBeGreaterThan(baseline.json().overall.model.auc + 0.005);
  });
});
