/**
 * Persist a FitReport (src/model/fit-concepts.ts) to a Store: one bkt_skill_params row per fitted
 * concept, each in its own transaction, and one algo_runs row for the whole call.
 */
import { z } from 'zod';
import { QualityGateError } from '../errors.js';
import type { ConceptFitResult, FitReport } from '../model/fit-types.js';
import type { ParamBounds } from '../model/params.js';
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

export type PersistFitInput = z.input<typeof PersistFitOptionsSchema>;
export type PersistFitOptions = z.output<typeof PersistFitOptionsSchema>;

export type { PersistedConcept } from './fit-and-persist.js';
import type { PersistedConcept } from './fit-and-persist.js';

export interface PersistFitResult {
  run_id: string | null;
  params_ids: string[];
  persisted: PersistedConcept[];
  /** Concepts not persisted, with the reason (skipped, failed, or refused by the quality gate). */
  errors: Record<string, string>;
  /** Concepts whose activation the quality gate refused (subset of errors). */
  refused: string[];
}

/** constraints_applied: the bounds the trainer projected onto, keyed as the seed's CLI ({L0_min, ...}). */
export function constraintsFromBounds(bounds: ParamBounds, forgets: boolean): Record<string, number> {
  const { F_min, F_max, ...four } = bounds;
  return forgets ? { ...four, F_min, F_max } : { ...four };
}

/**
 * constraints_applied of a fit: the box ({L0_min, ...}); for a method other than `box` also the
 * method and what it adds (the priors, the mastery cap, the plausibility margin); and, when the box
 * came from the active algo_params row, `bounds_source: "algo_params"` with that row's id.
 */
export function constraintsApplied(settings: FitReport['settings'], boundsSource: 'algo_params' | null, algoParamsId: string | null): Record<string, unknown> {
  const constraints: Record<string, unknown> = constraintsFromBounds(settings.bounds, settings.forgets);
  if (settings.method !== 'box') {
    constraints.method = settings.method;
    if (settings.prior) constraints.prior = settings.prior;
    if (settings.masteryCap != null && !settings.forgets) constraints.mastery_cap = settings.masteryCap;
    if (settings.plausibilityMargin != null) constraints.plausibility_margin = settings.plausibilityMargin;
  }
  if (boundsSource) {
    constraints.bounds_source = boundsSource;
    constraints.algo_params_id = algoParamsId;
  }
  return constraints;
}

/**
 * The metrics JSON stored with a fitted concept: the seed's keys (training_samples, unique_users,
 * avg_sequence_length), in-sample prediction metrics, the fit itself, the trainer settings, every
 * restart, and `model: {p_F}` when forgetting was fitted; a variant fit's class parameters
 * (VariantModel) under `model` as well.
 */
export function metricsForConcept(concept: ConceptFitResult, report: FitReport, dataSummary: Record<string, unknown>): Record<string, unknown> {
  const { settings } = report;
  const metrics: Record<string, unknown> = {
    training_samples: concept.n_attempts,
    unique_users: concept.n_users,
    avg_sequence_length: concept.n_users > 0 ? concept.n_attempts / concept.n_users : null,
    auc: concept.metrics?.auc ?? null,
    rmse: concept.metrics?.rmse ?? null,
    log_loss: concept.metrics?.log_loss ?? null,
    accuracy: concept.metrics?.accuracy ?? null,
    metrics_scope: 'in_sample',
    log_likelihood: concept.log_likelihood,
    iterations: concept.iterations,
    converged: concept.converged,
    valid: concept.valid,
    degenerate: concept.degenerate,
    violations: concept.violations,
    data: dataSummary,
    warnings: concept.warnings,
    warm_start: concept.warm_start,
    trainer: {
      method: settings.method,
      prior: settings.prior,
      mastery_cap: settings.masteryCap,
      plausibility_margin: settings.plausibilityMargin,
      restart_selection: settings.restartSelection,
      restarts: settings.restarts,
      seed: settings.seed,
      max_iterations: settings.maxIterations,
      tolerance: settings.tolerance,
      bounds: settings.bounds,
      forgets: settings.forgets,
      fixed: { ...settings.fixed, ...settings.fixedByConcept?.[concept.concept_id] },
      min_attempts: settings.minAttempts,
      min_users: settings.minUsers,
      quality: settings.quality,
    },
    restarts: concept.restarts.map((r) => ({
      restart: r.restart,
      initial: r.initial,
      params: r.params,
      log_likelihood: r.log_likelihood,
      log_posterior: r.log_posterior,
      iterations: r.iterations,
      converged: r.converged,
      ...(r.warm_start ? { warm_start: true } : {}),
    })),
  };
  if (concept.cv) Object.assign(metrics, concept.cv);
  // A variant fit's class parameters go under model too (schema.md); the base columns hold its concept-level values.
  if ((settings.forgets && concept.params) || concept.model) {
    metrics.model = { ...(settings.forgets && concept.params ? { p_F: concept.params.p_F } : {}), ...(concept.model ?? {}) };
  }
  return metrics;
}

/** Why the quality gate refuses to activate a fitted concept, or null when it passes. */
export function qualityRefusal(concept: ConceptFitResult): string | null {
  if (concept.valid !== false && concept.degenerate !== true) return null;
  const kind = concept.valid === false ? 'invalid' : 'degenerate';
  return `${kind}: ${concept.violations.map((v) => v.message).join('; ')}`;
}

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
        'Nothing was written for it; use --force to activate anyway, see docs/validation.md',
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
