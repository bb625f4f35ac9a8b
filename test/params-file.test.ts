import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { readParamsFile } from '../src/params-file.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-params-variants-'));
const model = { variants: ['multigs'], columns: { multigs: 'item' }, gs: [{ id: 'q1', p_G: 0.05, p_S: 0.1, n_attempts: 10 }] };

describe('variant models in parameter files', () => {
  it('reads `model` from a fit report, and `metrics.model` from a database export (object or JSON text)', async () => {
    const report = join(dir, 'report.json');
    writeFileSync(report, JSON.stringify({ concepts: [{ concept_id: 'c', status: 'fitted', params: { p_L0: 0.2, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 }, model }] }));
    expect((await readParamsFile(report))[0].model).toEqual(model);
    const exported = join(dir, 'export.ndjson');
    writeFileSync(exported, `${JSON.stringify({ concept_id: 'c', p_L0: 0.2, p_T: 0.1, p_S: 0.1, p_G: 0.2, metrics: { model } })}\n`);
    expect((await readParamsFile(exported))[0].model).toEqual(model);
    const csv = join(dir, 'export.csv');
    const quoted = (v: string) => `"${v.replace(/"/g, '""')}"`;
    writeFileSync(csv, `concept_id,p_L0,p_T,p_S,p_G,metrics\nc,0.2,0.1,0.1,0.2,${quoted(JSON.stringify({ auc: 0.7, model }))}\n`);
    expect((await readParamsFile(csv))[0].model).toEqual(model);
  });

  it('a standard fit has no model, and a broken model column is an input error naming the row', async () => {
    const csv = join(dir, 'plain.csv');
    writeFileSync(csv, 'concept_id,p_L0,p_T,p_S,p_G,model\nc,0.2,0.1,0.1,0.2,\n');
    expect((await readParamsFile(csv))[0].model).toBeUndefined();
    const broken = join(dir, 'broken.csv');
    writeFileSync(broken, 'concept_id,p_L0,p_T,p_S,p_G,model\nc,0.2,0.1,0.1,0.2,{nope\n');
    await expect(readParamsFile(broken)).rejects.toThrow(InputError);
    await expect(readParamsFile(broken)).rejects.toThrow(/line 2: column "model" is not valid JSON/);
  });
});
