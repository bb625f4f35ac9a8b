import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import Database from 'better-sqlite3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { beforeAll, describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { readAttempts } from '../../src/data/read-attempts.js';
import { InputError } from '../../src/errors.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bkt-class-columns-'));
});

/** Each row's (learner, class value) in table order, for comparing tables from different readers. */
function rowsOf(table: AttemptsTable, name: string): string[] {
  const column = table.classColumns!.find((c) => c.name === name)!;
  return Array.from(table.learner, (l, k) => `${table.learnerIds[l]}:${column.values[k] < 0 ? '-' : column.ids[column.values[k]]}`);
}

// Out of order on purpose: u2 before u1, and u1's rows by order_id 3, 1, 2.
const ROWS = [
  ['u2', 'c', '1', 't9', '5'],
  ['u1', 'c', '0', 't2', '3'],
  ['u1', 'c', '1', 't1', '1'],
  ['u1', 'c', '1', '', '2'],
];
const EXPECTED = ['u2:t9', 'u1:t1', 'u1:-', 'u1:t2'];

describe('class columns through every reader', () => {
  it('follow their rows through the sort in CSV (fast path and quoted), NDJSON, Arrow, SQLite and Parquet', async () => {
    const header = 'user_id,concept_id,correct,item,order_id';
    const csv = join(dir, 'a.csv');
    writeFileSync(csv, `${header}\n${ROWS.map((r) => r.join(',')).join('\n')}\n`);
    const quoted = join(dir, 'q.csv');
    writeFileSync(quoted, `${header}\n${ROWS.map((r) => r.map((v) => `"${v}"`).join(',')).join('\n')}\n`);
    const ndjson = join(dir, 'a.ndjson');
    writeFileSync(ndjson, ROWS.map(([u, c, k, i, o]) => JSON.stringify({ user_id: u, concept_id: c, correct: Number(k), item: i === '' ? null : i, order_id: Number(o) })).join('\n'));
    const ipc = join(dir, 'a.arrow');
    const table = new arrow.Table({
      user_id: arrow.vectorFromArray(ROWS.map((r) => r[0])),
      concept_id: arrow.vectorFromArray(ROWS.map((r) => r[1])),
      correct: arrow.vectorFromArray(ROWS.map((r) => r[2] === '1')),
      item: arrow.vectorFromArray(ROWS.map((r) => (r[3] === '' ? null : r[3])), new arrow.Utf8()),
      order_id: arrow.vectorFromArray(ROWS.map((r) => Number(r[4])), new arrow.Int32()),
    });
    writeFileSync(ipc, arrow.tableToIPC(table, 'file'));
    const sqlite = join(dir, 'a.sqlite');
    const db = new Database(sqlite);
    db.exec('CREATE TABLE attempts (user_id TEXT, concept_id TEXT, correct INTEGER, item TEXT, order_id INTEGER)');
    const insert = db.prepare('INSERT INTO attempts VALUES (?, ?, ?, ?, ?)');
    for (const [u, c, k, i, o] of ROWS) insert.run(u, c, Number(k), i === '' ? null : i, Number(o));
    db.close();
    const parquet = join(dir, 'a.parquet');
    writeFileSync(
      parquet,
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: 'user_id', data: ROWS.map((r) => r[0]), type: 'STRING' },
            { name: 'concept_id', data: ROWS.map((r) => r[1]), type: 'STRING' },
            { name: 'correct', data: ROWS.map((r) => r[2] === '1'), type: 'BOOLEAN' },
            { name: 'item', data: ROWS.map((r) => (r[3] === '' ? null : r[3])), type: 'STRING' },
            { name: 'order_id', data: new Int32Array(ROWS.map((r) => Number(r[4]))), type: 'INT32' },
          ],
        }),
      ),
    );
    for (const input of [csv, quoted, ndjson, ipc, sqlite, parquet]) {
      const { table: read } = await readAttempts({ input, classColumns: [{ name: 'item', required: true }] });
      expect(rowsOf(read, 'item'), input).toEqual(EXPECTED);
    }
  });

  it('names the missing column and the flag when a required one is absent, and skips an optional one', async () => {
    const csv = join(dir, 'b.csv');
    writeFileSync(csv, 'user_id,concept_id,correct\nu1,c,1\n');
    const missing = readAttempts({ input: csv, classColumns: [{ name: 'item', required: true, flag: '`variants.multigs`' }] });
    await expect(missing).rejects.toThrow(InputError);
    await expect(missing).rejects.toThrow(/b\.csv line 1 \(header\): no column "item" \(given with `variants.multigs`\); found "user_id", "concept_id", "correct"/);
    const { table } = await readAttempts({ input: csv, classColumns: [{ name: 'template_id', required: false }] });
    expect(table.classColumns).toBeUndefined();
  });

  it('stay aligned when short sequences are dropped, and keep only used values in the dictionary', () => {
    const table = AttemptsTableBuilder.fromArrays(
      { learner: ['a', 'b', 'a', 'b'], concept: ['c', 'c', 'c', 'c'], correct: [1, 0, 1, 1], classes: { item: ['x', 'dropped', 'y', null] } },
      {},
    );
    expect(rowsOf(table, 'item')).toEqual(['a:x', 'a:y', 'b:dropped', 'b:-']);
    const kept = AttemptsTableBuilder.fromArrays(
      { learner: ['a', 'b', 'a'], concept: ['c', 'c', 'c'], correct: [1, 0, 1], classes: { item: ['x', 'dropped', 'y'] } },
      { minAttemptsPerSequence: 2 },
    );
    expect(rowsOf(kept, 'item')).toEqual(['a:x', 'a:y']);
    expect(kept.classColumns![0].ids).toEqual(['x', 'y']);
  });
});
