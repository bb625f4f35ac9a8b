/**
 * A chunked SQLite read spread over worker threads. SQLite runs one statement on one thread; a
 * bulk read whose chunks are independent (rowid ranges, see BulkReadOptions.rowidChunks) can run
 * them on several connections at once while the main thread parses what arrives. Measured on
 * the attempts read of 408 k answers (2 cores): 0.50 s in one thread, see docs/store.md for the
 * workers' figure.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerModuleUrl } from '../../worker-module.js';
import type { SqlValue } from '../sql.js';

export interface ChunkWorkerData {
  file: string;
  /** The chunk statement; its last two parameters are the rowid range [from, to). */
  sql: string;
  params: SqlValue[];
  ranges: [number, number][];
  /** This worker's slot in `consumed`. */
  slot: number;
  /** Chunks of each worker the main thread has consumed (Int32 per slot). */
  consumed: SharedArrayBuffer;
  /** Most chunks a worker may post beyond what was consumed. */
  ahead: number;
}

export type ChunkWorkerMessage = { kind: 'rows'; json: string } | { kind: 'done' } | { kind: 'error'; message: string };

/** Below this many chunks one thread is faster: a worker costs about 30 ms to start. */
export const PARALLEL_CHUNKS_THRESHOLD = 8;

/** Workers for `chunks` chunks when the caller asked for `requested` (0 = auto). */
export function chooseChunkWorkers(requested: number, chunks: number): number {
  if (requested > 0) return Math.min(requested, chunks);
  if (chunks < PARALLEL_CHUNKS_THRESHOLD) return 1;
  return Math.min(availableParallelism(), 4, chunks);
}

/**
 * Run the chunk statement over `ranges` in `workers` worker threads (ranges dealt round-robin)
 * and yield each chunk's JSON text as it arrives, in no particular order. Ending the loop early
 * stops the workers. A worker's SQLite error is thrown as an Error with SQLite's message.
 */
export async function* readChunksInWorkers(file: string, sql: string, params: SqlValue[], ranges: [number, number][], workers: number): AsyncIterable<string> {
  const url = workerModuleUrl(import.meta.url, './chunked-read-worker.js');
  const consumedBuffer = new SharedArrayBuffer(4 * workers);
  const consumed = new Int32Array(consumedBuffer);
  const inbox: { slot: number; message: ChunkWorkerMessage }[] = [];
  let wake: (() => void) | null = null;
  const deliver = (slot: number, message: ChunkWorkerMessage) => {
    inbox.push({ slot, message });
    wake?.();
  };
  const pool = Array.from({ length: workers }, (_, slot) => {
    const data: ChunkWorkerData = {
      file,
      sql,
      params,
      ranges: ranges.filter((_, i) => i % workers === slot),
      slot,
      consumed: consumedBuffer,
      ahead: 2,
    };
    const worker = new Worker(url, { workerData: data });
    worker.on('message', (message: ChunkWorkerMessage) => deliver(slot, message));
    worker.on('error', (error) => deliver(slot, { kind: 'error', message: error.message }));
    return worker;
  });
  let running = workers;
  try {
    while (running > 0) {
      if (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const { slot, message } = inbox.shift()!;
      if (message.kind === 'error') throw new Error(message.message);
      if (message.kind === 'done') {
        running--;
        continue;
      }
      yield message.json;
      // Consumed: let this worker run one more chunk ahead.
      Atomics.add(consumed, slot, 1);
      Atomics.notify(consumed, slot);
    }
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}
