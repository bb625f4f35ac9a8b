import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-fixfrom-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Concept = { concept_id: string; status: string; params: Record<string, number> | null };

describe('bkt fit --fix-from and --concept-pattern', () => {
  it('fits only the concepts the pattern matches, each holding the values its row of the file gives', async () => {
    const fix = join(dir, 'fix.csv');
    writeFileSync(fix, 'concept_id,p_G,p_S\n10,0.2,\n11,,0.15\n99,0.3,0.3\n');
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--concept-pattern', '1[0-2]', '--fix-from', fix, '--restarts', '2', '--json']);
    expect(r.status, r.describe).toBe(0);
    const concepts = r.json().concepts as Concept[];
    expect(concepts.map((c) => c.concept_id).sort()).toEqual(['10', '11', '12']);
    const byId = Object.fromEntries(concepts.map((c) => [c.concept_id, c.params!]));
    expect(byId['10'].p_G).toBe(0.2);
    expect(byId['11'].p_S).toBe(0.15);
    expect(byId['12'].p_G).not.toBe(0.2);
    expect(r.json().summary.read.rows_filtered.concept_id).toBeGreaterThan(4000);
  });

  it('refuses a bad value naming file, line and column (exit 3), a p_F without --forgets (exit 2), and a pattern matching nothing (exit 4)', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'concept_id,p_G\n10,2\n');
    const r1 = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix-from', bad]);
    expect(r1.status, r1.describe).toBe(3);
    expect(r1.stderr).toBe(`Error: ${bad} line 2: column "p_G" is "2"; expected a probability in [0, 1] or empty. Fix the value, or leave it empty to fit that parameter\n`);
    const forget = join(dir, 'forget.json');
    writeFileSync(forget, JSON.stringify([{ concept_id: '10', p_F: 0.1 }]));
    const r2 = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix-from', forget]);
    expect(r2.status, r2.describe).toBe(2);
    expect(r2.stderr).toMatch(/concept 10 fixes p_F = 0.1, which needs --forgets/);
    const r3 = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--concept-pattern', 'Equation']);
    expect(r3.status, r3.describe).toBe(4);
    expect(r3.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('bkt fit --fix-from -', () => {
  it('reads the fixed values from stdin, in any form a file may have, with the errors a file gives', async () => {
    const csv = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--fix-from', '-', '--restarts', '1', '--json'], { input: 'concept_id,p_G\n10,0.2\n' });
    expect(csv.status, csv.describe).toBe(0);
    expect((csv.json().concepts as Concept[])[0].params!.p_G).toBe(0.2);
    const json = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--fix-from', '-', '--restarts', '1', '--json'], { input: '[{"skill_name":"10","slips":0.15}]' });
    expect(json.status, json.describe).toBe(0);
    expect((json.json().concepts as Concept[])[0].params!.p_S).toBe(0.15);
    const bad = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix-from', '-'], { input: 'concept_id,p_G\n10,2\n' });
    expect(bad.status, bad.describe).toBe(3);
    expect(bad.stderr).toBe('Error: stdin line 2: column "p_G" is "2"; expected a probability in [0, 1] or empty. Fix the value, or leave it empty to fit that parameter\n');
  });

  it('refuses stdin for both the fixed values and the attempts (exit 2), and names the flag of an unreadable file', async () => {
    const both = await bktIn(['fit', '--input', '-', '--fix-from', '-'], { input: 'concept_id,p_G\n10,0.2\n' });
    expect(both.status, both.describe).toBe(2);
    expect(both.stderr).toBe('Error: --fix-from - and --input - both read stdin. Give one of them as a file\n');
    // --warm-start takes a params file, - too: with the attempts on stdin it is the same conflict.
    const warm = await bktIn(['fit', '--input', '-', '--warm-start', '-'], { input: 'user_id,skill_name,correct\n1,10,1\n' });
    expect(warm.status, warm.describe).toBe(2);
    expect(warm.stderr).toBe('Error: --warm-start - and --input - both read stdin. Give one of them as a file\n');
    const recompute = await bktIn(['recompute', '--db', join(dir, 'never-opened.sqlite'), '--warm-start', '-', '--fix-from', '-']);
    expect(recompute.status, recompute.describe).toBe(2);
    expect(recompute.stderr).toBe('Error: --fix-from - and --warm-start - both read stdin. Give one of them as a file\n');
    const missing = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--fix-from', join(dir, 'missing.csv')]);
    expect(missing.status, missing.describe).toBe(3);
    expect(missing.stderr).toMatch(/^Error: cannot read --fix-from file .*missing\.csv: .*Check the --fix-from path\n$/);
  });
});

describe('bkt fit --fix-from on the database', () => {
  it('matches the ids of the attempts file to the UUIDs import stored them under', async () => {
    const db = join(dir, 'fix.sqlite');
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    expect((await bktIn(['import', '--input', 'fixtures/sample.csv', '--db', db])).status).toBe(0);
    const fix = join(dir, 'fix10.csv');
    writeFileSync(fix, 'concept_id,p_G\n10,0.2\n');
    const r = await bktIn(['fit', '--db', db, '--concept-id', '10', '--fix-from', fix, '--restarts', '1', '--json']);
    expect(r.status, r.describe).toBe(0);
    const [concept] = r.json().concepts as Concept[];
    expect(concept.concept_id).toBe('00000000-0000-0000-0000-00000000000a');
    expect(concept.params!.p_G).toBe(0.2);
  });
});

describe('bkt evaluate --concept-pattern', () => {
  it('scores only the matching concepts', async () => {
    const params = join(dir, 'params.json');
    expect((await bktIn(['fit', '--input', 'fixtures/sample.csv', '--restarts', '1', '--out', params])).status).toBe(0);
    const r = await bktIn(['evaluate', '--input', 'fixtures/sample.csv', '--params', params, '--concept-pattern', '7|8[0-9]', '--json']);
    expect(r.status, r.describe).toBe(0);
    const ids = (r.json().concepts as { concept_id: string }[]).map((c) => c.concept_id);
    expect(ids.length).toBeGreaterThan(1);
    for (const id of ids) expect(id).toMatch(/^(7|8[0-9])$/);
  });
});
