import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, describe, expect, it } from 'vitest';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { readAttempts, type ReadAttemptsInput } from '../../src/data/read-attempts.js';
import { InputError } from '../../src/errors.js';
import { fitConcepts } from '../../src/model/fit-concepts.js';
import { readBatchAttempts } from '../../src/mastery/batch-input.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-parquet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array | ArrayBuffer): string {
  const path = join(dir, name);
  writeFileSync(path, content instanceof ArrayBuffer ? new Uint8Array(content) : content);
  return path;
}

function sequences(t: AttemptsTable): string[] {
  const out: string[] = [];
  for (let s = 0; s + 1 < t.sequenceStart.length; s++) {
    const a = t.sequenceStart[s];
    const b = t.sequenceStart[s + 1];
    out.push(`${t.conceptIds[t.concept[a]]}/${t.learnerIds[t.learner[a]]}: ${Array.from(t.correct.subarray(a, b)).join('')}`);
  }
  return out;
}

async function failure(options: ReadAttemptsInput): Promise<string> {
  try {
    await readAttempts(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('readAttempts: Parquet', () => {
  it('reads string and integer ids, boolean correct and timestamps, ordering each learner by time', async () => {
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: ['u1', 'u1', 'u2', 'u1'], type: 'STRING' },
        { name: 'concept_id', data: new BigInt64Array([7n, 7n, 7n, 8n]), type: 'INT64' },
        { name: 'correct', data: [true, false, true, false], type: 'BOOLEAN' },
        { name: 'answered_at', data: [new Date(3000), new Date(1000), new Date(2000), new Date(500)], type: 'TIMESTAMP' },
      ],
    });
    const { table, summary } = await readAttempts({ input: file('a.parquet', bytes) });
    expect(summary.format).toBe('parquet');
    expect(summary.ordered_by).toBe('time');
    // u1's two answers at concept 7 come back in time order: wrong (t=1000) before right (t=3000).
    expect(sequences(table)).toEqual(['7/u1: 01', '7/u2: 1', '8/u1: 0']);
    expect(Array.from(table.time!)).toEqual([1000, 3000, 2000, 500]);
  });

  it('maps columns like every other reader (pyBKT names, --col-*), across several row groups', async () => {
    const n = 2500;
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'learner', data: Array.from({ length: n }, (_, i) => `L${i % 3}`), type: 'STRING' },
        { name: 'skill_name', data: Array.from({ length: n }, (_, i) => `s${i % 2}`), type: 'STRING' },
        { name: 'correct', data: Int32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1)), type: 'INT32' },
        { name: 'order_id', data: Int32Array.from({ length: n }, (_, i) => n - i), type: 'INT32' },
      ],
      rowGroupSize: 1000,
    });
    const { table, summary } = await readAttempts({ input: file('b.parquet', bytes), columns: { user: 'learner' } });
    expect(summary.rows_read).toBe(n);
    expect(summary.columns).toMatchObject({ user: 'learner', concept: 'skill_name', order: 'order_id' });
    expect(summary.ordered_by).toBe('order');
    // Sequence s0/L0 holds rows i with i % 6 == 0; order_id descends, so they come back reversed.
    const rows = Array.from({ length: n }, (_, i) => i).filter((i) => i % 6 === 0).reverse();
    expect(sequences(table)[0]).toBe(`s0/L0: ${rows.map((i) => (i % 5 === 0 ? 0 : 1)).join('')}`);
    expect(table.length).toBe(n);
  });

  it('reports a bad value by row and column, a missing column, and bytes that are not Parquet', async () => {
    const bad = parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: ['u1', 'u2', 'u3'], type: 'STRING' },
        { name: 'concept_id', data: ['c', 'c', 'c'], type: 'STRING' },
        { name: 'correct', data: Int32Array.from([1, 0, 2]), type: 'INT32' },
      ],
    });
    expect(await failure({ input: file('bad.parquet', bad) })).toBe(`${join(dir, 'bad.parquet')} row 3: column "correct" is 2; expected 0, 1, true or false`);
    const noConcept = parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: ['u1'], type: 'STRING' },
        { name: 'correct', data: Int32Array.from([1]), type: 'INT32' },
      ],
    });
    expect(await failure({ input: file('nc.parquet', noConcept) })).toMatch(/nc\.parquet \(Parquet schema\): no concept column/);
    expect(await failure({ input: file('fake.parquet', 'user_id,concept_id,correct\nu,c,1\n') })).toMatch(/fake\.parquet: not a Parquet file/);
  });
});

describe('predict passthrough: every Parquet column is written out, so every text column is checked', () => {
  it('a column fit does not read, holding invalid UTF-8, stops the read naming its row and column', async () => {
    const { openInputRows } = await import('../../src/predict/input-rows.js');
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'user_id', data: ['u1', 'u2'], type: 'STRING' },
        { name: 'concept_id', data: ['c', 'c'], type: 'STRING' },
        { name: 'correct', data: [true, false], type: 'BOOLEAN' },
        { name: 'note', data: [new TextEncoder().encode('ok'), Uint8Array.from([0x6e, 0xff])], type: 'BYTE_ARRAY' },
      ],
    });
    const path = file('note.parquet', bytes);
    const rows = await openInputRows({ input: path, format: 'parquet' }, path);
    const read = async () => {
      for await (const chunk of rows.chunks) void chunk;
    };
    await expect(read()).rejects.toThrow(`${path} row 2: column "note" is not valid UTF-8`);
  });
});

describe('readAttempts: the builder test split as Parquet', () => {
  it('fixtures/builder/test.parquet gives the same table and the same fit as test.csv.gz', async () => {
    const fromCsv = await readAttempts({ input: 'fixtures/builder/test.csv.gz' });
    const fromParquet = await readAttempts({ input: 'fixtures/builder/test.parquet' });
    expect(fromParquet.summary.rows_read).toBe(117_567);
    expect(fromParquet.table.conceptIds).toEqual(fromCsv.table.conceptIds);
    expect(fromParquet.table.learnerIds).toEqual(fromCsv.table.learnerIds);
    expect(fromParquet.table.correct).toEqual(fromCsv.table.correct);
    expect(fromParquet.table.sequenceStart).toEqual(fromCsv.table.sequenceStart);
    const options = { restarts: 2, workers: 1 };
    const a = await fitConcepts(fromCsv.table, options);
    const b = await fitConcepts(fromParquet.table, options);
    expect(b.concepts).toEqual(a.concepts);
    expect(b.summary.total_log_likelihood).toBe(a.summary.total_log_likelihood);
  }, 60_000);
});

describe('update --input: the batch reader takes Parquet too', () => {
  it('reads fixtures/builder/test.parquet into the same attempts as test.csv.gz', async () => {
    const fromParquet = await readBatchAttempts({ input: 'fixtures/builder/test.parquet' });
    const csv = file('test.csv', gunzipSync(readFileSync('fixtures/builder/test.csv.gz')));
    const fromCsv = await readBatchAttempts({ input: csv });
    expect(fromParquet.rejected).toEqual([]);
    expect(fromParquet.attempts).toHaveLength(117_567);
    // Both give every row once; compare (learner, concept, answer) counts, whatever the row order.
    const count = (list: typeof fromCsv.attempts) => {
      const m = new Map<string, number>();
      for (const a of list) m.set(`${a.userId}/${a.conceptId}/${a.correct}`, (m.get(`${a.userId}/${a.conceptId}/${a.correct}`) ?? 0) + 1);
      return m;
    };
    expect(count(fromParquet.attempts)).toEqual(count(fromCsv.attempts));
  }, 60_000);
});
