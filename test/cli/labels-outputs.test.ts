/**
 * Every output that lists concepts or learners of the database names them as the imported file
 * did: fit --db (and its params file, read back by evaluate and validate), recompute, update,
 * export (every format and kind, runs too), validate (and its JUnit report), evaluate (its
 * concepts without parameters too) and report, on both backends. The data: fixtures/sample.csv (integer ids, whose labels are the numbers) and a
 * small file of named learners and concepts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integerToUuid, toUuid } from '../../src/store/ids.js';
import { openStore } from '../../src/store/open-store.js';
import { type TestDb, createPostgresDb, createSqliteDb, postgresAvailable } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const backends: [string, () => Promise<TestDb | null>][] = [
  ['sqlite', createSqliteDb],
  ['postgres', async () => ((await postgresAvailable()) ? createPostgresDb() : null)],
];

const dir = mkdtempSync(join(tmpdir(), 'bkt-labels-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LEARNERS = ['alice', 'bob', 'carol', 'dan', 'eve'];
const CONCEPTS = ['Long division', 'Fractions'];
const alice = toUuid('alice');
const division = toUuid('Long division');

/** The named file, and the same attempts with every id written as its UUID (what an app export holds). */
function writeNamedFiles(): { named: string; uuids: string } {
  const named = ['user_id,skill_name,correct'];
  const uuids = ['user_id,skill_name,correct'];
  let k = 0;
  for (const learner of LEARNERS) {
    for (const concept of CONCEPTS) {
      for (let i = 0; i < 6; i++) {
        const correct = (k++ * 7) % 10 < 6 + (i > 2 ? 2 : 0) ? 1 : 0;
        named.push(`${learner},${concept},${correct}`);
        uuids.push(`${toUuid(learner)},${toUuid(concept)},${correct}`);
      }
    }
  }
  const files = { named: join(dir, 'named.csv'), uuids: join(dir, 'uuids.csv') };
  writeFileSync(files.named, `${named.join('\n')}\n`);
  writeFileSync(files.uuids, `${uuids.join('\n')}\n`);
  return files;
}

/** A label a concept or learner of fixtures/sample.csv or the named file must carry. */
function expectedLabel(id: string): string {
  for (const name of [...LEARNERS, ...CONCEPTS]) if (toUuid(name) === id) return name;
  // An integer id n of the fixture is stored as the UUID of n and labelled with its digits.
  const n = BigInt(`0x${id.replace(/-/g, '')}`);
  expect(integerToUuid(n)).toBe(id);
  return n.toString();
}

