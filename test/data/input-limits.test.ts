import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ID_BYTES, MAX_RECORD_BYTES, MAX_TIME_MS, MIN_TIME_MS, firstInvalidUtf8, incompleteUtf8Tail } from '../../src/data/input-limits.js';
import { parseTimeString } from '../../src/data/parse-values.js';
import { readAttempts } from '../../src/data/read-attempts.js';
import type { CsvParserChoice } from '../../src/data/read-csv.js';
import { InputError } from '../../src/errors.js';
import { readBatchAttempts } from '../../src/mastery/batch-input.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const dir = mkdtempSync(join(tmpdir(), 'bkt-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `bytes` as stdin in chunks cut at the given positions. */
function stdinOf(bytes: Buffer, cuts: number[] = []): Readable {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) chunks.push(bytes.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < bytes.length) chunks.push(bytes.subarray(prev));
  return Readable.from(chunks);
}

type Outcome = { ok: true; concepts: string[]; learners: string[]; rows: number } | { ok: false; error: string };

async function read(bytes: Buffer, options: { csvParser?: CsvParserChoice; format?: 'csv' | 'ndjson' } = {}, cuts: number[] = []): Promise<Outcome> {
  try {
    const { table } = await readAttempts({ input: '-', ...options }, { stdin: stdinOf(bytes, cuts) });
    return { ok: true, concepts: [...table.conceptIds], learners: [...table.learnerIds], rows: table.length };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { ok: false, error: error.toLine() };
  }
}

async function readFile(path: string, extra: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { table } = await readAttempts({ input: path, ...extra });
    return { ok: true, concepts: [...table.conceptIds], learners: [...table.learnerIds], rows: table.length };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { ok: false, error: error.toLine() };
  }
}

const bin = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));

