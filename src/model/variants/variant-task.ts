import type { EmSettings } from '../em-trainer.js';
import { type VariantEmResult, VariantWorkspace, runVariantEm } from './variant-trainer.js';

/** The class columns of a whole table (VariantLayout), shared read-only with the fit workers. */
export interface VariantColumns {
  learnClass: Uint32Array;
  gsClass: Uint32Array;
  priorClass: Uint32Array;
}

/** What a fit task needs besides the standard fields to be a variant restart. */
export interface VariantTask {
  priorClasses: number;
  learnClasses: number;
  gsClasses: number;
  /** Starting vector [prior x P | learn x R | forget x R | guess x S | slip x S]. */
  initialTheta: number[];
}

let sharedWorkspace: VariantWorkspace | null = null;

/** Run one variant restart (a pure function of its inputs, so any thread gives the same result). */
export function runVariantTask(
  task: { firstSequence: number; lastSequence: number; settings: EmSettings },
  variant: VariantTask, correct: Uint8Array, sequenceStart: Uint32Array, columns: VariantColumns): VariantEmResult {
  sharedWorkspace ??= new VariantWorkspace();
  return runVariantEm(
    Float64Array.from(variant.initialTheta),
    {
      correct,
      sequenceStart,
      firstSequence: task.firstSequence,
      lastSequence: task.lastSequence,
      learnClass: columns.learnClass,
      gsClass: columns.gsClass,
      priorClass: columns.priorClass,
      priorClasses: variant.priorClasses,
      learnClasses: variant.learnClasses,
      gsClasses: variant.gsClasses,
    },
    task.settings,
    sharedWorkspace,
  );
}
