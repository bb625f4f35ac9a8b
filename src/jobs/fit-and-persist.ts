/**
 * The one "fit, persist, log the run" job behind `bkt fit --db/--activate` and `bkt recompute`:
 * an algo_runs row RUNNING from the start, concepts fitted in batches, each fitted concept written
 * in its own transaction together with the run's progress, activation only when the new fit is
 * not worse than the active set on held-out attempts, and a run row whose status says what the
 * exit code says.
 */
import { z } from 'zod';
import type { AttemptsTable } from '../data/attempts-table.js';
import { BktError, EXIT_CODES, InterruptedError, NotFoundError, QualityGateError, UsageError } from '../errors.js';
import { type FitConceptsExtras, fitConcepts, resolveTrainerOptions } from '../model/fit-concepts.js';
import type { ConceptFitResult, FitReport, FitSummary, TrainerOptions } from '../model/fit-types.js';
import type { BktParams, ParamBounds } from '../model/params.js';
import { boundsFromRecord } from '../quality/params-set.js';
import { newUuid, toUuid } from '../store/ids.js';
import { RUN_TRIGGERS, type SkillParamsRow, type Store } from '../store/store.js';
import {
  type ActivationComparison,
  DEFAULT_ACTIVATION_MARGIN,
  DEFAULT_HOLDOUT_FOLDS,
  type HoldoutSpec,
  decideActivation,
  heldOutMetrics,
  holdoutSplit,
} from './activation.js';
import { constraintsApplied, metricsForConcept, qualityRefusal } from './fit-rows.js';

