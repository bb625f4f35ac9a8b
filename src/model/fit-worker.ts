import { parentPort, workerData } from 'node:worker_threads';
import { EmWorkspace, runEm } from './em-trainer.js';
import type { FitTask, FitTaskResult, WorkerData } from './fit-pool.js';

// One worker of the fitting pool: shared, read-only columns arrive once; tasks are restarts.
const data = workerData as WorkerData;
const correct = new Uint8Array(data.correct);
const sequenceStart = new Uint32Array(data.sequenceStart);
const workspace = new EmWorkspace();

parentPort!.on('message', (task: FitTask) => {
  let reply: FitTaskResult;
  try {
    const result = runEm(
      task.initial,
      { correct, sequenceStart, firstSequence: task.firstSequence, lastSequence: task.lastSequence, distinct: task.distinct },
      task.settings,
      workspace,
    );
    reply = { id: task.id, result };
  } catch (error) {
    reply = { id: task.id, error: error instanceof Error ? error.message : String(error) };
  }
  parentPort!.postMessage(reply);
});
