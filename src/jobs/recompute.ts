/**
 * `bkt recompute`: the seed's admin recompute endpoint as a job. Reads attempts from the app's
 * tables, fits every concept with data (or the named ones) and persists them through the shared
 * fit-and-persist job (fit-and-persist.ts), which keeps one algo_runs row up to date from start
 * to end.
 */
import { z } from 'zod';
import type { TrainerOptions } from '../model/fit-types.js';
import { toUuid } from '../store/ids.js';
import { BKT_ALGO_KEY, BKT_ALGO_VERSION, RUN_TRIGGERS, type Store } from '../store/store.js';
import type { GatedResult } from '../errors.js';
import { type FitAndPersistHooks, type RunOutcome, type TrainerInput, failureOfOutcome, fitAndPersist } from './fit-and-persist.js';
import type { ActivationComparison } from './activation.js';

export const RECOMPUTE_TRIGGERS = ['manual', 'nightly', 'cron', 'api'] as const;

export const RecomputeOptionsSchema = z
  .object({
    /** `--concept-id` (repeatable). Default: every concept with attempts. */
    conceptIds: z.array(z.string().min(1)).default([]),
    /** `--from-date` / `--to-date`: window on session_answers.answered_at (inclusive). */
    fromDate: z.string().nullable().default(null),
    toDate: z.string().nullable().default(null),
    /** `--min-attempts`: concepts with fewer attempts are reported as skipped, not fitted. Default 10. */
    minAttempts: z.number().int().min(1).default(10),
    /** `--activate`: make each new row its concept's active one, when not worse than the active set. Default false. */
    activate: z.boolean().default(false),
    /** `--force`: activate invalid, degenerate or worse fits too. Default false. */
    force: z.boolean().default(false),
    /** `--dry-run`: fit and report, write no parameter rows (the run row is still written). Default false. */
    dryRun: z.boolean().default(false),
    /** `--trigger`. Default manual. */
    trigger: z.enum(RUN_TRIGGERS).default('manual'),
    /** Use the app's questions.concept_id fallback for answers whose snapshot names no concept. */
    questionsFallback: z.boolean().default(false),
    /** Concepts fitted per batch between interruption checks. Default 8. */
    batchSize: z.number().int().min(1).default(8),
    /** `--holdout-from DATE`: compare new and active parameters on attempts from this date on. Default: a learner split. */
    holdoutFrom: z.string().nullable().default(null),
    /** `--activation-margin`: tolerated held-out RMSE loss against the active set. Default 0.005. */
    activationMargin: z.number().min(0).max(1).optional(),
    /** `--warm-start active`: one more restart per concept from its active parameters. */
    warmStartActive: z.boolean().default(false),
  })
  .strict();

/** Options of `recompute` as callers write them (`bkt recompute` flags). */
export type RecomputeInput = z.input<typeof RecomputeOptionsSchema>;

/** Callbacks `recompute` calls while it runs (progress, interruption, warm starts): the job's hooks. */
export type RecomputeHooks = FitAndPersistHooks;

/** What `recompute` did: its run, the concepts fitted, activated, kept or refused. */
export interface RecomputeResult extends GatedResult {
  /** True when the run succeeded (exit 0). */
  ok: boolean;
  run_id: string;
  algo: { key: string; version: string };
  params_ids: string[];
  dry_run: boolean;
  /** concept_id -> metrics of each concept with a usable fit (written, or would be under dry_run). */
  metrics: Record<string, Record<string, unknown>>;
  /**
   * concept_id -> the concept's name as `bkt import` kept it (null when it has none), for every
   * concept the run fitted, skipped or reported: the maps here are keyed by UUID.
   */
  concept_labels: Record<string, string | null>;
  summary: {
    concepts_processed: number;
    params_fitted: number;
    activated: number;
    /** concept_id -> why it was not fitted (too little data): ordinary, not an error. */
    skipped_concepts: Record<string, string>;
    /** concept_id -> why the new fit stayed inactive (worse on held-out attempts). */
    kept_active: Record<string, string>;
    /** concept_id -> what went wrong (no attempts for a requested concept, a failed fit or write). */
    errors: Record<string, string>;
    /** Answers skipped while reading: unanswered, or naming no concept. */
    skipped: Record<string, number>;
    /** Concepts whose activation the quality gate refused. */
    refused: string[];
    /** concept_id -> why the quality gate refused it (invalid or degenerate; nothing written). */
    refusals: Record<string, string>;
    /** Both sides of each activation comparison. */
    comparisons: Record<string, ActivationComparison>;
    interrupted: boolean;
  };
  /** The run's status and the exit code it maps to (they agree). */
  outcome: RunOutcome;
  /** Seconds spent reading, fitting and writing. */
  timings: { read: number; fit: number; write: number; total: number };
}

