/**
 * `bkt recompute`: the seed's admin recompute endpoint as a job. Reads attempts from the app's
 * tables, fits every concept with data (or the named ones), writes each concept's parameters in
 * its own transaction, and keeps one algo_runs row up to date from start to end.
 */
import { z } from 'zod';
import { InterruptedError, QualityGateError, type BktError, type GatedResult } from '../errors.js';
import { fitConcepts } from '../model/fit-concepts.js';
import type { FitReport, TrainerOptions } from '../model/fit-types.js';
import { newUuid, toUuid } from '../store/ids.js';
import { BKT_ALGO_KEY, BKT_ALGO_VERSION, RUN_TRIGGERS, type Store } from '../store/store.js';
import { conceptVerdict, constraintsFromBounds, metricsForConcept } from './persist-fit.js';

export const RECOMPUTE_TRIGGERS = ['manual', 'nightly', 'cron', 'api'] as const;

export const RecomputeOptionsSchema = z
  .object({
    /** `--concept-id` (repeatable). Default: every concept with attempts. */
    conceptIds: z.array(z.string().min(1)).default([]),
    /** `--from-date` / `--to-date`: window on session_answers.answered_at (inclusive). */
    fromDate: z.string().nullable().default(null),
    toDate: z.string().nullable().default(null),
    /** `--min-attempts`: concepts with fewer attempts are reported, not fitted. Default 10. */
    minAttempts: z.number().int().min(1).default(10),
    /** `--activate`: make each new row its concept's active one. Default false. */
    activate: z.boolean().default(false),
    /** `--force`: activate invalid or degenerate fits too. Default false. */
    force: z.boolean().default(false),
    /** `--dry-run`: fit and report, write no parameter rows (the run row is still written). Default false. */
    dryRun: z.boolean().default(false),
    /** `--trigger`. Default manual. */
    trigger: z.enum(RUN_TRIGGERS).default('manual'),
    /** Use the app's questions.concept_id fallback for answers whose snapshot names no concept. */
    questionsFallback: z.boolean().default(false),
    /** Concepts fitted per batch between interruption checks. Default 8. */
    batchSize: z.number().int().min(1).default(8),
  })
  .strict();

/** Options of `recompute` as callers write them (`bkt recompute` flags). */
export type RecomputeInput = z.input<typeof RecomputeOptionsSchema>;

/** What `recompute` did: its run, the concepts fitted, activated or left as they were. */
export interface RecomputeResult extends GatedResult {
  ok: boolean;
  run_id: string;
  algo: { key: string; version: string };
  params_ids: string[];
  dry_run: boolean;
  /** concept_id -> metrics of each concept with a usable fit (written, or would be under dry_run). */
  metrics: Record<string, Record<string, unknown>>;
  summary: {
    concepts_processed: number;
    params_fitted: number;
    /** concept_id -> why it has no new parameters. */
    errors: Record<string, string>;
    /** Answers skipped while reading: unanswered, or naming no concept. */
    skipped: { unanswered: number; no_concept: number };
    /** Concepts whose activation the quality gate refused. */
    refused: string[];
    interrupted: boolean;
  };
  /** Seconds spent reading, fitting and writing. */
  timings: { read: number; fit: number; write: number; total: number };
}

