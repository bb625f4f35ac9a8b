import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM, screenshot } from '../support/chromium.js';
import { bkt, tempDir, writePybktParamsFile } from './quality-fixtures.js';
import { bktIn } from '../support/in-process.js';

const dir = tempDir();
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bkt report', () => {
  it('writes one self-contained HTML page for every concept of the input, with given params', () => {
    const params = writePybktParamsFile(dir, 'num_fits_5_seed_42');
    const out = join(dir, 'report.html');
    const r = bkt(['report', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--out', out, '--json']);
    expect(r.status, r.describe).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({ out, in_sample: false, concepts: 120, no_params: 1 });
    expect(result.passed + result.warned + result.failed + result.no_params).toBe(120);
    const html = readFileSync(out, 'utf8');
    expect(Buffer.byteLength(html)).toBe(result.bytes);
    expect((html.match(/<section class="card /g) ?? []).length).toBe(120);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain('aria-label="guess versus slip"');
  });

  it('fits first when no params are given, and says the metrics are in-sample', async () => {
    const out = join(dir, 'fitted.html');
    const r = await bktIn(['report', '--input', 'fixtures/sample.csv', '--out', out, '--restarts', '2']);
    expect(r.status, r.describe).toBe(0);
    expect(r.stdout).toMatch(/^Wrote .*fitted\.html .*parameters fitted on fixtures\/sample\.csv/);
    expect(readFileSync(out, 'utf8')).toContain('metrics are in-sample');
  });

  it('exits 3 naming --out when it cannot be written', async () => {
    const r = await bktIn(['report', '--input', 'fixtures/sample.csv', '--params', writePybktParamsFile(dir, 'num_fits_5_seed_42'), '--out', join(dir, 'no-such-dir', 'r.html')]);
    expect(r.status, r.describe).toBe(3);
    expect(r.stderr).toMatch(/^Error: --out .*no-such-dir.*cannot write/);
  });

  it.skipIf(!CHROMIUM)('renders the 120-concept report in headless Chromium to a non-empty screenshot', async () => {
    const params = writePybktParamsFile(dir, 'num_fits_5_seed_42_forgets');
    const out = join(dir, 'forgets.html');
    const r = await bktIn(['report', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--out', out]);
    expect(r.status, r.describe).toBe(0);
    expect(screenshot(out, join(dir, 'forgets.png'), dir)).toBeGreaterThan(10_000);
  });
  if (!CHROMIUM) console.warn('report.test: /usr/bin/chromium not found; the headless rendering test is skipped');
});