/**
 * Run a recompute: the shared fit-and-persist job over the app's tables (schema.md "Attempts from
 * the app's tables"; skipped answers counted), with the run row's input summary {from_date,
 * to_date, min_attempts, concept_count, activate, ...}. A failing concept does not stop the others.
 * The box is the active algo_params row's constraints when `trainer` is a function taking it.
 *
 * @throws StorageError when the store fails (the run row is closed FAILED first when possible).
 */
export async function recompute(store: Store, input: RecomputeInput, trainer: TrainerInput = {}, hooks: FitAndPersistHooks = {}): Promise<RecomputeResult> {
  const options = RecomputeOptionsSchema.parse(input);
  const requested = options.conceptIds.map(toUuid);
  const withMinAttempts = (t: Partial<TrainerOptions>): Partial<TrainerOptions> => ({ ...t, minAttempts: options.minAttempts });
  const result = await fitAndPersist(
    store,
    async () => {
      const read = await store.readAttempts({
        conceptIds: requested.length ? requested : undefined,
        fromDate: options.fromDate,
        toDate: options.toDate,
        questionsFallback: options.questionsFallback,
      });
      const present = new Set(read.table.conceptIds);
      return {
        table: read.table,
        dataSummary: { source: 'database', skipped: read.skipped },
        skippedAnswers: { ...read.skipped },
        missing: requested.filter((c) => !present.has(c)),
        requestedAs: Object.fromEntries(options.conceptIds.map((typed) => [toUuid(typed), typed])),
      };
    },
    typeof trainer === 'function' ? (base) => withMinAttempts(trainer(base)) : withMinAttempts(trainer),
    {
      activate: options.activate,
      force: options.force,
      dryRun: options.dryRun,
      trigger: options.trigger,
      dataFrom: options.fromDate,
      dataTo: options.toDate,
      batchSize: options.batchSize,
      holdoutFrom: options.holdoutFrom,
      ...(options.activationMargin !== undefined ? { activationMargin: options.activationMargin } : {}),
      warmStartActive: options.warmStartActive,
      inputSummary: { min_attempts: options.minAttempts, concept_ids: requested.length ? requested : null, concept_count: requested.length || null },
    },
    hooks,
  );
  const s = result.summary;
  const named = [...result.report.concepts.map((c) => c.concept_id), ...Object.keys(s.errors)];
  const labels = named.length ? await store.labels('concept', named) : new Map<string, string>();
  return {
    ok: result.outcome.exit_code === 0,
    failure: failureOfOutcome(result.outcome, result.run_id, s.refused),
    run_id: result.run_id!,
    algo: { key: BKT_ALGO_KEY, version: BKT_ALGO_VERSION },
    params_ids: s.params_ids,
    dry_run: options.dryRun,
    metrics: result.metrics,
    concept_labels: Object.fromEntries([...new Set(named)].sort().map((id) => [id, labels.get(id.toLowerCase()) ?? null])),
    summary: {
      concepts_processed: s.concepts_processed,
      params_fitted: s.params_fitted,
      activated: s.activated,
      skipped_concepts: s.skipped_concepts,
      kept_active: s.kept_active,
      errors: s.errors,
      refusals: s.refused,
      skipped: s.skipped,
      refused: Object.keys(s.refused),
      comparisons: s.comparisons,
      interrupted: s.interrupted,
    },
    outcome: result.outcome,
    timings: result.timings,
  };
}
