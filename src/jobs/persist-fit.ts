/**
 * Persist a FitReport (src/model/fit-concepts.ts) to a Store: one bkt_skill_params row per fitted
 * concept, each in its own transaction, and one algo_runs row for the whole call.
 */
import { z } from 'zod';
import { QualityGateError } from '../errors.js';
import type { FitReport } from '../model/fit-types.js';
import type { AttemptsTable } from '../data/attempts-table.js';
import { RUN_TRIGGERS, type Store } from '../store/store.js';

export const PersistFitOptionsSchema = z
  .object({
    /** `--activate`: make each new row its concept's only active row. Default false. */
    activate: z.boolean().default(false),
    /** `--force`: activate invalid or degenerate fits too. Default false. */
    force: z.boolean().default(false),
    /** Training window, stored as fitted_on_data_from/to (ISO). Default null. */
    dataFrom: z.string().nullable().default(null),
    dataTo: z.string().nullable().default(null),
    /** algo_runs.trigger. Default manual. */
    trigger: z.enum(RUN_TRIGGERS).default('manual'),
    /** Log an algo_runs row (RUNNING first, then SUCCESS/FAILED). Default true. */
    logRun: z.boolean().default(true),
    /** Summary of the data read (source, rows, skipped counts), stored in metrics.data and the run's input summary. */
    dataSummary: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

/** Options of `persistFitReport` as callers give them (defaults filled by PersistFitOptionsSchema). */
export type PersistFitInput = z.input<typeof PersistFitOptionsSchema>;
export type PersistFitOptions = z.output<typeof PersistFitOptionsSchema>;

export type { PersistedConcept } from './fit-and-persist.js';
import type { PersistedConcept } from './fit-and-persist.js';

/** What `persistFitReport` wrote: the run, the parameter rows, and the concepts it did not write, with why. */
export interface PersistFitResult {
  run_id: string | null;
  params_ids: string[];
  persisted: PersistedConcept[];
  /** Concepts not persisted, with the reason (skipped, failed, or refused by the quality gate). */
  errors: Record<string, string>;
  /** Concepts whose activation the quality gate refused (subset of errors). */
  refused: string[];
}

export { constraintsApplied, constraintsFromBounds, metricsForConcept, qualityRefusal } from './fit-rows.js';

/**
 * Persist an already fitted report through the shared fit-and-persist job (one bkt_skill_params
 * row per fitted concept, each in its own transaction; one algo_runs row). With `activate` and
 * without `force`, an invalid or degenerate fit is not written at all; after the other concepts are
 * written and the run row closed (FAILED), QualityGateError (exit 6) names it. A concept with an
 * active row would be compared with it on held-out attempts, but a pre-fitted report has no
 * attempts to hold out: it is activated without comparing (recorded as such in its metrics).
 *
 * @throws QualityGateError (exit 6) as above; StorageError (exit 5) when the store fails.
 */
export async function persistFitReport(store: Store, report: FitReport, input: PersistFitInput = {}): Promise<PersistFitResult> {
  const options = PersistFitOptionsSchema.parse(input);
  const { fitAndPersist } = await import('./fit-and-persist.js');
  const conceptIds = report.concepts.map((c) => c.concept_id);
  const result = await fitAndPersist(
    store,
    async () => ({ table: conceptOnlyTable(conceptIds), dataSummary: options.dataSummary, missing: [] }),
    report.settings,
    {
      activate: options.activate,
      force: options.force,
      trigger: options.trigger,
      logRun: options.logRun,
      dataFrom: options.dataFrom,
      dataTo: options.dataTo,
      algoParamsBounds: false,
      batchSize: Math.max(1, conceptIds.length),
      inputSummary: { source: options.dataSummary.source ?? null },
    },
    { fitBatch: async (_table, _trainer, indices) => ({ ...report, concepts: indices.map((c) => report.concepts[c]) }) },
  );
  const errors = { ...result.summary.skipped_concepts, ...result.summary.errors, ...result.summary.refused };
  const refused = Object.keys(result.summary.refused);
  const persisted: PersistFitResult = { run_id: result.run_id, params_ids: result.summary.params_ids, persisted: result.persisted, errors, refused };
  if (refused.length) {
    const first = refused[0];
    throw Object.assign(
      new QualityGateError(
        `concept ${first}: ${errors[first]}${refused.length > 1 ? ` (and ${refused.length - 1} more concept(s))` : ''}`,
        'Nothing was written for it; use `force` to activate anyway, see docs/validation.md',
      ),
      { result: persisted },
    );
  }
  return persisted;
}

/** A table naming concepts and holding no rows: what persisting a pre-fitted report iterates over. */
function conceptOnlyTable(conceptIds: string[]): AttemptsTable {
  return {
    conceptIds,
    learnerIds: [],
    questionIds: [],
    length: 0,
    concept: new Uint32Array(0),
    learner: new Uint32Array(0),
    correct: new Uint8Array(0),
    time: null,
    question: null,
    sequenceStart: new Uint32Array(1),
    conceptSequenceStart: new Uint32Array(conceptIds.length + 1),
  };
}
