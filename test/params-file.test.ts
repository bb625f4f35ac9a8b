import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.js';
import { type LabelledFitReport, fitReportToCsv, fitReportToJson, readParamsFile } from '../src/params-file.js';
import { emptyConceptResult } from '../src/model/concept-fit-start.js';

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

describe('concept labels in parameter files', () => {
  const params = { p_L0: 0.2, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 };
  const concept = (id: string, label?: string | null) => ({ ...emptyConceptResult(id, 10, 2), ...(label === undefined ? {} : { concept_label: label }), status: 'fitted' as const, params });
  const report = (concepts: ReturnType<typeof concept>[]) => ({ concepts, summary: {}, settings: {} }) as unknown as LabelledFitReport;

  it('writes concept_label second when the concepts carry it, and reads it back as the entry\'s label, not an extra field', async () => {
    const labelled = report([concept('u1', 'Long division'), concept('u2', null)]);
    const csv = fitReportToCsv(labelled);
    expect(csv.split('\n')[0].split(',').slice(0, 3)).toEqual(['concept_id', 'concept_label', 'status']);
    for (const [name, text] of [['labelled.csv', csv], ['labelled.json', fitReportToJson(labelled)]]) {
      writeFileSync(join(dir, name), text);
      const entries = await readParamsFile(join(dir, name));
      expect(entries.map((e) => [e.concept_id, e.concept_label])).toEqual([['u1', 'Long division'], ['u2', null]]);
      for (const e of entries) expect(e.extra).not.toHaveProperty('concept_label');
    }
    // A fit of a file carries no label: no column, and the entries have none.
    const plain = fitReportToCsv(report([concept('Fractions')]));
    expect(plain.split('\n')[0].split(',').slice(0, 2)).toEqual(['concept_id', 'status']);
    writeFileSync(join(dir, 'plain.csv'), plain);
    expect((await readParamsFile(join(dir, 'plain.csv')))[0]).not.toHaveProperty('concept_label');
  });
});
