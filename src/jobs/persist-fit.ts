/**
 * Persist a FitReport (src/model/fit-concepts.ts) to a Store: one bkt_skill_params row per fitted
 * concept, each in its own transaction, and one algo_runs row for the whole call.
 */
import { z } from 'zod';
import { QualityGateError } from '../errors.js';
import type { ConceptFitResult, FitReport } from '../model/fit-types.js';
import type { ParamBounds } from '../model/params.js';
import { RUN_TRIGGERS, type RunTrigger, type SkillParamsRow, type Store } from '../store/store.js';

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

/** Options of `persistFitReport` as callers write them (activate, force, data range, trigger...). */
export type PersistFitInput = z.input<typeof PersistFitOptionsSchema>;
export type PersistFitOptions = z.output<typeof PersistFitOptionsSchema>;

/** One concept of a persisted fit: the params row written, or why none was. */
export interface PersistedConcept {
  concept_id: string;
  params_id: string;
  is_active: boolean;
}

/** What `persistFitReport` wrote: the run id and each concept's row or reason. */
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
    trainer: {
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
      iterations: r.iterations,
      converged: r.converged,
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

/** What persisting does with one concept of a report: write it, or why not (shared by fit and recompute). */
export type ConceptVerdict = { write: true } | { write: false; refused: boolean; reason: string };

export function conceptVerdict(concept: ConceptFitResult, options: { activate: boolean; force: boolean }): ConceptVerdict {
  if (concept.status !== 'fitted' || !concept.params) return { write: false, refused: false, reason: concept.reason ?? `fit ${concept.status}` };
  const refusal = options.activate && !options.force ? qualityRefusal(concept) : null;
  return refusal ? { write: false, refused: true, reason: `not activated (${refusal})` } : { write: true };
}

/**
 * Write each fitted concept of `report` as a bkt_skill_params row (own transaction per concept;
 * with `activate`, deactivating the concept's active rows in the same transaction), and log one
 * algo_runs row (RUNNING committed first; then SUCCESS, or FAILED when the store failed midway).
 *
 * With `activate` and without `force`, an invalid or degenerate fit is not written at all; after
 * the other concepts are written and the run row closed, QualityGateError (exit 6) names it.
 * Skipped and failed concepts are listed in `errors` and in the run's output summary.
 *
 * @throws QualityGateError (exit 6) as above; StorageError (exit 5) when the store fails.
 */
export async function persistFitReport(store: Store, report: FitReport, input: PersistFitInput = {}): Promise<PersistFitResult> {
  const options = PersistFitOptionsSchema.parse(input);
  const constraints = constraintsFromBounds(report.settings.bounds, report.settings.forgets);
  const runId = options.logRun
    ? await store.startRun({
        trigger: options.trigger as RunTrigger,
        input_summary: {
          from_date: options.dataFrom,
          to_date: options.dataTo,
          min_attempts: report.settings.minAttempts,
          concept_count: report.concepts.length,
          activate: options.activate,
          source: options.dataSummary.source ?? null,
        },
      })
    : null;

  const persisted: PersistedConcept[] = [];
  const errors: Record<string, string> = {};
  const refused: string[] = [];
  let failure: unknown = null;
  try {
    for (const concept of report.concepts) {
      const verdict = conceptVerdict(concept, options);
      if (!verdict.write) {
        errors[concept.concept_id] = verdict.reason;
        if (verdict.refused) refused.push(concept.concept_id);
        continue;
      }
      const row: SkillParamsRow = await store.saveParams(
        { concept_id: concept.concept_id, params: concept.params! },
        {
          activate: options.activate,
          constraints,
          dataFrom: options.dataFrom,
          dataTo: options.dataTo,
          metrics: metricsForConcept(concept, report, options.dataSummary),
        },
      );
      persisted.push({ concept_id: row.concept_id, params_id: row.id, is_active: row.is_active });
    }
  } catch (e) {
    failure = e;
  }

  if (runId) {
    const output = {
      concepts_processed: report.concepts.length,
      params_fitted: persisted.length,
      params_ids: persisted.map((p) => p.params_id),
      errors_count: Object.keys(errors).length,
      errors,
    };
    // The run completed (SUCCESS) even when the quality gate refused concepts: those are per-concept
    // errors, named in error_message; FAILED means the run itself broke off.
    await store.finishRun(runId, {
      status: failure !== null ? 'FAILED' : 'SUCCESS',
      output_summary: output,
      error_message: failure
        ? String((failure as Error).message ?? failure)
        : refused.length
          ? `quality gate refused activation of ${refused.length} concept(s): ${refused.join(', ')}`
          : null,
    });
  }
  if (failure) throw failure;
  const result: PersistFitResult = { run_id: runId, params_ids: persisted.map((p) => p.params_id), persisted, errors, refused };
  if (refused.length) {
    const first = refused[0];
    throw Object.assign(
      new QualityGateError(
        `concept ${first}: ${errors[first]}${refused.length > 1 ? ` (and ${refused.length - 1} more concept(s))` : ''}`,
        'Nothing was written for it; use --force to activate anyway, see docs/validation.md',
      ),
      { result },
    );
  }
  return result;
}
