/**
 * What a person sees: tables sized to a 100-column terminal, shortened long lists, --csv, the
 * validate listing, fit --cv figures (output-db.test.ts: params list's inactive rows and empty
 * results that say why).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-cli-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS_100 = { env: { COLUMNS: '100' } };
const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

describe('tables fit the terminal', () => {
  it('fit on the sample: at most 100 columns, 25 concepts then a count, no row separators', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv'], COLUMNS_100);
    expect(r.status, r.describe).toBe(0);
    expect(widest(r.stdout), r.stdout).toBeLessThanOrEqual(100);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^concept\s+status\s+attempts/);
    expect(lines[1]).toMatch(/^─+( +─+)+$/);
    // The sample has 93 concepts: 25 rows, then how many more and how to see them.
    expect(r.stdout).toContain('... and 68 more concepts (--all to list them; --csv or --json for every field)');
    expect(r.stdout).not.toMatch(/[│┼├┤]/);
    expect(lines.length).toBeLessThan(35);
  });

  it('fit --all lists every concept; --csv prints every concept with raw values', async () => {
    const all = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--all'], COLUMNS_100);
    expect(all.status, all.describe).toBe(0);
    expect(all.stdout).not.toContain('more concepts');
    expect(all.stdout.trim().split('\n').filter((l) => /^\S+\s+(fitted|skipped)\s/.test(l))).toHaveLength(93);
    const csv = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--csv']);
    expect(csv.status, csv.describe).toBe(0);
    const rows = csv.stdout.trim().split('\n');
    expect(rows[0]).toBe('concept,status,attempts,learners,p_L0,p_T,p_S,p_G,log-lik,iters,AUC,RMSE,verdict');
    expect(rows).toHaveLength(94);
    const json = (await bktIn(['fit', '--input', 'fixtures/sample.csv', '--json'])).json();
    const first = json.concepts[0];
    expect(rows[1].split(',').slice(0, 5)).toEqual([first.concept_id, first.status, String(first.n_attempts), String(first.n_users), String(first.params.p_L0)]);
  });

  it('fit --cv K shows each concept\'s cross-validated AUC and the overall figures', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--cv', '3'], COLUMNS_100);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/AUC\s+cv AUC/);
    expect(r.stdout).toMatch(/^3-fold cross-validation by learner: AUC 0\.\d{4}, RMSE 0\.\d{4}, log loss 0\.\d{4}/m);
    expect(widest(r.stdout)).toBeLessThanOrEqual(100);
  });

  it('draws the same table on a real 100-column terminal (a pty)', () => {
    // `script` gives the child a terminal; stty sets its width to 100 columns.
    const command = `stty cols 100 rows 40; CI=1 ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fit --input fixtures/sample.csv`;
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '' } });
    expect(r.status, r.stderr).toBe(0);
    const plain = r.stdout.replace(/\u001b\[[0-9;]*m/g, '').replace(/\r/g, '');
    expect(plain).toMatch(/^concept\s+status\s+attempts/m);
    expect(widest(plain), plain).toBeLessThanOrEqual(100);
    expect(plain).toContain('... and 68 more concepts');
  });
});

describe('validate lists what did not pass', () => {
  const params = join(dir, 'params.json');
  const good = { concept_id: 'good-one', p_L0: 0.3, p_T: 0.15, p_S: 0.1, p_G: 0.2 };
  const bad = { concept_id: 'bad-one', p_L0: 0.3, p_T: 0.15, p_S: 0.6, p_G: 0.5 };
  writeFileSync(params, JSON.stringify({ concepts: [good, bad] }));

  it('one row per failing or warning check, failures first; --verbose adds the passing ones', async () => {
    const r = await bktIn(['validate', '--params', params], COLUMNS_100);
    expect(r.status, r.describe).toBe(6);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^concept\s+check\s+status\s+message$/);
    const body = lines.slice(2).filter((l) => /^\S+\s+\S+\s+(fail|warn|pass)\s/.test(l));
    expect(body.length).toBeGreaterThan(0);
    expect(body.every((l) => l.startsWith('bad-one'))).toBe(true);
    expect(body[0]).toMatch(/\sfail\s/);
    expect(r.stdout).not.toMatch(/\spass\s/);
    expect(r.stdout.replace(/\n/g, ' ')).toMatch(/Passing checks are not listed \(--verbose lists them\)/);
    const verbose = await bktIn(['validate', '--params', params, '--verbose'], COLUMNS_100);
    expect(verbose.stdout).toMatch(/^good-one\s+\S+\s+pass\s/m);
    expect(widest(verbose.stdout)).toBeLessThanOrEqual(100);
  });

  it('says in one line when every check passed, and prints CSV with --csv', async () => {
    const onlyGood = join(dir, 'good.json');
    writeFileSync(onlyGood, JSON.stringify({ concepts: [good] }));
    const r = await bktIn(['validate', '--params', onlyGood]);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout.trim()).toMatch(/^1 concept\(s\) checked: 1 passed, 0 with warnings, 0 failed \(0 failing check\(s\)\)\. Every check passed \(--verbose lists them\)\.$/);
    const csv = await bktIn(['validate', '--params', params, '--csv']);
    expect(csv.stdout.split('\n')[0]).toBe('concept,check,status,message');
    expect(csv.stdout).toMatch(/^bad-one,validity,fail,/m);
  });
});

describe('evaluate prints the same table style', () => {
  it('evaluate --csv prints one line per concept, raw values', async () => {
    const params = join(dir, 'sample-params.json');
    expect((await bktIn(['fit', '--input', 'fixtures/sample.csv', '--out', params])).status).toBe(0);
    const r = await bktIn(['evaluate', '--input', 'fixtures/sample.csv', '--params', params, '--csv']);
    expect(r.status, r.describe).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('concept,status,rows,learners,AUC,RMSE,log loss,accuracy,RMSE lift');
    const json = (await bktIn(['evaluate', '--input', 'fixtures/sample.csv', '--params', params, '--json'])).json();
    expect(lines).toHaveLength(1 + json.concepts.length);
  });
});
