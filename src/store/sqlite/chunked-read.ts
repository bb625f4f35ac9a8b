/**
 * A chunked SQLite read shared between this thread and worker threads. SQLite runs one
 * statement on one thread; a bulk read whose chunks are independent (rowid ranges, see
 * BulkReadOptions.rowidChunks) can run them on several connections at once. Every thread claims
 * the next chunk from one shared counter, so a slow or late-starting thread takes fewer; this
 * thread reads a chunk itself whenever no worker result is waiting (while the workers start, and
 * whenever it has caught up with them), so no core idles. Results come in no particular order.
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
  /** Int32 counters: [0] the next unclaimed chunk, [1 + slot] chunks of worker `slot` consumed. */
  counters: SharedArrayBuffer;
  slot: number;
  /** Most chunks a worker may post beyond what was consumed (bounds memory when parsing is slower). */
  ahead: number;
}

export type ChunkWorkerMessage = { kind: 'rows'; json: string } | { kind: 'done' } | { kind: 'error'; message: string };

/**
 * Chunks a worker may post beyond what this thread has consumed (about 1 MB of JSON each for an
 * attempts read). At 2 the worker sat blocked for 40-160 ms of a 0.5 s read while this thread
 * caught up; at 8 it never waits, and the read of 408 k attempts took 0.45 s instead of 0.48 s.
 */
const WORKER_CHUNKS_AHEAD = 8;

/** Below this many chunks this thread alone is faster: a worker takes about 35 ms to start. */
export const PARALLEL_CHUNKS_THRESHOLD = 8;

/** Worker threads for `chunks` chunks when the caller asked for `requested` reading threads, this one included (0 = auto). */
export function chooseChunkWorkers(requested: number, chunks: number): number {
  if (requested > 0) return Math.max(0, Math.min(requested, chunks) - 1);
  if (chunks < PARALLEL_CHUNKS_THRESHOLD) return 0;
  // This thread reads too: one worker fewer than cores.
  return Math.max(1, Math.min(availableParallelism(), 4) - 1);
}

/**
 * Yield the JSON text of every chunk of `ranges`, read by `readHere` in this thread and by the
 * chunk statement `sql` in `workers` worker threads (each on its own read-only connection, in
 * one read transaction). Ending the loop early stops the workers. A worker's SQLite error is
 * thrown as an Error with SQLite's message.
 */
export async function* readChunksShared(
  readHere: (range: [number, number]) => string,
  file: string,
  sql: string,
  params: SqlValue[],
  ranges: [number, number][],
  workers: number,
): AsyncIterable<string> {
  const countersBuffer = new SharedArrayBuffer(4 * (1 + workers));
  const counters = new Int32Array(countersBuffer);
  const inbox: { slot: number; message: ChunkWorkerMessage }[] = [];
  let wake: (() => void) | null = null;
  const deliver = (slot: number, message: ChunkWorkerMessage) => {
    inbox.push({ slot, message });
    wake?.();
  };
  const finished = new Array<boolean>(workers).fill(false);
  const url = workers > 0 ? workerModuleUrl(import.meta.url, './chunked-read-worker.js') : null;
  const pool = Array.from({ length: workers }, (_, slot) => {
    const data: ChunkWorkerData = { file, sql, params, ranges, counters: countersBuffer, slot, ahead: WORKER_CHUNKS_AHEAD };
    const worker = new Worker(url!, { workerData: data });
    worker.on('message', (message: ChunkWorkerMessage) => {
      if (message.kind === 'done') finished[slot] = true;
      deliver(slot, message);
    });
    worker.on('error', (error) => deliver(slot, { kind: 'error', message: error.message }));
    worker.on('exit', (code) => {
      if (!finished[slot]) deliver(slot, { kind: 'error', message: `a chunk-reading worker stopped (exit code ${code}) before it finished` });
    });
    return worker;
  });
  let running = workers;
  let claimedAll = false;
  try {
    for (;;) {
      const next = inbox.shift();
      if (next) {
        const { slot, message } = next;
        if (message.kind === 'error') throw new Error(message.message);
        if (message.kind === 'done') {
          running--;
          continue;
        }
        yield message.json;
        Atomics.add(counters, 1 + slot, 1);
        Atomics.notify(counters, 1 + slot);
        continue;
      }
      // No worker result waiting: read a chunk here (measured faster than leaving all reading to
      // one worker per core while this thread only decodes: 0.41 s against 0.43 s on 2 cores).
      if (!claimedAll) {
        const index = Atomics.add(counters, 0, 1);
        if (index >= ranges.length) {
          claimedAll = true;
          continue;
        }
        yield readHere(ranges[index]);
        // A macrotask turn, so that worker results that arrived meanwhile are delivered first.
        if (workers > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      // A worker says done only once every chunk is claimed, so with none running all is read.
      if (running === 0) return;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
}