describe('invalid UTF-8 is refused, never merged', () => {
  const header = 'user_id,concept_id,correct\n';
  const twoBadConcepts = bin(header, 'u1,c', [0xff], ',1\nu1,c', [0xfe], ',0\n');

  it.each(['auto', 'csv-parse'] as const)('CSV (%s): names file, line and column', async (csvParser) => {
    const out = await read(twoBadConcepts, { csvParser });
    expect(out.ok).toBe(false);
    expect(!out.ok && out.error).toMatch(/^stdin line 2: column 2 \("concept_id"\) is not valid UTF-8/);
  });

  it('CSV fast path: the bad row after a quoted line (csv-parse takes over) is still caught', async () => {
    const out = await read(bin(header, '"u0",c0,1\nu1,c1,1\nu2,', [0xc3, 0x28], ',0\n'));
    expect(!out.ok && out.error).toMatch(/^stdin line 4: column 2 \("concept_id"\) is not valid UTF-8/);
  });

  it('CSV: a user id and the header are checked too', async () => {
    const user = await read(bin(header, 'u1,c1,1\nu', [0xe2, 0x82], ',c1,0\n'));
    expect(!user.ok && user.error).toMatch(/^stdin line 3: column 1 \("user_id"\) is not valid UTF-8/);
    const head = await read(bin('user_id,concept', [0xff], ',correct\nu1,c1,1\n'));
    expect(!head.ok && head.error).toMatch(/^stdin line 1: .*not valid UTF-8/);
  });

  it.each(['auto', 'csv-parse'] as const)('CSV (%s): a real U+FFFD is text, not an error', async (csvParser) => {
    const out = await read(bin(header, 'u1,c\ufffd,1\nu1,c\ufffd\ufffd,0\n'), { csvParser });
    expect(out).toMatchObject({ ok: true, concepts: ['c\ufffd', 'c\ufffd\ufffd'] });
  });

  it('property: both CSV paths keep every valid multi-byte id, whatever the chunk cuts; a stray byte is always refused', async () => {
    const idChar = fc.constantFrom('a', 'é', '€', '𝄞', 'ж', '\ufffd');
    const id = fc.array(idChar, { minLength: 1, maxLength: 4 }).map((cs) => cs.join(''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(id, id), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.option(fc.nat(), { nil: null }),
        async (rows, cuts, strayAt) => {
          let body = bin(header, rows.map(([u, c]) => `${u},${c},1\n`).join(''));
          if (strayAt !== null) {
            // A lone continuation byte inside an id (never valid on its own).
            const line = strayAt % rows.length;
            body = Buffer.concat([Buffer.from(header), ...rows.map(([u, c], i) => (i === line ? bin(u, ',', c, [0x80], ',1\n') : bin(`${u},${c},1\n`)))]);
          }
          for (const csvParser of ['auto', 'csv-parse'] as const) {
            const out = await read(body, { csvParser }, cuts);
            if (strayAt === null) {
              expect(out).toMatchObject({ ok: true, rows: rows.length });
              expect(out.ok && new Set(out.concepts)).toEqual(new Set(rows.map((r) => r[1])));
            } else {
              expect(!out.ok && out.error).toMatch(new RegExp(`^stdin line ${(strayAt % rows.length) + 2}: column 2 \\("concept_id"\\) is not valid UTF-8`));
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('NDJSON: names the line and the field; a real U+FFFD passes', async () => {
    const bad = bin('{"user_id":"u1","concept_id":"c1","correct":1}\n{"user_id":"u1","concept_id":"c', [0xff], '","correct":0}\n');
    const out = await read(bad, { format: 'ndjson' });
    expect(!out.ok && out.error).toMatch(/^stdin line 2: field "concept_id" is not valid UTF-8/);
    const good = await read(bin('{"user_id":"u1","concept_id":"c\ufffd","correct":1}\n'), { format: 'ndjson' });
    expect(good).toMatchObject({ ok: true, concepts: ['c\ufffd'] });
  });

  it('Arrow: plain and dictionary text columns name the row and column', async () => {
    const arrow = await import('apache-arrow');
    const table = new arrow.Table({
      user_id: arrow.vectorFromArray(['u1', 'u2', 'u3'], new arrow.Utf8()),
      concept_id: arrow.vectorFromArray(['cA', 'cB', 'cA'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32())),
      correct: arrow.vectorFromArray([1, 0, 1], new arrow.Int8()),
    });
    const bytes = Buffer.from(arrow.tableToIPC(table, 'file'));
    const good = join(dir, 'good.arrow');
    writeFileSync(good, bytes);
    expect(await readFile(good)).toMatchObject({ ok: true, rows: 3 });
    const badConcept = Buffer.from(bytes);
    badConcept[badConcept.indexOf('cB') + 1] = 0xff;
    writeFileSync(join(dir, 'bad-concept.arrow'), badConcept);
    const c = await readFile(join(dir, 'bad-concept.arrow'));
    expect(!c.ok && c.error).toMatch(/bad-concept\.arrow row 2: column "concept_id" is not valid UTF-8/);
    const badUser = Buffer.from(bytes);
    badUser[badUser.indexOf('u3') + 1] = 0xc0;
    writeFileSync(join(dir, 'bad-user.arrow'), badUser);
    const u = await readFile(join(dir, 'bad-user.arrow'));
    expect(!u.ok && u.error).toMatch(/bad-user\.arrow row 3: column "user_id" is not valid UTF-8/);
  });

  it('Arrow, predict passthrough: a column fit does not read is checked too (every column is written out)', async () => {
    const arrow = await import('apache-arrow');
    const { openInputRows } = await import('../../src/predict/input-rows.js');
    const table = arrow.tableFromArrays({ user_id: ['u1', 'u2'], concept_id: ['c1', 'c1'], correct: Int8Array.from([1, 0]), note: ['ok', 'nB'] });
    const bytes = Buffer.from(arrow.tableToIPC(table, 'file'));
    bytes[bytes.indexOf('nB') + 1] = 0xff;
    const path = join(dir, 'note.arrow');
    writeFileSync(path, bytes);
    const rows = await openInputRows({ input: path, format: 'arrow' }, path);
    const read = async () => {
      for await (const chunk of rows.chunks) void chunk;
    };
    await expect(read()).rejects.toThrow(`${path} row 2: column "note" is not valid UTF-8`);
  });

  it('Arrow: a truncated file is one clear line, without JS internals or a --format hint', async () => {
    const arrow = await import('apache-arrow');
    const table = arrow.tableFromArrays({ user_id: ['u1', 'u2'], concept_id: ['c1', 'c1'], correct: Int8Array.from([1, 0]) });
    const bytes = Buffer.from(arrow.tableToIPC(table, 'file'));
    for (const cut of [bytes.length >> 1, bytes.length - 20, 12]) {
      const path = join(dir, `cut-${cut}.arrow`);
      writeFileSync(path, bytes.subarray(0, cut));
      const out = await readFile(path);
      expect(!out.ok && out.error).toMatch(/cut-\d+\.arrow is a truncated or damaged Arrow file/);
      expect(!out.ok && out.error).not.toMatch(/--format|`format`|Cannot read|properties|null/);
    }
  });

  it('SQLite: a TEXT id with invalid bytes names the row; a real U+FFFD passes', async () => {
    const path = join(dir, 'in.sqlite');
    const db = new Database(path);
    db.exec('CREATE TABLE attempts (user_id TEXT, concept_id TEXT, correct INTEGER)');
    const insert = db.prepare('INSERT INTO attempts VALUES (?, CAST(? AS TEXT), ?)');
    insert.run('u1', Buffer.from('c\ufffd'), 1);
    insert.run('u1', Buffer.from('c\ufffd'), 0);
    db.close();
    expect(await readFile(path)).toMatchObject({ ok: true, concepts: ['c\ufffd'] });
    const db2 = new Database(path);
    db2.prepare('INSERT INTO attempts VALUES (?, CAST(? AS TEXT), ?)').run('u2', Buffer.from([0x63, 0xfe]), 1);
    db2.close();
    const out = await readFile(path);
    expect(!out.ok && out.error).toMatch(/in\.sqlite \(table "attempts"\) row 3: column "concept_id" is not valid UTF-8/);
  });

  it.each(['auto', 'csv-parse'] as const)('CSV (%s): a column bkt does not read is checked too, whatever the chunk cuts', async (csvParser) => {
    const body = bin('user_id,concept_id,correct,note\n', 'u1,c1,1,fine\n', 'u1,c1,0,caf', [0xe9], '\n', 'u2,c1,1,ok\n');
    for (const cuts of [[], [body.indexOf(0xe9)], [body.indexOf(0xe9) + 1], [7, 30, 41]]) {
      const out = await read(body, { csvParser }, cuts);
      expect(!out.ok && out.error).toMatch(/^stdin line 3: column 4 \("note"\) is not valid UTF-8/);
    }
    // A multi-byte character cut by a chunk border is not a bad byte.
    const good = bin('user_id,concept_id,correct,note\n', 'u1,c1,1,café €\n');
    for (let cut = 30; cut < good.length; cut++) expect(await read(good, { csvParser }, [cut])).toMatchObject({ ok: true, rows: 1 });
  });

  it.each(['STRING', 'BYTE_ARRAY'] as const)('Parquet (%s column): invalid text names the row and column instead of becoming U+FFFD', async (type) => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const text = (...values: (string | number[])[]) => values.map((v) => (typeof v === 'string' ? new TextEncoder().encode(v) : Uint8Array.from(v)));
    const write = (name: string, users: Uint8Array[], concepts: Uint8Array[]) => {
      const path = join(dir, name);
      writeFileSync(
        path,
        new Uint8Array(
          parquetWriteBuffer({
            columnData: [
              { name: 'user_id', data: users, type },
              { name: 'concept_id', data: concepts, type },
              { name: 'correct', data: Int32Array.from(users.map((_, i) => i % 2)), type: 'INT32' },
            ],
          }),
        ),
      );
      return path;
    };
    const good = write(`good-${type}.parquet`, text('u1', 'u\ufffd', 'ü'), text('c', 'c', 'c'));
    expect(await readFile(good)).toMatchObject({ ok: true, rows: 3, learners: ['u1', 'u\ufffd', 'ü'] });
    // Two ids that hyparquet alone would both decode to "u\ufffd".
    const bad = write(`bad-${type}.parquet`, text('u1', [0x75, 0xff], [0x75, 0xfe]), text('c', 'c', 'c'));
    const out = await readFile(bad);
    expect(!out.ok && out.error).toBe(`${bad} row 2: column "user_id" is not valid UTF-8. Re-encode the input as UTF-8 (e.g. with iconv -f latin1 -t utf-8)`);
    const badConcept = write(`bad-concept-${type}.parquet`, text('u1', 'u2', 'u3'), text('c', 'c', ['c'.charCodeAt(0), 0xc3, 0x28]));
    const c = await readFile(badConcept);
    expect(!c.ok && c.error).toMatch(/row 3: column "concept_id" is not valid UTF-8/);
  });

  it('property: firstInvalidUtf8 agrees with node (simdutf) on random bytes; incompleteUtf8Tail keeps only real prefixes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
        expect(firstInvalidUtf8(bytes, 0, bytes.length) < 0).toBe(isUtf8(bytes));
        const tail = incompleteUtf8Tail(bytes);
        expect(tail).toBeLessThanOrEqual(3);
        if (isUtf8(bytes)) expect(tail).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('invalid UTF-8 in update --input (rows rejected one by one): a rejected row with its line, the rest read', () => {
  const reasons = (rejected: { line: number; reason: string }[]) => rejected.map((r) => `${r.line}: ${r.reason}`);

  it.each([
    ['the fast path', ''],
    ['csv-parse after a quoted line', '"u0",c0,1,x\n'],
  ])('CSV, %s: each bad line is rejected, a column bkt does not read included', async (_, quoted) => {
    const path = join(dir, `batch-${quoted ? 'quoted' : 'fast'}.csv`);
    const rows = quoted ? 1 : 0;
    writeFileSync(path, bin('user_id,concept_id,correct,note\n', quoted, 'u1,c1,1,a\n', 'u2,c', [0xff], ',0,b\n', 'u3,c1,1,caf', [0xe9], '\n', 'u4,c1,0,d\n'));
    const batch = await readBatchAttempts({ input: path });
    expect(batch.attempts.map((a) => a.line)).toEqual(quoted ? [2, 3, 6] : [2, 5]);
    expect(reasons(batch.rejected)).toEqual([
      `${3 + rows}: column 2 ("concept_id") is not valid UTF-8${quoted ? '' : ' (byte 0xFF at byte 5 of the line)'}`,
      `${4 + rows}: column 4 ("note") is not valid UTF-8${quoted ? '' : ' (byte 0xE9 at byte 12 of the line)'}`,
    ]);
    await expect(readBatchAttempts({ input: path, failFast: true })).rejects.toThrow(new RegExp(`line ${3 + rows}: column 2 \\("concept_id"\\) is not valid UTF-8`));
  });

  it('NDJSON: the bad line is rejected', async () => {
    const path = join(dir, 'batch.ndjson');
    writeFileSync(path, bin('{"user_id":"u1","concept_id":"c1","correct":1}\n{"user_id":"u2","concept_id":"c', [0xff], '","correct":0}\n{"user_id":"u3","concept_id":"c1","correct":1,"note":"x', [0xc0], '"}\n'));
    const batch = await readBatchAttempts({ input: path });
    expect(batch.attempts.map((a) => a.line)).toEqual([1]);
    expect(reasons(batch.rejected)).toEqual(['2: field "concept_id" is not valid UTF-8', '3: field "note" is not valid UTF-8']);
  });

  it('Arrow, Parquet and SQLite: the bad row is rejected', async () => {
    const arrow = await import('apache-arrow');
    const table = arrow.tableFromArrays({ user_id: ['u1', 'uB', 'u3'], concept_id: ['c1', 'c1', 'c1'], correct: Int8Array.from([1, 0, 1]) });
    const bytes = Buffer.from(arrow.tableToIPC(table, 'file'));
    bytes[bytes.indexOf('uB') + 1] = 0xff;
    const arrowPath = join(dir, 'batch.arrow');
    writeFileSync(arrowPath, bytes);
    const fromArrow = await readBatchAttempts({ input: arrowPath });
    expect(fromArrow.attempts.map((a) => a.line)).toEqual([1, 3]);
    expect(reasons(fromArrow.rejected)).toEqual(['2: column "user_id" is not valid UTF-8']);

    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const parquetPath = join(dir, 'batch.parquet');
    const users = [new TextEncoder().encode('u1'), Uint8Array.from([0x75, 0xff]), new TextEncoder().encode('u3')];
    writeFileSync(parquetPath, new Uint8Array(parquetWriteBuffer({ columnData: [
      { name: 'user_id', data: users, type: 'STRING' },
      { name: 'concept_id', data: ['c1', 'c1', 'c1'], type: 'STRING' },
      { name: 'correct', data: [true, false, true], type: 'BOOLEAN' },
    ] })));
    const fromParquet = await readBatchAttempts({ input: parquetPath });
    expect(fromParquet.attempts.map((a) => a.line)).toEqual([1, 3]);
    expect(reasons(fromParquet.rejected)).toEqual(['2: column "user_id" is not valid UTF-8']);

    const sqlitePath = join(dir, 'batch.sqlite');
    const db = new Database(sqlitePath);
    db.exec('CREATE TABLE attempts (user_id TEXT, concept_id TEXT, correct INTEGER, note TEXT)');
    const insert = db.prepare('INSERT INTO attempts VALUES (?, ?, ?, CAST(? AS TEXT))');
    insert.run('u1', 'c1', 1, Buffer.from('ok'));
    insert.run('u2', 'c1', 0, Buffer.from([0x6e, 0xfe]));
    insert.run('u3', 'c1', 1, Buffer.from('fine \ufffd'));
    db.close();
    const fromSqlite = await readBatchAttempts({ input: sqlitePath });
    expect(fromSqlite.attempts.map((a) => a.line)).toEqual([1, 3]);
    expect(reasons(fromSqlite.rejected)).toEqual(['2: column "note" is not valid UTF-8']);
  });
});

describe('one time parser, one valid range (0001-01-01 to 9999-12-31 UTC)', () => {
  it('accepts the ends of the range and refuses just outside them', () => {
    expect(parseTimeString('0001-01-01T00:00:00.000Z')).toBe(MIN_TIME_MS);
    expect(parseTimeString('9999-12-31T23:59:59.999Z')).toBe(MAX_TIME_MS);
    expect(parseTimeString(String(MAX_TIME_MS))).toBe(MAX_TIME_MS);
    expect(parseTimeString('0000-12-31T23:59:59.999Z')).toBeNaN();
    expect(parseTimeString('9999-12-31T23:59:59.999-01:00')).toBeNaN();
    expect(parseTimeString(String(MAX_TIME_MS + 1))).toBeNaN();
    expect(parseTimeString('9000000000000000')).toBeNaN();
    expect(parseTimeString('1'.repeat(100_000))).toBeNaN();
    expect(new Date(MIN_TIME_MS).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(MAX_TIME_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it.each([
    ['CSV fast path', 'csv', 'auto', 'user_id,concept_id,correct,answered_at\nu1,c1,1,2024-01-01T00:00:00Z\nu1,c1,0,9000000000000000\n', 3],
    ['CSV csv-parse', 'csv', 'csv-parse', 'user_id,concept_id,correct,answered_at\nu1,c1,1,0000-06-01T00:00:00.000Z\n', 2],
    ['NDJSON number', 'ndjson', 'auto', '{"user_id":"u1","concept_id":"c1","correct":1,"answered_at":1e20}\n', 1],
  ] as const)('%s: an out-of-range time is an InputError naming line and column', async (_name, format, csvParser, text, line) => {
    const out = await read(Buffer.from(text), { format, csvParser });
    expect(!out.ok && out.error).toMatch(new RegExp(`^stdin line ${line}: column "answered_at" is .*between 0001-01-01 and 9999-12-31`));
  });
});

describe('length limits', () => {
  it.each(['auto', 'csv-parse'] as const)('CSV (%s): an id over MAX_ID_BYTES is refused, one at the limit kept', async (csvParser) => {
    const atLimit = await read(bin('user_id,concept_id,correct\nu1,', 'é'.repeat(MAX_ID_BYTES / 2), ',1\n'), { csvParser });
    expect(atLimit).toMatchObject({ ok: true, rows: 1 });
    const over = await read(bin('user_id,concept_id,correct\nu1,c1,1\n', 'u'.repeat(MAX_ID_BYTES + 1), ',c1,1\n'), { csvParser });
    expect(!over.ok && over.error).toMatch(/^stdin line 3: column "user_id" holds an id of 4097 bytes; ids are at most 4096 bytes/);
  });

  it.each(['auto', 'csv-parse'] as const)('CSV (%s): a 50 MB line fails fast, naming the line', async (csvParser) => {
    const huge = Buffer.concat([Buffer.from('user_id,concept_id,correct\nu1,'), Buffer.alloc(50e6, 'x'), Buffer.from(',1\n')]);
    // 64 KiB chunks, as stdin delivers them: the reader must not re-copy the growing line.
    const cuts = Array.from({ length: Math.ceil(huge.length / 65_536) }, (_, i) => i * 65_536);
    const out = await read(huge, { csvParser }, cuts);
    expect(!out.ok && out.error).toMatch(new RegExp(`^stdin line 2 is longer than ${MAX_RECORD_BYTES} bytes`));
  });

  it('NDJSON: a 50 MB line fails fast, naming the line', async () => {
    const huge = Buffer.concat([Buffer.from('{"user_id":"u1","concept_id":"'), Buffer.alloc(50e6, 'x'), Buffer.from('","correct":1}\n')]);
    const cuts = Array.from({ length: Math.ceil(huge.length / 65_536) }, (_, i) => i * 65_536);
    const out = await read(huge, { format: 'ndjson' }, cuts);
    expect(!out.ok && out.error).toMatch(/^stdin line 1 is longer than 1048576 bytes/);
  });
});
