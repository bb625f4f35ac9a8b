import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import { InputError, NotFoundError, UsageError } from '../../src/errors.js';
import { readFixedParamsFile } from '../../src/fit/fixed-params.js';
import { fitConcepts } from '../../src/model/fit-concepts.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-fix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

describe('readFixedParamsFile', () => {
  it('reads a CSV where an empty cell leaves that parameter free', async () => {
    const path = file('fix.csv', 'concept_id,p_G,p_S\n7,0.2,\n82,,0.15\n');
    expect(await readFixedParamsFile(path)).toEqual({ '7': { p_G: 0.2 }, '82': { p_S: 0.15 } });
  });

  it("reads JSON arrays with pyBKT's names, NDJSON, gzip, and a fit report (skipped concepts ignored)", async () => {
    expect(await readFixedParamsFile(file('fix.json', JSON.stringify([{ skill_name: 'a', guesses: 0.1, slips: 0.05 }])))).toEqual({ a: { p_G: 0.1, p_S: 0.05 } });
    expect(await readFixedParamsFile(file('fix.ndjson', '{"concept_id":"a","p_T":0.3}\n\n{"concept_id":"b","prior":0.4}\n'))).toEqual({ a: { p_T: 0.3 }, b: { p_L0: 0.4 } });
    expect(await readFixedParamsFile(file('fix.csv.gz', gzipSync('concept_id,p_L0\nx,0.5\n')))).toEqual({ x: { p_L0: 0.5 } });
    const report = { format: 'bkt-params', concepts: [{ concept_id: 'c', params: { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 } }, { concept_id: 'd', params: null }] };
    expect(await readFixedParamsFile(file('report.json', JSON.stringify(report)))).toEqual({ c: { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 } });
  });

  it('names the file, line and column of a bad value, and refuses a file that fixes nothing', async () => {
    await expect(readFixedParamsFile(file('bad.csv', 'concept_id,p_G\n7,1.5\n'))).rejects.toThrow(`${join(dir, 'bad.csv')} line 2: column "p_G" is "1.5"; expected a probability in [0, 1] or empty`);
    await expect(readFixedParamsFile(file('none.csv', 'concept_id,p_G\n7,\n'))).rejects.toThrow(/fixes no parameter/);
    await expect(readFixedParamsFile(file('noid.json', '[{"p_G":0.2}]'))).rejects.toThrow(/concept #1: no concept_id/);
    await expect(readFixedParamsFile(join(dir, 'missing.csv'))).rejects.toThrow(InputError);
    // The option path, which the CLI shows as --fix-from.
    await expect(readFixedParamsFile(join(dir, 'missing.csv'))).rejects.toThrow(/^cannot read `fixedByConcept` file .*missing\.csv/);
  });

  it('reads `-` from stdin as parameter files are read: the form from the content, gzipped or not', async () => {
    expect(await readFixedParamsFile('-', { stdin: Readable.from([Buffer.from('concept_id,p_G\n7,0.2\n')]) })).toEqual({ '7': { p_G: 0.2 } });
    expect(await readFixedParamsFile('-', { stdin: Readable.from([gzipSync('[{"concept_id":"a","slips":0.1}]')]) })).toEqual({ a: { p_S: 0.1 } });
    await expect(readFixedParamsFile('-', { stdin: Readable.from([Buffer.from('concept_id,p_G\n7,2\n')]) })).rejects.toThrow(/^stdin line 2: column "p_G"/);
  });
});

describe('fitConcepts with fixedByConcept', () => {
  it('holds each concept at its own fixed values, the others free; per-concept values win over the global ones', async () => {
    const { table } = await readAttempts({ input: 'fixtures/sample.csv', conceptIds: ['7', '82'] });
    const report = await fitConcepts(table, { restarts: 2, workers: 1, fixed: { p_S: 0.1 }, fixedByConcept: { '7': { p_G: 0.2 }, '82': { p_S: 0.15 }, unseen: { p_G: 0.3 } } });
    const byId = Object.fromEntries(report.concepts.map((c) => [c.concept_id, c.params!]));
    expect(byId['7'].p_G).toBe(0.2);
    expect(byId['7'].p_S).toBe(0.1);
    expect(byId['82'].p_S).toBe(0.15);
    expect(byId['82'].p_G).not.toBe(0.2);
    // Free parameters still move: the fit differs from the one without per-concept fixes.
    const free = await fitConcepts(table, { restarts: 2, workers: 1, fixed: { p_S: 0.1 } });
    expect(free.concepts.find((c) => c.concept_id === '7')!.params!.p_G).not.toBe(0.2);
  });
});

describe('readAttempts: --concept-pattern', () => {
  it('keeps concepts whose whole id matches, as pyBKT anchors its skills pattern', async () => {
    const path = file('a.csv', 'user_id,skill_name,correct\nu,Equation,1\nu,Equation Solving,0\nu,Graph,1\nv,Equation,0\n');
    const { table, summary } = await readAttempts({ input: path, conceptPattern: 'Equation|Gr.*' });
    expect(table.conceptIds).toEqual(['Equation', 'Graph']);
    expect(summary.rows_filtered.concept_id).toBe(1);
  });

  it('a pattern matching nothing is not found (exit 4); an invalid one is a usage error', async () => {
    const path = file('b.csv', 'user_id,skill_name,correct\nu,Equation,1\n');
    await expect(readAttempts({ input: path, conceptPattern: 'Equ' })).rejects.toThrow(NotFoundError);
    await expect(readAttempts({ input: path, conceptPattern: '(' })).rejects.toThrow(UsageError);
  });
});
