import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type DistinctSequences, type EmResult, type EmSettings, EmWorkspace, runEm } from './em-trainer.js';
import type { BktParams } from './params.js';
import { type VariantColumns, type VariantTask, runVariantTask } from './variants/variant-task.js';
import { workerModuleUrl } from '../worker-module.js';

/** One EM run: a restart of one concept, identified by `id` (its index in the task list). */
export interface FitTask {
  id: number;
  firstSequence: number;
  lastSequence: number;
  initial: BktParams;
  settings: EmSettings;
  /** Identical sequences grouped (computed once per concept), when that saves work. */
  distinct?: DistinctSequences;
  /** Attempts the E-step visits, for scheduling the largest first. */
  attempts: number;
  /** A model-variant restart (src/model/variants): class counts and the starting vector. */
  variant?: VariantTask;
}

export type FitTaskResult =
  | { id: number; result: EmResult; theta?: number[]; error?: undefined }
  | { id: number; error: string; result?: undefined; theta?: undefined };

export interface WorkerData {
  correct: SharedArrayBuffer;
  sequenceStart: SharedArrayBuffer;
  /** The variants' per-row and per-sequence class columns, when variant tasks are run. */
  variantColumns?: { learnClass: SharedArrayBuffer; gsClass: SharedArrayBuffer; priorClass: SharedArrayBuffer };
}

/** Run one task in this thread; an exception becomes an error result, not a crash. */
export function runFitTask(
  task: FitTask,
  correct: Uint8Array,
  sequenceStart: Uint32Array,
  workspace: EmWorkspace,
  variantColumns?: VariantColumns,
): FitTaskResult {
  try {
    if (task.variant) {
      if (!variantColumns) throw new Error('a variant task needs the variant class columns');
      const outcome = runVariantTask(task, task.variant, correct, sequenceStart, variantColumns);
      return {
        id: task.id,
        result: { params: task.initial, logLikelihood: outcome.logLikelihood, logPosterior: outcome.logPosterior, iterations: outcome.iterations, converged: outcome.converged },
        theta: Array.from(outcome.theta),
      };
    }
    const slice = { correct, sequenceStart, firstSequence: task.firstSequence, lastSequence: task.lastSequence, distinct: task.distinct };
    return { id: task.id, result: runEm(task.initial, slice, task.settings, workspace) };
  } catch (error) {
    return { id: task.id, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Below this much work (attempts x restarts) one thread beats a pool: starting a worker and
 * loading the trainer into it costs tens of milliseconds (measured in bench/em.js).
 */
export const PARALLEL_WORK_THRESHOLD = 1_500_000;

/** Workers to use when the caller said 0 (auto): all cores for large work, else one. */
export function chooseWorkerCount(requested: number, totalWork: number, taskCount: number): number {
  if (requested > 0) return Math.max(1, Math.min(requested, taskCount));
  if (totalWork < PARALLEL_WORK_THRESHOLD) return 1;
  return Math.max(1, Math.min(availableParallelism(), taskCount));
}

function copyToShared(view: Uint8Array | Uint32Array): SharedArrayBuffer {
  const shared = new SharedArrayBuffer(view.byteLength);
  new Uint8Array(shared).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  return shared;
}

/**
 * Run every task and return the results in task order. Each task is a pure function of its
 * inputs, so the results are identical whatever `workers` is; the pool only changes which
 * thread computes what (largest tasks first, each worker taking the next when free).
 */
export async function runFitTasks(
  correct: Uint8Array,
  sequenceStart: Uint32Array,
  tasks: FitTask[],
  workers: number,
  onTaskDone?: (task: FitTask) => void,
  variantColumns?: VariantColumns,
): Promise<FitTaskResult[]> {
  const results: FitTaskResult[] = new Array(tasks.length);
  if (workers <= 1) {
    const workspace = new EmWorkspace();
    for (const task of tasks) {
      results[task.id] = runFitTask(task, correct, sequenceStart, workspace, variantColumns);
      onTaskDone?.(task);
    }
    return results;
  }

  const data: WorkerData = {
    correct: copyToShared(correct),
    sequenceStart: copyToShared(sequenceStart),
    ...(variantColumns
      ? {
          variantColumns: {
            learnClass: copyToShared(variantColumns.learnClass),
            gsClass: copyToShared(variantColumns.gsClass),
            priorClass: copyToShared(variantColumns.priorClass),
          },
        }
      : {}),
  };
  const queue = [...tasks].sort((a, b) => b.attempts - a.attempts || a.id - b.id);
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const url = workerModuleUrl(import.meta.url, './fit-worker.js');
  let next = 0;
  const pool = Array.from({ length: workers }, () => new Worker(url, { workerData: data }));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const feed = () => {
              if (next >= queue.length) return resolve();
              worker.postMessage(queue[next++]);
            };
            worker.on('message', (reply: FitTaskResult) => {
              results[reply.id] = reply;
              onTaskDone?.(byId.get(reply.id)!);
              feed();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              if (code !== 0) reject(new Error(`fit worker exited with code ${code}`));
            });
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return results;
}