export const FitAndPersistOptionsSchema = z
  .object({
    /** `--activate`: make each new row its concept's active one (when not worse, see activation.ts). Default false. */
    activate: z.boolean().default(false),
    /** `--force`: activate invalid, degenerate or worse fits too. Default false. */
    force: z.boolean().default(false),
    /** `--dry-run`: fit and decide, write no parameter rows (the run row is still written). Default false. */
    dryRun: z.boolean().default(false),
    /** algo_runs.trigger. Default manual. */
    trigger: z.enum(RUN_TRIGGERS).default('manual'),
    /** Log an algo_runs row. Default true. */
    logRun: z.boolean().default(true),
    /** Training window, stored as fitted_on_data_from/to and in the run's input summary. */
    dataFrom: z.string().nullable().default(null),
    dataTo: z.string().nullable().default(null),
    /** Concepts fitted per batch between interruption checks. Default 8. */
    batchSize: z.number().int().min(1).default(8),
    /** `--holdout-from DATE`: compare on attempts from this date on; default a learner split. */
    holdoutFrom: z.string().nullable().default(null),
    /** `--activation-margin`: tolerated held-out RMSE loss of a new fit against the active set. Default 0.005. */
    activationMargin: z.number().min(0).max(1).default(DEFAULT_ACTIVATION_MARGIN),
    /** Seed of the learner split. Default 42. */
    holdoutSeed: z.number().int().min(0).default(42),
    /** `--warm-start active`: one more restart from each concept's active parameters. */
    warmStartActive: z.boolean().default(false),
    /** Use the active algo_params row's constraints as the box (when the caller's trainer takes a base box). */
    algoParamsBounds: z.boolean().default(true),
    /** Extra keys of the run's input summary. */
    inputSummary: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type FitAndPersistInput = z.input<typeof FitAndPersistOptionsSchema>;

/** What the job reads, once the run row exists (so a failing read is a FAILED run). */
export interface FitAndPersistData {
  table: AttemptsTable;
  /** Source, rows, skipped answers...: stored in each row's metrics.data and the run summary. */
  dataSummary: Record<string, unknown>;
  /** Answers skipped while reading (database input), reported in the run summary. */
  skippedAnswers?: Record<string, number>;
  /** Requested concepts with no attempts: not found (exit 4), the others still fitted. */
  missing: string[];
  /** How the user wrote a requested id, when it differs from the stored one (a `7` mapped to a UUID). */
  requestedAs?: Record<string, string>;
  /** Fit only these concepts of the table (e.g. `--concept-pattern` on database input); default all. */
  conceptIndices?: number[];
}

/**
 * The trainer options, or a function of the base box: the active algo_params row's constraints
 * when it has them (see FitAndPersistOptions.algoParamsBounds), else undefined.
 */
export type TrainerInput = Partial<TrainerOptions> | ((base: ParamBounds | undefined) => Partial<TrainerOptions>);

export interface FitAndPersistHooks {
  /** Aborting stops between concepts: the concept being written finishes, the run row becomes FAILED. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Extra metrics per concept (e.g. `--cv` figures), merged into its row's metrics. */
  extraMetrics?: (concept: ConceptFitResult) => Record<string, unknown> | undefined;
  /** Warm starts from a file (`--warm-start FILE`), by concept id. */
  warmStarts?: (conceptId: string) => BktParams | undefined;
  /** Source column of each standard role, passed to fitConcepts (variants name their columns). */
  columns?: FitConceptsExtras['columns'];
  /** How a batch is fitted; default fitConcepts (persistFitReport passes a report fitted before). */
  fitBatch?: (table: AttemptsTable, trainer: Partial<TrainerOptions>, conceptIndices: number[]) => Promise<FitReport>;
}

/** Exit code and run status agree: SUCCESS is exit 0, anything else is FAILED. */
export interface RunOutcome {
  status: 'SUCCESS' | 'FAILED';
  exit_code: number;
  /** One line saying why the run is not a success; null on success. */
  message: string | null;
}

/** One concept the job wrote: its params row, whether it is now active, and how it compared with the active set. */
export interface PersistedConcept {
  concept_id: string;
  params_id: string;
  is_active: boolean;
}

export interface FitAndPersistSummary {
  concepts_processed: number;
  concept_total: number;
  params_fitted: number;
  params_ids: string[];
  activated: number;
  /** Too little data: not fitted. An ordinary outcome, not an error. */
  skipped_concepts: Record<string, string>;
  /** Invalid or degenerate fits the quality gate kept from activation (nothing written): exit 6. */
  refused: Record<string, string>;
  /** New fits written inactive because they were worse on held-out attempts than the active set. */
  kept_active: Record<string, string>;
  /** Requested concepts without attempts (exit 4), failed fits and failed writes. */
  errors: Record<string, string>;
  skipped_count: number;
  refused_count: number;
  kept_active_count: number;
  errors_count: number;
  /** Both sides of every activation comparison, by concept. */
  comparisons: Record<string, ActivationComparison>;
  /** Answers skipped while reading (database input). */
  skipped: Record<string, number>;
  dry_run: boolean;
  interrupted: boolean;
}

export interface FitAndPersistResult {
  run_id: string | null;
  /** Every concept's fit, as `fitConcepts` reports them (merged over the batches). */
  report: FitReport;
  persisted: PersistedConcept[];
  summary: FitAndPersistSummary;
  outcome: RunOutcome;
  /** constraints_applied of the rows written. */
  constraints: Record<string, unknown>;
  /** concept_id -> metrics of each concept with a usable fit (written, or that would be under dry_run). */
  metrics: Record<string, Record<string, unknown>>;
  timings: { read: number; fit: number; write: number; total: number };
}

/** Parse `--holdout-from` into the split spec (learners by default). */
function holdoutSpec(options: z.output<typeof FitAndPersistOptionsSchema>): HoldoutSpec {
  if (!options.holdoutFrom) return { kind: 'learners', fraction: 1 / DEFAULT_HOLDOUT_FOLDS, seed: options.holdoutSeed };
  const ms = Date.parse(options.holdoutFrom);
  return { kind: 'from', date: options.holdoutFrom, ms };
}

/** The run's outcome from its buckets (precedence: interrupted, refused, not found, other errors). */
export function runOutcome(summary: FitAndPersistSummary, notFound: string[], errorCodes: number[]): RunOutcome {
  if (summary.interrupted) {
    return {
      status: 'FAILED',
      exit_code: 130,
      message: `interrupted after ${summary.concepts_processed} of ${summary.concept_total} concepts (${summary.params_fitted} parameter rows written)`,
    };
  }
  const refused = Object.keys(summary.refused);
  if (refused.length) {
    return {
      status: 'FAILED',
      exit_code: 6,
      message: `quality gate refused activation of ${refused.length} concept(s): ${refused.join(', ')}`,
    };
  }
  if (notFound.length) {
    return { status: 'FAILED', exit_code: 4, message: `no attempts for concept(s) ${notFound.join(', ')}` };
  }
  const errors = Object.keys(summary.errors);
  if (errors.length) {
    return { status: 'FAILED', exit_code: Math.max(1, ...errorCodes), message: `${errors.length} concept(s) failed: ${errors.map((c) => `${c} (${summary.errors[c]})`).join('; ')}` };
  }
  return { status: 'SUCCESS', exit_code: 0, message: null };
}

/**
 * Fit and persist, as one logged run:
 * 1. an algo_runs row RUNNING (committed at once) with the input summary;
 * 2. `read()`; requested concepts without attempts become errors (not found);
 * 3. concepts fitted in batches of `batchSize`; with `activate`, a concept that has an active row
 *    is fitted on the training part of the holdout split and compared with it on the held-out
 *    attempts (activation.ts); each concept then is written in its own transaction with the run's
 *    progress: active, inactive (kept_active), or not at all (skipped, refused, error, dry run);
 * 4. the run closed with the status of `runOutcome` (FAILED whenever the exit code is not 0).
 * A failing concept does not stop the others.
 *
 * @throws StorageError when the store fails (the run row is closed FAILED first when possible).
 */
export async function fitAndPersist(
  store: Store,
  read: () => Promise<FitAndPersistData>,
  trainer: TrainerInput,
  input: FitAndPersistInput = {},
  hooks: FitAndPersistHooks = {},
): Promise<FitAndPersistResult> {
  const parsed = FitAndPersistOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`fit-and-persist option ${issue.path.join('.')}: ${issue.message}`);
  }
  const options = parsed.data;
  if (options.holdoutFrom !== null && !Number.isFinite(Date.parse(options.holdoutFrom))) {
    throw new UsageError(`\`holdoutFrom\` ${JSON.stringify(options.holdoutFrom)} is not a date`, 'Give an ISO date such as 2026-01-15 or 2026-01-15T08:00:00Z');
  }
  const started = performance.now();
  const fitBatch =
    hooks.fitBatch ?? ((t: AttemptsTable, o: Partial<TrainerOptions>, conceptIndices: number[]) => fitConcepts(t, o, { conceptIndices, columns: hooks.columns }));
  const algoParams = options.algoParamsBounds ? await store.activeAlgoParams() : null;
  const baseBounds = boundsFromRecord(algoParams?.params_json.constraints);
  const trainerOptions = typeof trainer === 'function' ? trainer(baseBounds) : trainer;
  const boundsSource = typeof trainer === 'function' && baseBounds && trainerOptions.bounds && sameBounds(trainerOptions.bounds, baseBounds) ? 'algo_params' : null;

  const inputSummary: Record<string, unknown> = {
    from_date: options.dataFrom,
    to_date: options.dataTo,
    min_attempts: trainerOptions.minAttempts ?? 10,
    concept_count: null,
    activate: options.activate,
    dry_run: options.dryRun,
    method: trainerOptions.method ?? 'map',
    ...options.inputSummary,
  };
  const runId = options.logRun ? await store.startRun({ trigger: options.trigger, input_summary: inputSummary }) : null;

  const summary: FitAndPersistSummary = {
    concepts_processed: 0,
    concept_total: 0,
    params_fitted: 0,
    params_ids: [],
    activated: 0,
    skipped_concepts: {},
    refused: {},
    kept_active: {},
    errors: {},
    skipped_count: 0,
    refused_count: 0,
    kept_active_count: 0,
    errors_count: 0,
    comparisons: {},
    skipped: {},
    dry_run: options.dryRun,
    interrupted: false,
  };
  const count = (): Record<string, unknown> => {
    summary.skipped_count = Object.keys(summary.skipped_concepts).length;
    summary.refused_count = Object.keys(summary.refused).length;
    summary.kept_active_count = Object.keys(summary.kept_active).length;
    summary.errors_count = Object.keys(summary.errors).length;
    return { ...summary };
  };
  const timings = { read: 0, fit: 0, write: 0, total: 0 };
  const persisted: PersistedConcept[] = [];
  const notFound: string[] = [];
  const errorCodes: number[] = [];
  const reports: FitReport[] = [];
  const metricsByConcept: Record<string, Record<string, unknown>> = {};
  let constraints: Record<string, unknown> = {};

  try {
    let t = performance.now();
    const data = await read();
    timings.read = (performance.now() - t) / 1000;
    const { table } = data;
    summary.skipped = data.skippedAnswers ?? {};
    for (const c of data.missing) {
      summary.errors[c] = `no attempts for this concept in ${String(data.dataSummary.source ?? 'the input')}${options.dataFrom || options.dataTo ? ' within the date window' : ''}`;
      const typed = data.requestedAs?.[c];
      notFound.push(typed && typed !== c ? `${typed} (${c})` : c);
    }
    const order = (data.conceptIndices ?? table.conceptIds.map((_, c) => c)).slice().sort((a, b) => (table.conceptIds[a] < table.conceptIds[b] ? -1 : 1));
    summary.concept_total = order.length + data.missing.length;
    summary.concepts_processed = data.missing.length;
    inputSummary.concept_count = summary.concept_total;
    if (runId) await store.updateRun(runId, { input_summary: inputSummary, output_summary: count() });

    // The active rows: compared against (--activate) and warm-started from (--warm-start active).
    const activeRows = new Map<string, SkillParamsRow>();
    if (options.activate || options.warmStartActive) {
      for (const row of await store.listParams()) activeRows.set(row.concept_id, row);
    }
    const activeOf = (conceptId: string) => activeRows.get(conceptId) ?? activeRows.get(toUuid(conceptId));
    const paramsOf = (row: SkillParamsRow): BktParams => {
      const model = (row.metrics?.model ?? {}) as { p_F?: unknown };
      return { p_L0: row.p_L0, p_T: row.p_T, p_S: row.p_S, p_G: row.p_G, p_F: typeof model.p_F === 'number' ? model.p_F : 0 };
    };
    const warmStarts = (conceptId: string) =>
      hooks.warmStarts?.(conceptId) ?? (options.warmStartActive ? (activeOf(conceptId) ? paramsOf(activeOf(conceptId)!) : undefined) : undefined);
    const trainerWithWarm: Partial<TrainerOptions> = { ...trainerOptions, warmStarts };

    const spec = holdoutSpec(options);
    const split = options.activate && activeRows.size > 0 ? holdoutSplit(table, spec) : null;

    for (let i = 0; i < order.length; i += options.batchSize) {
      if (hooks.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const batch = order.slice(i, i + options.batchSize);
      const compared = split ? batch.filter((c) => activeOf(table.conceptIds[c])) : [];
      const direct = batch.filter((c) => !compared.includes(c));
      t = performance.now();
      // `split`: fitted on the training part, then compared; `fallback`: too few attempts were left
      // for training after holding out, so fitted on everything and activated uncompared.
      const fits: { report: FitReport; kind: 'full' | 'split' | 'fallback' }[] = [];
      if (direct.length) fits.push({ report: await fitBatch(table, trainerWithWarm, direct), kind: 'full' });
      if (compared.length) {
        const report = await fitBatch(split!.train, trainerWithWarm, compared);
        const tooSmall = report.concepts.filter((c) => c.status === 'skipped').map((c) => table.conceptIds.indexOf(c.concept_id));
        fits.push({ report: { ...report, concepts: report.concepts.filter((c) => c.status !== 'skipped') }, kind: 'split' });
        if (tooSmall.length) fits.push({ report: await fitBatch(table, trainerWithWarm, tooSmall), kind: 'fallback' });
      }
      timings.fit += (performance.now() - t) / 1000;
      t = performance.now();
      for (const { report, kind } of fits) {
        reports.push(report);
        constraints = constraintsApplied(report.settings, boundsSource, algoParams?.id ?? null);
        for (const concept of report.concepts) {
          // Let the event loop run: SQLite calls are synchronous, so without this a SIGINT handler
          // (a macrotask) would only run after the whole job.
          await new Promise((resolve) => setImmediate(resolve));
          if (hooks.signal?.aborted) {
            summary.interrupted = true;
            break;
          }
          summary.concepts_processed++;
          try {
            await persistConcept(concept, report, kind);
          } catch (e) {
            summary.errors[concept.concept_id] = String((e as Error).message ?? e);
            errorCodes.push(e instanceof BktError ? e.exitCode : 1);
          } finally {
            hooks.onProgress?.(summary.concepts_processed, summary.concept_total);
          }
        }
        if (summary.interrupted) break;
      }
      timings.write += (performance.now() - t) / 1000;
      if (summary.interrupted) break;
    }

    async function persistConcept(concept: ConceptFitResult, report: FitReport, kind: 'full' | 'split' | 'fallback'): Promise<void> {
      const id = concept.concept_id;
      if (concept.status === 'skipped') {
        summary.skipped_concepts[id] = concept.reason ?? 'skipped';
        return;
      }
      if (concept.status !== 'fitted' || !concept.params) {
        summary.errors[id] = concept.reason ?? `fit ${concept.status}`;
        errorCodes.push(1);
        return;
      }
      const refusal = options.activate && !options.force ? qualityRefusal(concept) : null;
      if (refusal) {
        summary.refused[id] = `not activated (${refusal})`;
        return;
      }
      let activate = options.activate;
      let comparison: ActivationComparison | null = null;
      const active = options.activate ? activeOf(id) : undefined;
      if (active && split && kind === 'fallback') {
        comparison = {
          ...decideActivation(null, null, { margin: options.activationMargin, force: options.force, activeParamsId: active.id, holdout: split.description }),
          reason: 'too few attempts left to fit after holding some out: fitted on all attempts, activated without comparing',
        };
        summary.comparisons[id] = comparison;
      } else if (active && split) {
        const c = table.conceptIds.indexOf(id);
        comparison = decideActivation(heldOutMetrics(table, c, concept.params, split.heldOut), heldOutMetrics(table, c, paramsOf(active), split.heldOut), {
          margin: options.activationMargin,
          force: options.force,
          activeParamsId: active.id,
          holdout: split.description,
        });
        summary.comparisons[id] = comparison;
        if (comparison.decision === 'keep_active') {
          activate = false;
          summary.kept_active[id] = comparison.reason;
        }
      }
      const metrics = {
        ...metricsForConcept(concept, report, data.dataSummary),
        ...(hooks.extraMetrics?.(concept) ?? {}),
        ...(runId ? { run_id: runId } : {}),
        ...(comparison ? { activation: comparison } : {}),
      };
      metricsByConcept[id] = metrics;
      if (options.dryRun) return;
      const paramsId = newUuid();
      const progress = { ...count(), params_fitted: summary.params_fitted + 1, params_ids: [...summary.params_ids, paramsId] };
      const row = await store.saveParams(
        { id: paramsId, concept_id: id, params: concept.params },
        {
          activate,
          constraints,
          dataFrom: options.dataFrom,
          dataTo: options.dataTo,
          metrics,
          ...(runId ? { runProgress: { runId, outputSummary: progress } } : {}),
        },
      );
      summary.params_ids.push(row.id);
      summary.params_fitted++;
      if (row.is_active) summary.activated++;
      persisted.push({ concept_id: row.concept_id, params_id: row.id, is_active: row.is_active });
    }
  } catch (e) {
    if (runId) {
      await store
        .finishRun(runId, { status: 'FAILED', output_summary: count(), error_message: String((e as Error).message ?? e), input_summary: inputSummary })
        .catch(() => undefined);
    }
    throw e;
  }

  count();
  const outcome = runOutcome(summary, notFound, errorCodes);
  if (runId) {
    await store.finishRun(runId, {
      status: outcome.status,
      output_summary: { ...summary, outcome },
      error_message: outcome.message,
      input_summary: inputSummary,
    });
  }
  timings.total = (performance.now() - started) / 1000;
  return { run_id: runId, report: mergeReports(reports, trainerOptions), persisted, summary, outcome, constraints, metrics: metricsByConcept, timings };
}

function sameBounds(a: ParamBounds, b: ParamBounds): boolean {
  return (['L0_min', 'L0_max', 'T_min', 'T_max', 'S_min', 'S_max', 'G_min', 'G_max'] as const).every((k) => a[k] === b[k]);
}

/** One FitReport from the batches' reports (concepts in batch order, summary figures added up). */
export function mergeReports(reports: FitReport[], trainer: Partial<TrainerOptions>): FitReport {
  const concepts = reports.flatMap((r) => r.concepts);
  const fitted = concepts.filter((c) => c.status === 'fitted');
  const summary: FitSummary = {
    concepts_total: concepts.length,
    fitted: fitted.length,
    skipped: concepts.filter((c) => c.status === 'skipped').length,
    failed: concepts.filter((c) => c.status === 'failed').length,
    invalid: fitted.filter((c) => c.valid === false).length,
    degenerate: fitted.filter((c) => c.degenerate === true).length,
    at_bound: fitted.filter((c) => c.warnings.length > 0).length,
    n_attempts: concepts.reduce((sum, c) => sum + c.n_attempts, 0),
    total_log_likelihood: fitted.reduce((sum, c) => sum + (c.log_likelihood ?? 0), 0),
    seconds: reports.reduce((sum, r) => sum + r.summary.seconds, 0),
    workers: Math.max(0, ...reports.map((r) => r.summary.workers)),
  };
  const { initialParams, warmStarts, ...settings } = resolveTrainerOptions(trainer);
  return { concepts, summary, settings: reports[0]?.settings ?? settings };
}

/**
 * The failure a finished run carries for the CLI (GatedResult): interrupted (exit 130), a refused
 * activation (exit 6, naming the first concept), a requested concept without attempts (exit 4),
 * another failed concept (exit 1); null on success. Its code is the outcome's exit code.
 */
export function failureOfOutcome(outcome: RunOutcome, runId: string | null, refused: Record<string, string>): BktError | null {
  const run = runId ? `run ${runId}: ` : '';
  switch (outcome.exit_code) {
    case 0:
      return null;
    case 130:
      return new InterruptedError(`${run}${outcome.message}; it is marked FAILED`);
    case 6: {
      const [first, ...more] = Object.keys(refused);
      return new QualityGateError(
        `concept ${first}: ${refused[first]}${more.length ? ` (and ${more.length} more concept(s))` : ''}`,
        'Nothing was written for it; use `force` to activate anyway, see docs/validation.md',
      );
    }
    case 4:
      return new NotFoundError(`${run}${outcome.message}`, 'Check `conceptIds` against the data (bkt params list, or the input file)');
    default:
      return new BktError(`${run}${outcome.message}`, { code: 'RUN_FAILED', exitCode: EXIT_CODES.internal });
  }
}
