import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-chunks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A migrated SQLite store with a scratch table t of 5,000 rows, every seventh deleted (rowid gaps). */
async function storeWithRows(): Promise<Store> {
  const store = await openStore(join(dir, `${Math.random().toString(36).slice(2)}.sqlite`), { mode: 'migrate' });
  await store.migrate();
  const driver = sqlDriverOf(store);
  await driver.run('CREATE TABLE t (k INTEGER, label TEXT, note TEXT)');
  await driver.transaction(async (tx) => {
    for (let k = 0; k < 5000; k++) await tx.run('INSERT INTO t (k, label, note) VALUES (?, ?, ?)', [k, `row "${k}"\n\t`, k % 3 ? null : 'ü']);
  });
  await driver.run('DELETE FROM t WHERE k % 7 = 0');
  return store;
}

const SQL = 'SELECT k AS c0, label AS c1, note AS c2, rowid AS bkt_rowid FROM t WHERE k % 2 = ?';

async function collect(store: Store, workers: number): Promise<unknown[][]> {
  const rows: unknown[][] = [];
  const options = { rowidChunks: { table: 't', column: 'bkt_rowid', workers, rowidsPerChunk: 300 } };
  for await (const _ of sqlDriverOf(store).streamRows(SQL, [1], options, (row) => rows.push([...row])));
  return rows.sort((a, b) => (a[0] as number) - (b[0] as number));
}

describe('chunked SQLite reads (rowidChunks)', () => {
  it('return exactly the rows of the plain read, in this thread, on 1 to 3 threads, and unchunked', async () => {
    const store = await storeWithRows();
    try {
      const plain = (await sqlDriverOf(store).queryArrays('SELECT k, label, note FROM t WHERE k % 2 = ? ORDER BY k', [1])) as unknown[][];
      expect(plain.length).toBeGreaterThan(2000);
      for (const workers of [1, 2, 3]) expect(await collect(store, workers), `workers ${workers}`).toEqual(plain);
      // Without rowidChunks, the same rows one by one.
      const unchunked: unknown[][] = [];
      for await (const _ of sqlDriverOf(store).streamRows(SQL, [1], {}, (row) => unchunked.push(row.slice(0, 3))));
      expect(unchunked.sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(plain);
    } finally {
      await store.close();
    }
  });

  it('can be left early, and then lets the next write transaction run', async () => {
    const store = await storeWithRows();
    try {
      for (const workers of [1, 2]) {
        const options = { rowidChunks: { table: 't', column: 'bkt_rowid', workers, rowidsPerChunk: 100 } };
        for await (const count of sqlDriverOf(store).streamRows(SQL, [1], options, () => undefined)) {
          expect(count).toBeGreaterThan(0);
          break;
        }
        await sqlDriverOf(store).transaction((tx) => tx.run('INSERT INTO t (k, label) VALUES (?, ?)', [-1, 'after']));
      }
      expect(await sqlDriverOf(store).queryArrays('SELECT count(*) FROM t WHERE k = -1')).toEqual([[2]]);
    } finally {
      await store.close();
    }
  });

  it('reports an error raised while a worker reads as a StorageError', async () => {
    const store = await storeWithRows();
    try {
      // One malformed text late in the table: the error comes from a chunk read mid-stream.
      await sqlDriverOf(store).run('UPDATE t SET note = NULL');
      await sqlDriverOf(store).run(`UPDATE t SET note = 'not json' WHERE k = 4001`);
      const sql = `SELECT k AS c0, json_extract(note, '$.a') AS c1, rowid AS bkt_rowid FROM t`;
      for (const workers of [1, 2]) {
        const read = async () => {
          const options = { rowidChunks: { table: 't', column: 'bkt_rowid', workers, rowidsPerChunk: 500 } };
          for await (const _ of sqlDriverOf(store).streamRows(sql, [], options, () => undefined));
        };
        await expect(read(), `workers ${workers}`).rejects.toThrow(StorageError);
        await expect(read()).rejects.toThrow(/malformed JSON/);
      }
    } finally {
      await store.close();
    }
  });
});
