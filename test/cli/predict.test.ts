import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { parquetReadObjects, parquetMetadata, parquetSchema } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-predict-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REF = 'fixtures/reference/pybkt-predict';
type Rec = Record<string, string>;
const csvRows = (text: string): Rec[] => parse(text, { columns: true });
const fileBuffer = (path: string) => {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
};

describe("bkt predict against pyBKT's predict()", () => {
  const reference = csvRows(gunzipSync(readFileSync(`${REF}/test_predictions_pybkt.csv.gz`)).toString());
  const byOrder = new Map(reference.map((r) => [r.order_id, r]));
  const input = csvRows(gunzipSync(readFileSync(`${REF}/test.csv.gz`)).toString());

  it.each(['standard', 'forgets'])('gives pyBKT 1.4.2\'s correct_predictions for its %s params (1e-9), every row in input order', async (config) => {
    const params = JSON.parse(readFileSync(`${REF}/params-${config}.json`, 'utf8')) as Record<string, number | string>[];
    const out = join(dir, `pred-${config}.csv`);
    const r = await bktIn(['predict', '--input', `${REF}/test.csv.gz`, '--params', `${REF}/params-${config}.json`, '--out', out, '--json']);
    expect(r.status, r.describe).toBe(0);
    expect(r.json()).toMatchObject({ rows: 39_394, rows_predicted: 39_394, concepts_predicted: 4, format: 'csv' });
    const rows = csvRows(readFileSync(out, 'utf8'));
    expect(rows.map((x) => x.order_id)).toEqual(input.map((x) => x.order_id));
    expect(Object.keys(rows[0])).toEqual(['order_id', 'user_id', 'skill_name', 'template_id', 'correct', 'correct_predictions', 'state_predictions', 'state_posterior']);
    let worst = 0;
    for (const row of rows) {
      worst = Math.max(worst, Math.abs(Number(row.correct_predictions) - Number(byOrder.get(row.order_id)![config])));
      // state_predictions is the P(known) the prediction was made from.
      const p = params.find((x) => x.concept_id === row.skill_name)!;
      const k = Number(row.state_predictions);
      expect(Math.abs(k * (1 - Number(p.p_S)) + (1 - k) * Number(p.p_G) - Number(row.correct_predictions))).toBeLessThan(1e-15);
    }
    // The reference file holds 9 decimals, so 5e-10 is the closest any exact computation can come.
    expect(worst).toBeLessThan(1e-9);
  });
});

