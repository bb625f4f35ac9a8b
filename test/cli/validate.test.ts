import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { assertWellFormedXml } from '../quality/xml-check.js';
import { BIN } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';
import { bkt, tempDir, writeParamsFile, writePybktParamsFile } from './quality-fixtures.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = { p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0 };
// 1 - S = 0.4 < G = 0.5: invalid, not discriminating, and mastery falls after a correct answer.
const bad = { p_L0: 0.3, p_T: 0.1, p_S: 0.6, p_G: 0.5, p_F: 0 };

describe('bkt validate exit codes', () => {
  it('exits 0 when every concept passes, JSON says passed', () => {
    const file = writeParamsFile(dir, 'good.json', [
      { concept_id: 'a', params: good },
      { concept_id: 'b', params: { ...good, p_G: 0.2 } },
    ]);
    const r = bkt(['validate', '--params', file, '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.passed).toBe(true);
    expect(out.summary).toMatchObject({ concepts_checked: 2, passed: 2, failed: 0 });
    expect(out.concepts[0].checks.map((c: { name: string }) => c.name)).toContain('mastery_reachable');
    expect(r.stderr).toBe('');
  });

  it('exits 6 naming each failing concept and check on stderr', async () => {
    const file = writeParamsFile(dir, 'mixed.json', [
      { concept_id: 'good-one', params: good },
      { concept_id: 'bad-one', params: bad },
    ]);
    const r = await bktIn(['validate', '--params', file]);
    expect(r.status, r.describe).toBe(6);
    expect(r.stderr).toMatch(/^concept bad-one: validity failed: S \+ G = 1\.1000 is not < 1/m);
    expect(r.stderr).toMatch(/^concept bad-one: mastery_monotone failed: mastery falls after a correct answer/m);
    expect(r.stderr).toMatch(/^Error: quality gate failed: 5 failing check\(s\) in 1 concept\(s\)$/m);
    expect(r.stderr).not.toMatch(/good-one/);
    // The human table still goes to stdout.
    expect(r.stdout).toMatch(/1 failed/);
  });

  it('still prints the full JSON result on stdout when the gate fails', async () => {
    const file = writeParamsFile(dir, 'bad.json', [{ concept_id: 'x', params: bad }]);
    const r = await bktIn(['validate', '--params', file, '--json']);
    expect(r.status, r.describe).toBe(6);
    const out = JSON.parse(r.stdout);
    expect(out.passed).toBe(false);
    expect(out.summary.failures.map((f: { check: string }) => f.check)).toContain('validity');
  });

  it('applies threshold flags: --mastery-run 1 fails parameters that need more answers', async () => {
    const file = writeParamsFile(dir, 'good1.json', [{ concept_id: 'a', params: good }]);
    const r = await bktIn(['validate', '--params', file, '--mastery-run', '1']);
    expect(r.status, r.describe).toBe(6);
    expect(r.stderr).toMatch(/concept a: mastery_reachable failed: 1 correct answers from L0 reach only mastery 0\.3571 < 0\.95/);
  });

  it('warns about restarts that disagree at similar likelihood but still exits 0', async () => {
    const file = writeParamsFile(dir, 'restarts.json', [
      {
        concept_id: 'a',
        params: good,
        restarts: [
          { restart: 0, params: good, log_likelihood: -100 },
          { restart: 1, params: { ...good, p_G: 0.05, p_L0: 0.3 }, log_likelihood: -100.2 },
        ],
      },
    ]);
    const r = await bktIn(['validate', '--params', file, '--json']);
    expect(r.status, r.describe).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.summary.warnings).toEqual([expect.objectContaining({ concept_id: 'a', check: 'identifiability' })]);
  });

  it('exits 2 for a threshold outside [0, 1]', async () => {
    const file = writeParamsFile(dir, 'good2.json', [{ concept_id: 'a', params: good }]);
    const r = await bktIn(['validate', '--params', file, '--min-auc', '2']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toMatch(/--min-auc must be a probability in \[0, 1\]/);
  });
});

describe('bkt validate --input (held-out thresholds)', () => {
  it("fails pyBKT's forgets params on test.csv with --min-auc 0.9, naming the overall held-out AUC", async () => {
    const file = writePybktParamsFile(dir, 'num_fits_5_seed_42_forgets');
    const strict = await bktIn(['validate', '--params', file, '--input', 'fixtures/builder/test.csv.gz', '--min-auc', '0.9', '--json']);
    expect(strict.status, strict.describe).toBe(6);
    const out = JSON.parse(strict.stdout);
    expect(out.overall.checks.find((c: { name: string }) => c.name === 'held_out_auc')).toMatchObject({ status: 'fail' });
    expect(strict.stderr).toMatch(/^concept \(overall\): held_out_auc failed: AUC 0\.8237 < 0\.9/m);
    expect(out.input.rows_kept).toBe(117_567);
  });
});

describe('bkt validate --junit', () => {
  it('writes well-formed JUnit XML with one testcase per concept and check', async () => {
    const file = writeParamsFile(dir, 'junit.json', [
      { concept_id: 'a<&>', params: good },
      { concept_id: 'b', params: bad },
    ]);
    const xmlFile = join(dir, 'report.xml');
    const r = await bktIn(['validate', '--params', file, '--junit', xmlFile]);
    expect(r.status, r.describe).toBe(6);
    const xml = readFileSync(xmlFile, 'utf8');
    assertWellFormedXml(xml);
    expect((xml.match(/<testcase /g) ?? []).length).toBe(16);
    expect((xml.match(/<failure /g) ?? []).length).toBe(5);
    expect(xml).toContain('classname="concept.a&lt;&amp;&gt;"');
  });
});

describe('bkt validate --db', () => {
  it("checks the store's active params and exits 4 for a --concept-id without any", async () => {
    const db = join(dir, 'validate.sqlite');
    const store = await openStore(db, { mode: 'migrate' });
    const id = '00000000-0000-0000-0000-00000000000a';
    try {
      await store.migrate();
      await store.saveParams({ concept_id: id, params: good }, { activate: true, constraints: {}, metrics: {} });
    } finally {
      await store.close();
    }
    const ok = await bktIn(['validate', '--db', db, '--json']);
    expect(ok.status, ok.describe).toBe(0);
    expect(JSON.parse(ok.stdout).concepts.map((c: { concept_id: string }) => c.concept_id)).toEqual([id]);
    const missing = await bktIn(['validate', '--db', db, '--concept-id', '00000000-0000-0000-0000-00000000000b']);
    expect(missing.status, missing.describe).toBe(4);
    expect(missing.stderr).toMatch(/concept 00000000-0000-0000-0000-00000000000b: no active parameters/);
  });
});

describe('--params - reads the parameters from stdin', () => {
  it('validates a params file piped in, in each form the reader takes (JSON, NDJSON, CSV, gzipped)', async () => {
    const file = writeParamsFile(dir, 'piped.json', [{ concept_id: 'bad-one', params: bad }]);
    const json = readFileSync(file, 'utf8');
    const ndjson = `${JSON.stringify({ concept_id: 'bad-one', ...bad })}\n`;
    const csv = `concept_id,p_L0,p_T,p_S,p_G\nbad-one,${bad.p_L0},${bad.p_T},${bad.p_S},${bad.p_G}\n`;
    for (const input of [json, ndjson, csv]) {
      const r = await bktIn(['validate', '--params', '-', '--json'], { input });
      expect(r.status, r.describe).toBe(6);
      expect(JSON.parse(r.stdout).concepts.map((c: { concept_id: string }) => c.concept_id)).toEqual(['bad-one']);
    }
    const gz = spawnSync(process.execPath, [BIN, 'validate', '--params', '-'], { input: gzipSync(csv), encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    expect(gz.status, gz.stderr).toBe(6);
    expect(gz.stderr).toMatch(/^concept bad-one: validity failed/m);
  });

  it('names stdin when what is piped holds no parameters (exit 3)', async () => {
    const r = await bktIn(['validate', '--params', '-'], { input: '[]' });
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr.trim()).toBe('Error: stdin: holds no fitted parameters. Fit some first: bkt fit --input attempts.csv --out params.json');
  });

  it('refuses --params - with --input - (exit 2): stdin can be read once', async () => {
    const r = await bktIn(['evaluate', '--params', '-', '--input', '-'], { input: 'user_id,concept_id,correct\n1,a,1\n' });
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toContain('--params - and --input - both read stdin');
  });
});

describe('bkt validate: instant mastery and bounds', () => {
  // README sample's concept 7 under the old box: L0 0.163, T 0.5, S 0.259, G 0.001. One correct
  // answer: posterior 0.163*0.741 / (0.120783 + 0.837*0.001) = 0.120783/0.12162 = 0.99312,
  // next 0.99312 + 0.00688*0.5 = 0.99656 >= 0.95: mastered by one answer. G sits on G_min 0.001.
  const instant = { p_L0: 0.163, p_T: 0.5, p_S: 0.259, p_G: 0.001, p_F: 0 };

  it('fails one-answer mastery by default and names it; --min-answers-to-master 1 turns the check off', async () => {
    const file = writeParamsFile(dir, 'instant.json', [{ concept_id: '7', params: instant }]);
    const r = await bktIn(['validate', '--params', file, '--json']);
    expect(r.status, r.describe).toBe(6);
    expect(r.stderr).toMatch(/concept 7: instant_mastery failed: one correct answer from L0 reaches mastery 0\.95 \(fewer than 2\)/);
    const off = await bktIn(['validate', '--params', file, '--min-answers-to-master', '1', '--json']);
    expect(off.json().concepts[0].checks.find((c: { name: string }) => c.name === 'instant_mastery').status).toBe('pass');
  });

  it('warns about a parameter on a bound by default (exit 0 when nothing else fails), fails with --bound-check fail', async () => {
    const onBound = { p_L0: 0.5, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0 };
    const file = writeParamsFile(dir, 'bound.json', [{ concept_id: 'b', params: onBound }]);
    const r = await bktIn(['validate', '--params', file, '--json']);
    expect(r.status, r.describe).toBe(0);
    const check = r.json().concepts[0].checks.find((c: { name: string }) => c.name === 'bounds');
    expect(check).toMatchObject({ status: 'warn' });
    expect(check.message).toMatch(/p_L0 = 0\.5000 is on its bound L0_max = 0\.5 of the default box/);
    const strict = await bktIn(['validate', '--params', file, '--bound-check', 'fail']);
    expect(strict.status, strict.describe).toBe(6);
    expect(strict.stderr).toMatch(/concept b: bounds failed/);
  });
});
