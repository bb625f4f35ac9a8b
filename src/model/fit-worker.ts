import { parentPort, workerData } from 'node:worker_threads';
import { EmWorkspace } from './em-trainer.js';
import { type FitTask, type WorkerData, runFitTask } from './fit-pool.js';

// One worker of the fitting pool: shared, read-only columns arrive once; tasks are restarts.
const data = workerData as WorkerData;
const correct = new Uint8Array(data.correct);
const sequenceStart = new Uint32Array(data.sequenceStart);
const workspace = new EmWorkspace();
const variantColumns = data.variantColumns
  ? {
      learnClass: new Uint32Array(data.variantColumns.learnClass),
      gsClass: new Uint32Array(data.variantColumns.gsClass),
      priorClass: new Uint32Array(data.variantColumns.priorClass),
    }
  : undefined;

parentPort!.on('message', (task: FitTask) => {
  parentPort!.postMessage(runFitTask(task, correct, sequenceStart, workspace, variantColumns));
});