describe('bkt predict: formats, selection and errors', () => {
  let params: string;
  beforeAll(async () => {
    params = join(dir, 'builder-params.json');
    const r = await bktIn(['fit', '--input', 'fixtures/builder/test.parquet', '--concept-pattern', '1[0-9]', '--restarts', '2', '--out', params, '--json']);
    expect(r.status, r.describe).toBe(0);
  });

  it('reads Parquet and writes Parquet with the input columns typed as they were, equal to the CSV output', async () => {
    const pq = join(dir, 'pred.parquet');
    const r1 = await bktIn(['predict', '--input', 'fixtures/builder/test.parquet', '--params', params, '--out', pq]);
    expect(r1.status, r1.describe).toBe(0);
    expect(r1.stdout).toMatch(/^117567 rows written to .*pred\.parquet \(parquet\); \d+ predicted in 10 concepts; 110 concepts without parameters left empty/);
    const r2 = await bktIn(['predict', '--input', 'fixtures/builder/test.csv.gz', '--params', params, '--out', join(dir, 'pred.csv')]);
    expect(r2.status, r2.describe).toBe(0);
    const file = fileBuffer(pq);
    const types = Object.fromEntries(parquetSchema(parquetMetadata(file)).children.map((c) => [c.element.name, c.element.type]));
    expect(types).toEqual({ user_id: 'DOUBLE', skill_name: 'BYTE_ARRAY', correct: 'INT32', correct_predictions: 'DOUBLE', state_predictions: 'DOUBLE', state_posterior: 'DOUBLE' });
    const fromParquet = await parquetReadObjects({ file });
    const fromCsv = csvRows(readFileSync(join(dir, 'pred.csv'), 'utf8'));
    expect(fromParquet).toHaveLength(117_567);
    for (let i = 0; i < fromCsv.length; i += 997) {
      expect(String(fromParquet[i].user_id)).toBe(fromCsv[i].user_id);
      expect(fromParquet[i].skill_name).toBe(fromCsv[i].skill_name);
      expect(fromParquet[i].correct_predictions).toBe(fromCsv[i].correct_predictions === '' ? null : Number(fromCsv[i].correct_predictions));
    }
    // Concepts 10-19 have parameters; every other row is written without predictions.
    const predicted = fromCsv.filter((x) => x.correct_predictions !== '');
    expect(new Set(predicted.map((x) => x.skill_name))).toEqual(new Set(['10', '11', '12', '13', '14', '15', '16', '17', '18', '19']));
  });

  it('streams NDJSON to stdout, takes stdin, and predicts only --concept-pattern concepts', async () => {
    const input = readFileSync('fixtures/sample.csv', 'utf8');
    const r = await bktIn(['predict', '--input', '-', '--params', params, '--format', 'ndjson', '--concept-pattern', '1[0-2]'], { input });
    expect(r.status, r.describe).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(input.trim().split('\n').length - 1);
    expect(r.stderr).toMatch(/^4945 rows written to stdout \(ndjson\)/);
    for (const line of lines) {
      if (['10', '11', '12'].includes(line.skill_name)) expect(line.correct_predictions).toBeGreaterThan(0);
      else expect(line).toMatchObject({ correct_predictions: null, state_predictions: null, state_posterior: null });
    }
  });

  it('reads Parquet from stdin with --input-format and predicts only the --concept-id concepts', () => {
    const r = spawnSync(process.execPath, [BIN, 'predict', '--input', '-', '--input-format', 'parquet', '--params', params, '--concept-id', '10', '--concept-id', '12'], {
      input: readFileSync('fixtures/builder/test.parquet'),
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(r.status, r.stderr).toBe(0);
    const rows = csvRows(r.stdout);
    expect(rows).toHaveLength(117_567);
    expect(new Set(rows.filter((x) => x.correct_predictions !== '').map((x) => x.skill_name))).toEqual(new Set(['10', '12']));
  });

  it('writes JSON and Arrow with the same values', async () => {
    const json = join(dir, 'pred.json');
    const arrow = join(dir, 'pred.arrow');
    expect((await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', params, '--out', json])).status).toBe(0);
    expect((await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', params, '--out', arrow])).status).toBe(0);
    const rows = JSON.parse(readFileSync(json, 'utf8'));
    const table = tableFromIPC(readFileSync(arrow));
    expect(table.numRows).toBe(rows.length);
    const posterior = table.getChild('state_posterior')!;
    expect(Array.from({ length: 50 }, (_, i) => posterior.get(i))).toEqual(
      rows.slice(0, 50).map((x: { state_posterior: number | null }) => x.state_posterior ?? null),
    );
  });

  it('takes SQLite and NDJSON input, keeping their columns and types, with the predictions of the CSV', async () => {
    const { default: Database } = await import('better-sqlite3');
    const lines = readFileSync('fixtures/sample.csv', 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    const sqlite = join(dir, 'attempts.sqlite');
    const db = new Database(sqlite);
    db.exec('CREATE TABLE attempts (user_id INTEGER, skill_name TEXT, correct INTEGER)');
    const insert = db.prepare('INSERT INTO attempts VALUES (?, ?, ?)');
    db.transaction(() => lines.forEach(([u, s, c]) => insert.run(Number(u), s, Number(c))))();
    db.close();
    const ndjson = join(dir, 'attempts.ndjson');
    writeFileSync(ndjson, lines.map(([u, s, c]) => JSON.stringify({ user_id: Number(u), skill_name: s, correct: c === '1' })).join('\n') + '\n');
    const fromCsv = await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', params, '--format', 'ndjson']);
    const fromSqlite = await bktIn(['predict', '--input', sqlite, '--params', params, '--format', 'ndjson']);
    const fromNdjson = await bktIn(['predict', '--input', ndjson, '--params', params, '--format', 'ndjson']);
    for (const r of [fromCsv, fromSqlite, fromNdjson]) expect(r.status, r.describe).toBe(0);
    const parse = (text: string) => text.trim().split('\n').map((l) => JSON.parse(l));
    const [a, b, c] = [parse(fromCsv.stdout), parse(fromSqlite.stdout), parse(fromNdjson.stdout)];
    expect(b.map((x) => x.correct_predictions)).toEqual(a.map((x) => x.correct_predictions));
    expect(c.map((x) => x.state_posterior)).toEqual(a.map((x) => x.state_posterior));
    // CSV columns are text; SQLite and NDJSON keep numbers and booleans.
    expect([a[0].user_id, b[0].user_id, c[0].user_id, c[0].correct]).toEqual(['1', 1, 1, true]);
  });

  it('uses the active parameters of --db as --params does', async () => {
    const db = join(dir, 'p.sqlite');
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    const fit = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--concept-id', '11', '--db', db, '--activate', '--force', '--out', join(dir, 'p.json')]);
    expect(fit.status, fit.describe).toBe(0);
    const a = await bktIn(['predict', '--input', 'fixtures/sample.csv', '--db', db]);
    const b = await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', join(dir, 'p.json')]);
    expect(a.status, a.describe).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    const rows = csvRows(a.stdout);
    expect(rows.filter((x) => x.correct_predictions !== '').length).toBe(rows.filter((x) => x.skill_name === '10' || x.skill_name === '11').length);
    expect(rows.filter((x) => x.correct_predictions !== '').length).toBeGreaterThan(0);
  });

  it('refuses --json on stdout, no parameters, a column it would overwrite, and a pattern matching nothing', async () => {
    const r1 = await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', params, '--json']);
    expect(r1.status, r1.describe).toBe(2);
    expect(r1.stderr).toMatch(/--json with --out -/);
    const r2 = await bktIn(['predict', '--input', 'fixtures/sample.csv']);
    expect(r2.status, r2.describe).toBe(2);
    expect(r2.stderr).toMatch(/exactly one of --params FILE or --db URL/);
    const clash = join(dir, 'clash.csv');
    writeFileSync(clash, 'user_id,skill_name,correct,state_posterior\nu,10,1,x\n');
    const r3 = await bktIn(['predict', '--input', clash, '--params', params, '--out', join(dir, 'never.csv')]);
    expect(r3.status, r3.describe).toBe(2);
    expect(r3.stderr).toMatch(/already has a column "state_posterior"/);
    expect(() => readFileSync(join(dir, 'never.csv'))).toThrow();
    const r4 = await bktIn(['predict', '--input', 'fixtures/sample.csv', '--params', params, '--concept-pattern', 'nothing']);
    expect(r4.status, r4.describe).toBe(4);
    expect(r4.stderr.trim().split('\n')).toHaveLength(1);
  });
});