describe.each(backends)('labels in the outputs on %s', (name, create) => {
  let testDb: TestDb | null = null;
  let files: { named: string; uuids: string };
  beforeAll(async () => {
    testDb = await create();
    files = writeNamedFiles();
    if (!testDb) return;
    for (const input of ['fixtures/sample.csv', files.named]) {
      const r = await bktIn(['import', '--db', testDb.db, '--input', input]);
      expect(r.status, r.describe).toBe(0);
    }
  });
  afterAll(async () => testDb?.drop());

  it('fit --db and recompute give each concept its label', async (context) => {
    if (!testDb) return context.skip();
    const paramsJson = join(dir, `${name}-fit.json`);
    const fit = await bktIn(['fit', '--db', testDb.db, '--activate', '--force', '--restarts', '1', '--json', '--out', paramsJson]);
    expect(fit.status, fit.describe).toBe(0);
    const concepts = fit.json().concepts as { concept_id: string; concept_label: string | null }[];
    expect(concepts.length).toBeGreaterThan(60);
    for (const c of concepts) {
      expect(Object.keys(c).slice(0, 2)).toEqual(['concept_id', 'concept_label']);
      expect(c.concept_label).toBe(expectedLabel(c.concept_id));
    }
    expect(concepts.find((c) => c.concept_id === division)?.concept_label).toBe('Long division');
    // The params file names the concepts as the JSON does, and what reads it back shows the names.
    const written = JSON.parse(readFileSync(paramsJson, 'utf8')).concepts as { concept_id: string; concept_label: string | null }[];
    expect(written.map((c) => [c.concept_id, c.concept_label])).toEqual(concepts.map((c) => [c.concept_id, c.concept_label]));
    expect(Object.keys(written[0]).slice(0, 2)).toEqual(['concept_id', 'concept_label']);
    const fromJson = await bktIn(['evaluate', '--params', paramsJson, '--input', files.uuids, '--json']);
    expect(fromJson.status, fromJson.describe).toBe(0);
    expect((fromJson.json().concepts as { concept_id: string; concept_label: string }[]).map((c) => `${c.concept_id}|${c.concept_label}`).sort()).toEqual(
      CONCEPTS.map((c) => `${toUuid(c)}|${c}`).sort(),
    );
    const paramsCsv = join(dir, `${name}-fit.csv`);
    const csvFit = await bktIn(['fit', '--db', testDb.db, '--concept-id', 'Long division', '--concept-id', '7', '--restarts', '1', '--out', paramsCsv]);
    expect(csvFit.status, csvFit.describe).toBe(0);
    const [csvHeader, ...csvRows] = readFileSync(paramsCsv, 'utf8').trim().split('\n');
    expect(csvHeader.split(',').slice(0, 3)).toEqual(['concept_id', 'concept_label', 'status']);
    expect(csvRows.map((r) => r.split(',').slice(0, 2).join('|')).sort()).toEqual([`${division}|Long division`, `${integerToUuid(7)}|7`].sort());
    const fromCsv = await bktIn(['validate', '--params', paramsCsv, '--json']);
    expect([0, 6], fromCsv.describe).toContain(fromCsv.status);
    expect((fromCsv.json().concepts as { concept_id: string; concept_label: string }[]).map((c) => `${c.concept_id}|${c.concept_label}`).sort()).toEqual(
      [`${division}|Long division`, `${integerToUuid(7)}|7`].sort(),
    );

    const recompute = await bktIn(['recompute', '--db', testDb.db, '--dry-run', '--concept-id', 'Long division', '--concept-id', '7', '--concept-id', 'nowhere', '--json']);
    expect(recompute.status, recompute.describe).toBe(4);
    expect(recompute.json().concept_labels).toEqual({ [division]: 'Long division', [integerToUuid(7)]: '7', [toUuid('nowhere')]: null });
    if (name === 'sqlite') {
      // The table names the concepts it lists: here, ones without attempts in the window.
      const table = await bktIn(['recompute', '--db', testDb.db, '--dry-run', '--concept-id', 'Long division', '--concept-id', 'nowhere', '--from-date', '2099-01-01']);
      expect(table.status, table.describe).toBe(4);
      expect(table.stdout).toMatch(/concept_id\s+concept_label\s+outcome/);
      expect(table.stdout).toMatch(new RegExp(`${division}\\s+Long division\\s+error`));
      const text = await bktIn(['fit', '--db', testDb.db, '--concept-id', 'Long division', '--concept-id', 'Fractions', '--restarts', '1']);
      expect(text.status, text.describe).toBe(0);
      expect(text.stdout).toMatch(new RegExp(`${division}\\s+Long division\\s+fitted`));
    }
  });

  it('update names the learner and the concept; export carries the labels in every format', async (context) => {
    if (!testDb) return context.skip();
    const update = await bktIn(['update', '--db', testDb.db, '--user', 'alice', '--concept', 'Long division', '--correct', 'true', '--snapshot', '--json']);
    expect(update.status, update.describe).toBe(0);
    const u = update.json();
    expect(u).toMatchObject({ user_id: alice, user_label: 'alice', concept_id: division, concept_label: 'Long division' });
    expect(Object.keys(u).indexOf('user_label')).toBe(Object.keys(u).indexOf('user_id') + 1);
    const line = await bktIn(['update', '--db', testDb.db, '--user', 'alice', '--concept', 'Fractions', '--correct', 'false']);
    expect(line.status, line.describe).toBe(0);
    expect(line.stdout).toContain(`user ${alice} (alice) concept ${toUuid('Fractions')} (Fractions)`);
    const numbered = await bktIn(['update', '--db', testDb.db, '--user', '1', '--concept', '7', '--correct', 'true', '--json']);
    expect(numbered.json()).toMatchObject({ user_label: '1', concept_label: '7' });

    const ndjson = await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'ndjson', '--out', '-']);
    expect(ndjson.status, ndjson.describe).toBe(0);
    const states = ndjson.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(states).toHaveLength(3);
    for (const s of states) {
      expect(Object.keys(s).slice(0, 4)).toEqual(['user_id', 'user_label', 'concept_id', 'concept_label']);
      expect([s.user_label, s.concept_label]).toEqual([expectedLabel(s.user_id), expectedLabel(s.concept_id)]);
    }
    // A run names its concepts inside its summaries (the recompute above asked for these three) and may name a learner.
    const store = await openStore(testDb.db);
    try {
      await store.startRun({ trigger: 'manual', user_id: alice, input_summary: { concept_ids: [toUuid('Fractions')] } });
    } finally {
      await store.close();
    }
    const runs = await bktIn(['export', 'runs', '--db', testDb.db, '--format', 'ndjson', '--out', '-']);
    expect(runs.status, runs.describe).toBe(0);
    const runRows = runs.stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const run of runRows) expect(Object.keys(run).indexOf('user_label')).toBe(Object.keys(run).indexOf('user_id') + 1);
    const asked = runRows.find((r) => (r.input_summary_json.concept_ids ?? []).includes(division) && r.input_summary_json.concept_ids.length === 3);
    expect(asked?.concept_labels).toEqual({ [division]: 'Long division', [integerToUuid(7)]: '7' });
    expect(runRows.find((r) => r.user_id === alice)).toMatchObject({ user_label: 'alice', concept_labels: { [toUuid('Fractions')]: 'Fractions' } });
    const runsCsv = await bktIn(['export', 'runs', '--db', testDb.db, '--format', 'csv', '--out', '-']);
    expect(runsCsv.stdout.split('\n')[0]).toContain('user_id,user_label,session_id');
    expect(runsCsv.stdout).toContain(`${alice},alice,`);

    const snapshots = await bktIn(['export', 'snapshots', '--db', testDb.db, '--format', 'json', '--out', '-']);
    expect(snapshots.json()).toEqual([expect.objectContaining({ user_id: alice, user_label: 'alice', concept_id: division, concept_label: 'Long division' })]);

    const csv = await bktIn(['export', 'params', '--db', testDb.db, '--format', 'csv', '--out', '-', '--concept-id', 'Long division']);
    expect(csv.status, csv.describe).toBe(0);
    const [header, row] = csv.stdout.trim().split('\n');
    expect(header.split(',').slice(0, 3)).toEqual(['concept_id', 'concept_label', 'p_L0']);
    expect(row.split(',').slice(0, 2)).toEqual([division, 'Long division']);

    const arrowFile = join(dir, `${name}-mastery.arrow`);
    expect((await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'arrow', '--out', arrowFile, '--user', 'alice'])).status).toBe(0);
    const arrow = tableFromIPC(readFileSync(arrowFile));
    expect(String(arrow.schema.fields.find((f) => f.name === 'concept_label')?.type)).toBe('Utf8');
    expect(arrow.toArray().map((r) => `${r.user_label}|${r.concept_label}`).sort()).toEqual(['alice|Fractions', 'alice|Long division']);

    const parquetFile = join(dir, `${name}-mastery.parquet`);
    expect((await bktIn(['export', 'mastery', '--db', testDb.db, '--format', 'parquet', '--out', parquetFile, '--concept-id', '7'])).status).toBe(0);
    const { parquetReadObjects } = await import('hyparquet');
    const bytes = readFileSync(parquetFile);
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows.map((r) => [r.user_label, r.concept_label])).toEqual([['1', '7']]);
  });

  it('validate, evaluate and report on the database name the concepts', async (context) => {
    if (!testDb) return context.skip();
    const validate = await bktIn(['validate', '--db', testDb.db, '--concept-id', 'Long division', '--concept-id', '7', '--json']);
    expect([0, 6], validate.describe).toContain(validate.status);
    const checked = validate.json().concepts as { concept_id: string; concept_label: string | null }[];
    expect(checked.map((c) => [c.concept_id, c.concept_label]).sort()).toEqual([[integerToUuid(7), '7'], [division, 'Long division']].sort());

    // Attempts whose ids are UUIDs: only the database knows their names.
    const evaluate = await bktIn(['evaluate', '--db', testDb.db, '--input', files.uuids, '--json']);
    expect(evaluate.status, evaluate.describe).toBe(0);
    const scored = evaluate.json().concepts as { concept_id: string; concept_label: string | null }[];
    expect(scored.map((c) => `${c.concept_id}|${c.concept_label}`).sort()).toEqual(CONCEPTS.map((c) => `${toUuid(c)}|${c}`).sort());

    // A concept imported but never fitted: listed without parameters, by its name too.
    const geometry = toUuid('Geometry');
    const withGeometry = join(dir, `${name}-geometry.csv`);
    writeFileSync(withGeometry, `${readFileSync(files.uuids, 'utf8')}${alice},${geometry},1\n${alice},${geometry},0\n`);
    writeFileSync(join(dir, `${name}-geometry-named.csv`), 'user_id,skill_name,correct\nalice,Geometry,1\n');
    expect((await bktIn(['import', '--db', testDb.db, '--input', join(dir, `${name}-geometry-named.csv`)])).status).toBe(0);
    const unfitted = await bktIn(['evaluate', '--db', testDb.db, '--input', withGeometry, '--json']);
    expect(unfitted.status, unfitted.describe).toBe(0);
    const u = unfitted.json();
    expect(u.concepts_no_params).toEqual([geometry]);
    expect(u.concepts_no_params_labels).toEqual({ [geometry]: 'Geometry' });
    expect(u.concepts.find((c: { concept_id: string }) => c.concept_id === geometry)).toMatchObject({ concept_label: 'Geometry', status: 'no_params' });
    const unfittedText = await bktIn(['evaluate', '--db', testDb.db, '--input', withGeometry]);
    expect(unfittedText.stdout.replace(/\s+/g, ' ')).toContain(`1 concept(s) without parameters, 2 rows not scored: ${geometry} (Geometry)`);

    const junit = join(dir, `${name}-validate.xml`);
    const gate = await bktIn(['validate', '--db', testDb.db, '--concept-id', 'Long division', '--concept-id', '7', '--junit', junit]);
    expect([0, 6], gate.describe).toContain(gate.status);
    const xml = readFileSync(junit, 'utf8');
    const cases = xml.split('<testcase ').slice(1);
    expect(cases.length).toBeGreaterThan(2);
    for (const c of cases) {
      const id = /^classname="concept\.([^"]+)"/.exec(c)![1];
      expect(c).toContain(`<property name="concept_label" value="${expectedLabel(id)}"/>`);
    }

    const html = join(dir, `${name}-report.html`);
    const report = await bktIn(['report', '--db', testDb.db, '--input', files.uuids, '--out', html]);
    expect(report.status, report.describe).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain(`<h3>Long division <span class="badge`);
    expect(page).toContain(`<a href="#c-${division}">Long division</a> <span class="small muted">${division}</span>`);
    expect(page).toContain(`<title>Fractions (${toUuid('Fractions')})`);
  });
});
