import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as arrow from 'apache-arrow';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { optionPathsToFlags } from '../../src/cli/option-flags.js';
import { readAttempts, type ReadAttemptsInput } from '../../src/data/read-attempts.js';
import { InputError, UsageError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** Sequences as `concept/learner: correct...` strings, in table order. */
function sequences(t: AttemptsTable): string[] {
  const out: string[] = [];
  for (let s = 0; s + 1 < t.sequenceStart.length; s++) {
    const a = t.sequenceStart[s];
    const b = t.sequenceStart[s + 1];
    out.push(`${t.conceptIds[t.concept[a]]}/${t.learnerIds[t.learner[a]]}: ${Array.from(t.correct.subarray(a, b)).join('')}`);
  }
  return out;
}

/** Run readAttempts expecting an error of `type`; return its one-line message. */
async function failure(options: ReadAttemptsInput, type: typeof InputError | typeof UsageError = InputError, stdin?: Readable): Promise<string> {
  try {
    await readAttempts(options, { stdin });
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    expect((error as InputError).exitCode).toBe(type === InputError ? 3 : 2);
    // src/ names options by path in backticks; the assertions below read the line as the CLI
    // prints it (optionPathsToFlags), and the raw names are checked in "errors name option paths".
    return optionPathsToFlags((error as InputError).toLine());
  }
  throw new Error('expected readAttempts to fail');
}

describe('readAttempts: errors name option paths', () => {
  it('names the option as a library caller passed it, which the CLI shows as its flag', async () => {
    const raw = async (options: ReadAttemptsInput) => {
      try {
        await readAttempts(options);
      } catch (error) {
        return (error as InputError).toLine();
      }
      throw new Error('expected readAttempts to fail');
    };
    const path = file('named.csv', 'user_id,concept_id,correct\nu,c,1\n');
    const missing = await raw({ input: path, columns: { correct: 'is_correct' } });
    expect(missing).toContain('(given with `columns.correct`)');
    expect(optionPathsToFlags(missing)).toContain('(given with --col-correct)');
    expect(await raw({ input: path, minAttemptsPerUser: 0 })).toMatch(/^`minAttemptsPerUser`: /);
    expect(await raw({ input: path, fromDate: '2024-02-01', toDate: '2024-01-01' })).toMatch(/^`fromDate` is after `toDate`/);
  });
});

const TIMED_CSV = [
  'user_id,concept_id,correct,answered_at,question_id',
  'alice,fractions,1,2024-03-02T10:00:00Z,q1',
  'bob,fractions,0,2024-03-01T09:00:00Z,q1',
  'alice,fractions,0,2024-03-01T10:00:00Z,q2',
  'alice,decimals,true,1709200000,q3',
  'bob,fractions,FALSE,2024-03-01T09:00:00Z,',
  '',
].join('\n');

describe('readAttempts: CSV', () => {
  it('reads the default columns and orders each learner by time, ties in file order', async () => {
    const { table, summary } = await readAttempts({ input: file('timed.csv', TIMED_CSV) });
    expect(table.conceptIds).toEqual(['fractions', 'decimals']);
    expect(table.learnerIds).toEqual(['alice', 'bob']);
    // alice/fractions: 03-01 (0) then 03-02 (1); bob: tie at 09:00, file order 0 then FALSE.
    expect(sequences(table)).toEqual(['fractions/alice: 01', 'fractions/bob: 00', 'decimals/alice: 1']);
    expect(Array.from(table.time!.subarray(0, 2))).toEqual([Date.UTC(2024, 2, 1, 10), Date.UTC(2024, 2, 2, 10)]);
    expect(table.time![4]).toBe(1_709_200_000_000); // epoch seconds -> ms
    expect(table.questionIds).toEqual(['q1', 'q2', 'q3']); // first appearance in the file
    expect(Array.from(table.question!)).toEqual([1, 0, 0, -1, 2]);
    expect(summary).toMatchObject({
      format: 'csv',
      parser: 'fast',
      rows_read: 5,
      rows_kept: 5,
      ordered_by: 'time',
      sequences_reordered: 1,
      columns: { user: 'user_id', concept: 'concept_id', correct: 'correct', time: 'answered_at', order: null, question: 'question_id' },
    });
  });

  it("recognises pyBKT's names and orders by order_id when there is no time", async () => {
    const path = file('pybkt.csv', 'order_id,user_id,skill_name,correct,problem_id\n3,u,s,1,p1\n1,u,s,0,p2\n2,u,s,0,p3\n');
    const { table, summary } = await readAttempts({ input: path });
    expect(sequences(table)).toEqual(['s/u: 001']);
    expect(summary.columns).toMatchObject({ concept: 'skill_name', order: 'order_id', question: 'problem_id', time: null });
    expect(summary.ordered_by).toBe('order');
  });

  it('keeps file order inside a learner when there is neither time nor order', async () => {
    const { table, summary } = await readAttempts({ input: file('plain.csv', 'user_id,skill_name,correct\nu,s,1\nv,s,1\nu,s,0\nu,s,1\n') });
    expect(sequences(table)).toEqual(['s/u: 101', 's/v: 1']);
    expect(summary.ordered_by).toBe('file');
  });

  it('maps other column names and presets', async () => {
    const mapped = await readAttempts({
      input: file('mapped.csv', 'student,kc,ok,when\ns1,k1,1,2024-01-02\ns1,k1,0,2024-01-01\n'),
      columns: { user: 'student', concept: 'kc', correct: 'ok', time: 'when' },
    });
    expect(sequences(mapped.table)).toEqual(['k1/s1: 01']);
    const ct = await readAttempts({
      input: file('ct.csv', 'Row,Anon Student Id,KC(Default),Correct First Attempt,Problem Name\n2,s1,k1,0,p\n1,s1,k1,1,p\n'),
      preset: 'cognitive-tutor',
    });
    expect(sequences(ct.table)).toEqual(['k1/s1: 10']);
    expect(ct.summary.columns.user).toBe('Anon Student Id');
  });

  it('reads a gzipped file and gzipped stdin', async () => {
    const gz = file('timed.csv.gz', gzipSync(TIMED_CSV));
    const plain = await readAttempts({ input: file('timed2.csv', TIMED_CSV) });
    const fromGz = await readAttempts({ input: gz });
    expect(fromGz.table).toEqual(plain.table);
    const fromStdin = await readAttempts({ input: '-' }, { stdin: Readable.from([gzipSync(TIMED_CSV)]) });
    expect(fromStdin.table).toEqual(plain.table);
    expect(fromStdin.summary.source).toBe('stdin');
  });

  it('reads the real process stdin (gzipped CSV piped into a child process)', () => {
    // Uses the compiled library, the package's entry point (npm test builds first).
    const dist = join(import.meta.dirname, '../../dist/src/index.js');
    expect(existsSync(dist), 'run npm run build first').toBe(true);
    const script = `const { readAttempts } = await import(${JSON.stringify(pathToFileURL(dist).href)});
      const { table, summary } = await readAttempts({ input: '-' });
      console.log(JSON.stringify({ rows: table.length, source: summary.source, concepts: table.conceptIds }));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { input: gzipSync(TIMED_CSV), encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ rows: 5, source: 'stdin', concepts: ['fractions', 'decimals'] });
  });
});

describe('readAttempts: filters', () => {
  const path = () =>
    file(
      'filters.csv',
      [
        'user_id,concept_id,correct,answered_at',
        'a,c1,1,2024-01-01T00:00:00Z',
        'a,c1,1,2024-01-31T23:59:59Z',
        'a,c1,0,2024-02-01T00:00:00Z',
        'b,c1,1,2024-01-15T12:00:00Z',
        'a,c2,0,2024-01-10T00:00:00Z',
        'a,c2,1,2024-01-11T00:00:00Z',
        'b,c2,1,',
      ].join('\n'),
    );

  it('keeps only the requested concepts and reports ids that never occur', async () => {
    const { table, summary } = await readAttempts({ input: path(), conceptIds: ['c2', 'nope'] });
    expect(table.conceptIds).toEqual(['c2']);
    expect(summary.rows_filtered).toEqual({ concept_id: 4, date: 0, min_attempts_per_user: 0 });
    expect(summary.concepts_not_found).toEqual(['nope']);
  });

  it('applies inclusive dates; a date-only --to-date includes that whole day; rows without a time are dropped', async () => {
    const { table, summary } = await readAttempts({ input: path(), fromDate: '2024-01-01T00:00:00Z', toDate: '2024-01-31' });
    expect(sequences(table)).toEqual(['c1/a: 11', 'c1/b: 1', 'c2/a: 01']);
    expect(summary.rows_filtered.date).toBe(2); // 02-01 and the empty time
    const upTo = await readAttempts({ input: path(), toDate: '2024-01-15T12:00:00Z' });
    expect(upTo.table.length).toBe(4);
  });

  it('drops (learner, concept) sequences shorter than minAttemptsPerUser', async () => {
    const { table, summary } = await readAttempts({ input: path(), minAttemptsPerUser: 2 });
    expect(sequences(table)).toEqual(['c1/a: 110', 'c2/a: 01']);
    expect(table.learnerIds).toEqual(['a']);
    expect(summary.rows_filtered.min_attempts_per_user).toBe(2);
    expect(summary.rows_kept).toBe(5);
  });

  it('rejects a date filter on input without a time column, and bad filter values', async () => {
    const noTime = file('notime.csv', 'user_id,concept_id,correct\na,c,1\n');
    expect(await failure({ input: noTime, fromDate: '2024-01-01' })).toMatch(/need a time column.*--col-time/);
    expect(await failure({ input: noTime, fromDate: '01/02/2024' }, UsageError)).toMatch(/^--from-date: expected an ISO-8601/);
    expect(await failure({ input: noTime, fromDate: '2024-02-01', toDate: '2024-01-01' }, UsageError)).toMatch(/after --to-date/);
    expect(await failure({ input: noTime, minAttemptsPerUser: 0 }, UsageError)).toMatch(/^--min-attempts-per-user/);
  });
});

describe('readAttempts: NDJSON, Arrow, SQLite', () => {
  const expected = ['c1/u1: 01', 'c1/u2: 1'];

  it('reads NDJSON objects with booleans, numbers and null times', async () => {
    const text = [
      '{"user_id":"u1","concept_id":"c1","correct":true,"answered_at":"2024-01-02T00:00:00Z"}',
      '',
      '{"user_id":"u1","concept_id":"c1","correct":0,"answered_at":1704067200}',
      '{"user_id":"u2","concept_id":"c1","correct":"1","answered_at":null}',
    ].join('\n');
    const { table, summary } = await readAttempts({ input: file('a.ndjson', text) });
    expect(sequences(table)).toEqual(expected);
    expect(summary.format).toBe('ndjson');
    const gz = await readAttempts({ input: file('a.jsonl.gz', gzipSync(text)) });
    expect(gz.table).toEqual(table);
  });

  it('reports NDJSON lines that are not objects or lack a field', async () => {
    expect(await failure({ input: file('bad.ndjson', '{"user_id":"u","concept_id":"c","correct":1}\n{oops\n') })).toMatch(/line 2: not valid JSON/);
    expect(await failure({ input: file('bad2.ndjson', '{"user_id":"u","concept_id":"c","correct":1}\n[1]\n') })).toMatch(/line 2: expected a JSON object/);
    expect(await failure({ input: file('bad3.ndjson', '{"user_id":"u","concept_id":"c","correct":1}\n{"user_id":"u","correct":1}\n') })).toMatch(
      /line 2: no "concept_id" field/,
    );
  });

  function arrowTable(): arrow.Table {
    return new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u1', 'u2'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      concept_id: arrow.vectorFromArray([1, 1, 1], new arrow.Int32()),
      correct: arrow.vectorFromArray([true, false, true]),
      answered_at: arrow.vectorFromArray(
        [Date.UTC(2024, 0, 2), Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1)],
        new arrow.TimestampSecond(),
      ),
    });
  }

  it('reads Arrow IPC files and streams (timestamps in any unit, bool correct, integer ids)', async () => {
    const t = arrowTable();
    const fromFile = await readAttempts({ input: file('a.arrow', arrow.tableToIPC(t, 'file')) });
    expect(sequences(fromFile.table)).toEqual(['1/u1: 01', '1/u2: 1']);
    expect(fromFile.table.time![0]).toBe(Date.UTC(2024, 0, 1));
    const fromStream = await readAttempts({ input: file('a.arrows', arrow.tableToIPC(t, 'stream')) });
    expect(fromStream.table).toEqual(fromFile.table);
    const fromStdin = await readAttempts({ input: '-', format: 'arrow' }, { stdin: Readable.from([Buffer.from(arrow.tableToIPC(t, 'stream'))]) });
    expect(fromStdin.table).toEqual(fromFile.table);
  });

  it('reads Arrow Date columns and ISO strings as times', async () => {
    const dates = new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u1']),
      concept_id: arrow.vectorFromArray(['c1', 'c1']),
      correct: arrow.vectorFromArray([1, 0], new arrow.Int32()),
      answered_at: arrow.vectorFromArray([new Date(Date.UTC(2024, 0, 2)), new Date(Date.UTC(2024, 0, 1))], new arrow.DateMillisecond()),
    });
    const fromDates = await readAttempts({ input: file('d.arrow', arrow.tableToIPC(dates, 'file')) });
    expect(sequences(fromDates.table)).toEqual(['c1/u1: 01']);
    expect(Array.from(fromDates.table.time!)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 2)]);
    const strings = new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u1']),
      concept_id: arrow.vectorFromArray(['c1', 'c1']),
      correct: arrow.vectorFromArray(['true', 'false']),
      answered_at: arrow.vectorFromArray(['2024-01-02T00:00:00Z', '2024-01-01T00:00:00Z']),
    });
    const fromStrings = await readAttempts({ input: file('s.arrow', arrow.tableToIPC(strings, 'file')) });
    expect(fromStrings.table).toEqual(fromDates.table);
  });

  it('reads Arrow integer epochs and reports a bad value by row', async () => {
    const t = new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u1']),
      concept_id: arrow.vectorFromArray(['c1', 'c1']),
      correct: arrow.vectorFromArray([1, 0], new arrow.Int8()),
      answered_at: arrow.vectorFromArray([1704153600n, 1704067200n], new arrow.Int64()),
    });
    const ok = await readAttempts({ input: file('e.arrow', arrow.tableToIPC(t, 'file')) });
    expect(sequences(ok.table)).toEqual(['c1/u1: 01']);
    const bad = new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u1']),
      concept_id: arrow.vectorFromArray(['c1', 'c1']),
      correct: arrow.vectorFromArray([1, NaN], new arrow.Float64()),
    });
    expect(await failure({ input: file('bad.arrow', arrow.tableToIPC(bad, 'file')) })).toMatch(/bad\.arrow row 2: column "correct" is NaN/);
    expect(await failure({ input: file('junk.arrow', 'not arrow at all') })).toMatch(/not an Arrow IPC file/);
  });

  function sqliteFile(name: string): string {
    const path = join(dir, name);
    rmSync(path, { force: true });
    const db = new Database(path);
    db.exec('CREATE TABLE attempts (user_id TEXT, concept_id TEXT, correct INTEGER, answered_at TEXT)');
    db.exec('CREATE TABLE other (student TEXT, skill TEXT, ok INTEGER, at INTEGER)');
    const ins = db.prepare('INSERT INTO attempts VALUES (?, ?, ?, ?)');
    ins.run('u1', 'c1', 1, '2024-01-02T00:00:00Z');
    ins.run('u1', 'c1', 0, '2024-01-01T00:00:00Z');
    ins.run('u2', 'c1', 1, null);
    db.prepare('INSERT INTO other VALUES (?, ?, ?, ?)').run('s', 'k', 1, 1704067200000);
    db.close();
    return path;
  }

  it('reads a SQLite table (default attempts), another table, or a query', async () => {
    const path = sqliteFile('a.sqlite');
    const def = await readAttempts({ input: path });
    expect(sequences(def.table)).toEqual(expected);
    const other = await readAttempts({ input: path, table: 'other', columns: { user: 'student', concept: 'skill', correct: 'ok', time: 'at' } });
    expect(sequences(other.table)).toEqual(['k/s: 1']);
    expect(other.table.time![0]).toBe(1704067200000);
    const query = await readAttempts({ input: path, query: "SELECT * FROM attempts WHERE user_id = 'u2'" });
    expect(sequences(query.table)).toEqual(['c1/u2: 1']);
  });

  it('reports a missing SQLite table, a failing query, and SQLite on stdin', async () => {
    const path = sqliteFile('b.db');
    expect(await failure({ input: path, table: 'nope' })).toMatch(/no table "nope" \(tables: attempts, other\).*--table/);
    expect(await failure({ input: path, query: 'SELEC oops' })).toMatch(/the query failed/);
    expect(await failure({ input: '-', format: 'sqlite' }, UsageError)).toMatch(/stdin/);
    expect(await failure({ input: file('x.csv', 'a\n'), table: 'x' }, UsageError)).toMatch(/--table applies only to SQLite/);
  });
});

describe('readAttempts: errors name file, line, column and value', () => {
  const cases: [string, string, RegExp][] = [
    ['bad correct', 'user_id,concept_id,correct\nu,c,1\nu,c,yes\n', /bad correct\.csv line 3: column "correct" is "yes"; expected 0, 1, true or false\. .*--col-correct/],
    ['NaN correct', 'user_id,concept_id,correct\nu,c,NaN\n', /line 2: column "correct" is "NaN"/],
    ['empty correct', 'user_id,concept_id,correct\nu,c,\n', /line 2: column "correct" is ""/],
    ['bad date', 'user_id,concept_id,correct,answered_at\nu,c,1,2024-02-30\n', /line 2: column "answered_at" is "2024-02-30"; expected an ISO-8601/],
    ['NaN time', 'user_id,concept_id,correct,answered_at\nu,c,1,NaN\n', /line 2: column "answered_at" is "NaN"/],
    ['bad order', 'user_id,skill_name,correct,order_id\nu,c,1,first\n', /line 2: column "order_id" is "first"; expected a number/],
    ['empty user', 'user_id,concept_id,correct\n,c,1\n', /line 2: column "user_id" is empty/],
    ['field count', 'user_id,concept_id,correct\nu,c,1,extra\n', /line 2: 4 fields, but the header has 3/],
    ['missing column', 'user_id,correct\nu,1\n', /line 1 \(header\): no concept column \(looked for "concept_id" or "skill_name"\); found "user_id", "correct"\. Map it with --col-concept/],
    ['empty', '', /empty\.csv is empty/],
    ['blank lines only', '\n\r\n\n', /is empty/],
    ['header only', 'user_id,concept_id,correct\n', /has a header but no attempts/],
  ];
  for (const [name, text, pattern] of cases) {
    it(`${name}`, async () => {
      const path = file(`${name}.csv`, text);
      expect(await failure({ input: path })).toMatch(pattern);
      expect(await failure({ input: path, csvParser: 'csv-parse' })).toMatch(pattern);
    });
  }

  it('an explicitly mapped column that is absent names the flag', async () => {
    const path = file('m.csv', 'user_id,concept_id,correct\nu,c,1\n');
    expect(await failure({ input: path, columns: { correct: 'is_correct' } })).toMatch(/no column "is_correct" \(given with --col-correct\)/);
  });

  it('a missing file, a directory, an unknown extension', async () => {
    expect(await failure({ input: join(dir, 'missing.csv') })).toMatch(/cannot read .*missing\.csv: no such file/);
    expect(await failure({ input: dir, format: 'csv' })).toMatch(/it is a directory/);
    expect(await failure({ input: file('x.txt', 'a') }, UsageError)).toMatch(/cannot tell the format.*--format/);
  });

  it('closes the file after an error part way through a large input', async () => {
    const path = file('big-bad.csv', 'user_id,concept_id,correct\nu,c,maybe\n' + 'u,c,1\n'.repeat(400_000));
    const openFiles = () => readdirSync('/proc/self/fd').length;
    await failure({ input: path }); // warm-up: the first read may open descriptors Node keeps (e.g. for its thread pool)
    const before = openFiles();
    for (let i = 0; i < 5; i++) expect(await failure({ input: path })).toMatch(/line 2: column "correct" is "maybe"/);
    expect(openFiles()).toBe(before);
  });

  it('corrupt gzip', async () => {
    const gz = gzipSync('user_id,concept_id,correct\n' + 'u,c,1\n'.repeat(1000));
    expect(await failure({ input: file('trunc.csv.gz', gz.subarray(0, gz.length - 30)) })).toMatch(/gzip data is corrupt or truncated/);
  });
});

describe('readAttempts: the real builder fixtures', () => {
  it('reads fixtures/builder/train.csv.gz: 407,967 rows, 533 learners, 123 concepts, file order within learners', async () => {
    const path = join(import.meta.dirname, '../../fixtures/builder/train.csv.gz');
    const { table, summary } = await readAttempts({ input: path });
    expect(summary).toMatchObject({ rows_read: 407_967, rows_kept: 407_967, parser: 'fast', ordered_by: 'file' });
    expect(table.learnerIds.length).toBe(533);
    expect(table.conceptIds.length).toBe(123);
    let correct = 0;
    for (let i = 0; i < table.length; i++) correct += table.correct[i];
    expect(correct / table.length).toBeCloseTo(0.677, 3);

    // pyBKT keeps file order within a learner: compare two sequences with the file itself.
    const lines = gunzipSync(readFileSync(path)).toString('utf8').trim().split('\n').slice(1);
    for (const [user, skill] of [
      ['7', '82'],
      [table.learnerIds[100], table.conceptIds[50]],
    ]) {
      const fromFile = lines.filter((l) => l.startsWith(`${user},${skill},`)).map((l) => l.split(',')[2]).join('');
      const seq = sequences(table).find((s) => s.startsWith(`${skill}/${user}: `));
      if (fromFile === '') expect(seq).toBeUndefined();
      else expect(seq).toBe(`${skill}/${user}: ${fromFile}`);
    }
    expect(sequences(table).find((s) => s.startsWith('82/7: '))!.length).toBeGreaterThan('82/7: '.length + 5);
  });

  it('reads fixtures/sample.csv: whole learners from train.csv', async () => {
    const { table, summary } = await readAttempts({ input: join(import.meta.dirname, '../../fixtures/sample.csv') });
    expect(summary.rows_kept).toBe(4945);
    expect(table.learnerIds.length).toBe(23);
  });
});
