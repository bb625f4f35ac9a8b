/**
 * Worker of chunked-read.ts: claims chunks from the shared counter and runs the chunk statement
 * for each on its own read-only connection, in one read transaction, posting each chunk's JSON
 * text. It stays at most `ahead` chunks ahead of what the main thread has consumed.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkWorkerData, ChunkWorkerMessage } from './chunked-read.js';

const data = workerData as ChunkWorkerData;
const counters = new Int32Array(data.counters);
const consumed = 1 + data.slot;
const post = (message: ChunkWorkerMessage) => parentPort!.postMessage(message);

try {
  const db = new Database(data.file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('mmap_size = 1073741824');
    db.exec('BEGIN');
    const chunk = db.prepare(data.sql).pluck();
    for (let sent = 0; ; sent++) {
      for (let seen = Atomics.load(counters, consumed); sent - seen >= data.ahead; seen = Atomics.load(counters, consumed)) {
        Atomics.wait(counters, consumed, seen, 1000);
      }
      const index = Atomics.add(counters, 0, 1);
      if (index >= data.ranges.length) break;
      const [from, to] = data.ranges[index];
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