/** Callbacks `recompute` calls while it runs (progress, the run id once started). */
export interface RecomputeHooks {
  /** Aborting stops between concepts: the concept being written finishes, the run row becomes FAILED. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Run a recompute (issue 3 "Recompute"):
 * 1. an algo_runs row RUNNING with input_summary_json {from_date, to_date, min_attempts,
 *    concept_count, activate}, committed before anything else;
 * 2. attempts read as schema.md says (skipped answers counted);
 * 3. concepts fitted in batches; each fitted concept written in its own transaction together with
 *    the run's progress (output_summary_json), so a killed process leaves whole concepts and a run
 *    row saying how far it got;
 * 4. the run closed SUCCESS (FAILED when interrupted or the store failed) with output_summary_json
 *    {concepts_processed, params_fitted, errors_count, errors: {concept_id: reason}}.
 * A failing concept does not stop the others.
 *
 * @throws StorageError when the store fails (the run row is closed FAILED first when possible).
 */
export async function recompute(
  store: Store,
  input: RecomputeInput,
  trainer: Partial<TrainerOptions> = {},
  hooks: RecomputeHooks = {},
): Promise<RecomputeResult> {
  const options = RecomputeOptionsSchema.parse(input);
  const started = performance.now();
  const requested = options.conceptIds.map(toUuid);
  const inputSummary: Record<string, unknown> = {
    from_date: options.fromDate,
    to_date: options.toDate,
    min_attempts: options.minAttempts,
    concept_count: requested.length || null,
    activate: options.activate,
    dry_run: options.dryRun,
    concept_ids: requested.length ? requested : null,
  };
  const runId = await store.startRun({ trigger: options.trigger, input_summary: inputSummary });

  const errors: Record<string, string> = {};
  const refused: string[] = [];
  const paramsIds: string[] = [];
  const metricsByConcept: Record<string, Record<string, unknown>> = {};
  let processed = 0;
  let conceptTotal = requested.length;
  let skipped = { unanswered: 0, no_concept: 0 };
  const timings = { read: 0, fit: 0, write: 0, total: 0 };
  const output = () => ({
    concepts_processed: processed,
    concept_total: conceptTotal,
    params_fitted: paramsIds.length,
    params_ids: paramsIds,
    errors_count: Object.keys(errors).length,
    errors,
    skipped,
    dry_run: options.dryRun,
  });

  let interrupted = false;
  try {
    let t = performance.now();
    const read = await store.readAttempts({
      conceptIds: requested.length ? requested : undefined,
      fromDate: options.fromDate,
      toDate: options.toDate,
      questionsFallback: options.questionsFallback,
    });
    timings.read = (performance.now() - t) / 1000;
    skipped = read.skipped;
    const table = read.table;
    const present = new Set(table.conceptIds);
    for (const c of requested) if (!present.has(c)) errors[c] = 'no attempts in the database for this concept and window';
    const order = table.conceptIds.map((_, c) => c).sort((a, b) => (table.conceptIds[a] < table.conceptIds[b] ? -1 : 1));
    conceptTotal = requested.length ? requested.length : order.length;
    inputSummary.concept_count = conceptTotal;
    processed = requested.filter((c) => !present.has(c)).length;
    await store.updateRun(runId, { input_summary: inputSummary, output_summary: output() });

    const trainerOptions: Partial<TrainerOptions> = { ...trainer, minAttempts: options.minAttempts };
    let constraints: Record<string, number> | null = null;
    for (let i = 0; i < order.length && !interrupted; i += options.batchSize) {
      if (hooks.signal?.aborted) {
        interrupted = true;
        break;
      }
      const batch = order.slice(i, i + options.batchSize);
      t = performance.now();
      const report: FitReport = await fitConcepts(table, trainerOptions, { conceptIndices: batch });
      timings.fit += (performance.now() - t) / 1000;
      constraints ??= constraintsFromBounds(report.settings.bounds, report.settings.forgets);
      t = performance.now();
      for (const concept of report.concepts) {
        // Let the event loop run: SQLite calls are synchronous, so without this a SIGINT handler
        // (a macrotask) would only run after the whole recompute.
        await new Promise((resolve) => setImmediate(resolve));
        if (hooks.signal?.aborted) {
          interrupted = true;
          break;
        }
        processed++;
        try {
          const verdict = conceptVerdict(concept, options);
          if (!verdict.write) {
            errors[concept.concept_id] = verdict.reason;
            if (verdict.refused) refused.push(concept.concept_id);
            continue;
          }
          const metrics = metricsForConcept(concept, report, { source: 'database', skipped, run_id: runId });
          if (options.dryRun) {
            metricsByConcept[concept.concept_id] = metrics;
            continue;
          }
          const id = newUuid();
          const row = await store.saveParams(
            { id, concept_id: concept.concept_id, params: concept.params! },
            {
              activate: options.activate,
              constraints,
              dataFrom: options.fromDate,
              dataTo: options.toDate,
              metrics,
              runProgress: { runId, outputSummary: { ...output(), params_fitted: paramsIds.length + 1, params_ids: [...paramsIds, id] } },
            },
          );
          paramsIds.push(row.id);
          metricsByConcept[concept.concept_id] = metrics;
        } catch (e) {
          errors[concept.concept_id] = String((e as Error).message ?? e);
        } finally {
          hooks.onProgress?.(processed, conceptTotal);
        }
      }
      timings.write += (performance.now() - t) / 1000;
    }
  } catch (e) {
    await store
      .finishRun(runId, { status: 'FAILED', output_summary: output(), error_message: String((e as Error).message ?? e), input_summary: inputSummary })
      .catch(() => undefined);
    throw e;
  }

  const summary = output();
  await store.finishRun(runId, {
    status: interrupted ? 'FAILED' : 'SUCCESS',
    output_summary: { ...summary, interrupted },
    error_message: interrupted
      ? `interrupted after ${processed} of ${conceptTotal} concepts (${paramsIds.length} parameter rows written)`
      : refused.length
        ? `quality gate refused activation of ${refused.length} concept(s): ${refused.join(', ')}`
        : null,
    input_summary: inputSummary,
  });
  timings.total = (performance.now() - started) / 1000;
  return {
    ok: !interrupted,
    failure: recomputeFailure(runId, processed, errors, refused, interrupted),
    run_id: runId,
    algo: { key: BKT_ALGO_KEY, version: BKT_ALGO_VERSION },
    params_ids: paramsIds,
    dry_run: options.dryRun,
    metrics: metricsByConcept,
    summary: { concepts_processed: processed, params_fitted: paramsIds.length, errors, skipped, refused, interrupted },
    timings,
  };
}

/**
 * What failed a finished run, for `failure`: an interruption (InterruptedError, exit 130), else
 * a refused activation (QualityGateError, exit 6, naming the first concept), else null.
 */
function recomputeFailure(runId: string, processed: number, errors: Record<string, string>, refused: string[], interrupted: boolean): BktError | null {
  if (interrupted) return new InterruptedError(`run ${runId} interrupted after ${processed} concepts; it is marked FAILED`);
  if (refused.length === 0) return null;
  const first = refused[0];
  return new QualityGateError(`concept ${first}: ${errors[first]}${refused.length > 1 ? ` (and ${refused.length - 1} more)` : ''}`, 'Use `force` to activate anyway');
}
