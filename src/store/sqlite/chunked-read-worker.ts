/**
 * Worker of chunked-read.ts: runs the chunk statement for its share of rowid ranges on its own
 * read-only connection, in one read transaction, and posts each chunk's JSON text. It runs at
 * most `ahead` chunks ahead of what the main thread has consumed, so memory stays bounded when
 * the consumer is the slower side.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkWorkerData, ChunkWorkerMessage } from './chunked-read.js';

const data = workerData as ChunkWorkerData;
const consumed = new Int32Array(data.consumed);
const post = (message: ChunkWorkerMessage) => parentPort!.postMessage(message);

try {
  const db = new Database(data.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('mmap_size = 1073741824');
    db.exec('BEGIN');
    const chunk = db.prepare(data.sql).pluck();
    for (let i = 0; i < data.ranges.length; i++) {
      while (i - Atomics.load(consumed, data.slot) >= data.ahead) Atomics.wait(consumed, data.slot, Atomics.load(consumed, data.slot), 1000);
      const [from, to] = data.ranges[i];
      post({ kind: 'rows', json: chunk.get(...data.params, from, to) as string });
    }
    db.exec('COMMIT');
  } finally {
    db.close();
  }
  post({ kind: 'done' });
} catch (error) {
  post({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
}
