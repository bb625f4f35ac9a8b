import { emptyConceptResult } from '../model/concept-fit-start.js';
import type { AttemptsTable } from '../data/attempts-table.js';
import { type ReadAttemptsInput, type ReadSummary, readAttempts } from '../data/read-attempts.js';
import { type GatedResult, NotFoundError, QualityGateError, UsageError } from '../errors.js';
import type { PersistFitResult } from '../jobs/persist-fit.js';
import { type FitProgress, fitConcepts } from '../model/fit-concepts.js';
import type { ConceptFitResult, FitReport, TrainerOptions } from '../model/fit-types.js';
import type { ParamBounds } from '../model/params.js';
import { type RunOutcome, failureOfOutcome } from '../jobs/fit-and-persist.js';
import { writeParamsFile } from '../params-file.js';

/** What `bkt fit` on a file does, as one options object (flags map onto it one to one). */
export interface FitAttemptsOptions {
  /** Where the attempts come from: a file (readAttempts options), or an already-read table. */
  source:
    | { kind: 'file'; read: ReadAttemptsInput }
    | { kind: 'table'; table: AttemptsTable; summary: Record<string, unknown> }
    /** The app's tables (schema.md "Attempts from the app's tables") of the `persist.db` store. */
    | { kind: 'store'; conceptIds?: string[]; conceptPattern?: string; fromDate?: string; toDate?: string; questionsFallback?: boolean };
  /** Write the fits to a store (bkt_skill_params rows and an algo_runs row) through the shared fit-and-persist job. */
  persist?: {
    db?: string;
    activate: boolean;
    force: boolean;
    fromDate?: string;
    toDate?: string;
    /** `--holdout-from`: compare with the active set on attempts from this date on (default: a learner split). */
    holdoutFrom?: string;
    /** `--activation-margin` (default 0.005 held-out RMSE). */
    activationMargin?: number;
  };
  /** Trainer options; a function receives the active algo_params row's box when fitting from the database. */
  trainer: Partial<TrainerOptions> | ((base: ParamBounds | undefined) => Partial<TrainerOptions>);
  /** `--warm-start active|FILE`: one more restart per concept from the active parameters or a params file's. */
  warmStart?: string;
  /** `--cv K`: K-fold cross-validation by learner after the fit; its figures go into each concept's metrics. */
  crossValidationFolds?: number;
  /** Write the fitted parameters here (.csv or JSON). */
  out?: string;
  /** `--strict`: fail (exit 6) when a fitted concept is invalid or degenerate. */
  strict?: boolean;
  onProgress?: (progress: FitProgress) => void;
}

/** What `fitAttempts` returns: `bkt fit --json`'s document. */
export interface FitAttemptsResult extends GatedResult {
  concepts: ConceptFitResult[];
  summary: FitReport['summary'] & { read: ReadSummary | Record<string, unknown> };
  settings: FitReport['settings'];
  /** Where the params file went, when written. */
  out: string | null;
  /** What was written to the store, when asked. */
  persisted:
    | (PersistFitResult & {
        db: string;
        skipped: Record<string, string>;
        kept_active: Record<string, string>;
        comparisons: Record<string, unknown>;
        constraints_applied: Record<string, unknown>;
        status: 'SUCCESS' | 'FAILED';
      })
    | null;
  /** The quality gate refused to activate some fits (their rows were not written): exit 6. */
  qualityGate: string | null;
  /** Exit code and, when not 0, the one line saying why (the run row's status agrees). */
  outcome: RunOutcome;
}

/**
 * Read attempts, fit every concept (fitConcepts), and write the params file when asked.
 * Requested concepts that are not in the data are reported as skipped, never silently dropped.
 * @throws InputError for unreadable input; UsageError for bad options or no attempts at all.
 */
export async function fitAttempts(options: FitAttemptsOptions): Promise<FitAttemptsResult> {
  const needsStore = options.source.kind === 'store' || options.persist !== undefined || options.warmStart === 'active';
  if (options.warmStart === 'active' && options.source.kind === 'file' && options.persist === undefined) {
    throw new UsageError('`warmStart` active needs the database that holds the active parameters', 'Add `persist.db`, or give `warmStart` a params file');
  }
  const { openStore } = needsStore ? await import('../store/open-store.js') : { openStore: null };
  const store = openStore ? await openStore(options.persist?.db ?? null) : null;
  try {
    let table: AttemptsTable;
    let readSummary: ReadSummary | Record<string, unknown>;
    let requested: string[] = [];
    let requestedAs: Record<string, string> = {};
    let conceptIndices: number[] | undefined;
    if (options.source.kind === 'file') {
      const read = await readAttempts(options.source.read);
      table = read.table;
      readSummary = read.summary;
      requested = read.summary.concepts_not_found;
    } else if (options.source.kind === 'store') {
      const { toUuid } = await import('../store/ids.js');
      const wanted = (options.source.conceptIds ?? []).map(toUuid);
      requestedAs = Object.fromEntries((options.source.conceptIds ?? []).map((typed) => [toUuid(typed), typed]));
      const read = await store!.readAttempts({
        conceptIds: wanted.length ? wanted : undefined,
        fromDate: options.source.fromDate ?? null,
        toDate: options.source.toDate ?? null,
        questionsFallback: options.source.questionsFallback,
        // Model variants class rows by question (the app's tables have no other item column).
        includeQuestions: (typeof options.trainer === 'function' ? options.trainer(undefined) : options.trainer).variants !== undefined,
      });
      table = read.table;
      const present = new Set(table.conceptIds);
      requested = wanted.filter((c) => !present.has(c));
      readSummary = { source: store!.display, rows_kept: table.length, skipped: read.skipped, n_concepts: table.conceptIds.length };
      if (options.source.conceptPattern !== undefined) {
        // The file readers drop other concepts while reading; the store's table is filtered here.
        const { compileConceptPattern } = await import('../data/read-attempts.js');
        const pattern = compileConceptPattern(options.source.conceptPattern);
        conceptIndices = table.conceptIds.flatMap((id, c) => (pattern.test(id) ? [c] : []));
        if (conceptIndices.length === 0) {
          throw new NotFoundError(`\`source.conceptPattern\` ${JSON.stringify(options.source.conceptPattern)}: no concept in ${store!.display} matches`, 'The pattern must match a whole concept id');
        }
      }
    } else {
      table = options.source.table;
      readSummary = options.source.summary;
    }
    if (table.length === 0 && requested.length === 0) {
      throw new UsageError('no attempts left to fit after the filters', 'Check `conceptIds`, `fromDate`/`toDate` and `minAttemptsPerUser`');
    }
    const fromDatabase = options.source.kind === 'store';
    const { toUuid } = await import('../store/ids.js');
    const present = new Set(table.conceptIds);
    const trainerFor = (base: ParamBounds | undefined) => {
      const trainer = typeof options.trainer === 'function' ? options.trainer(fromDatabase ? base : undefined) : options.trainer;
      if (!fromDatabase || !trainer.fixedByConcept) return trainer;
      // The store keys concepts by UUID; a --fix-from file may name them as the attempts file did.
      const fixedByConcept = Object.fromEntries(Object.entries(trainer.fixedByConcept).map(([id, fixed]) => [present.has(id) ? id : toUuid(id), fixed]));
      return { ...trainer, fixedByConcept };
    };
    // The app's tables name their columns as schema.md does (variants record the item column's name).
    const columns =
      (readSummary as Partial<ReadSummary>).columns ??
      (options.source.kind === 'store' ? { user: 'user_id', concept: 'concept_id', correct: 'is_correct', time: 'answered_at', question: 'question_id' } : undefined);
    const { warmStartsFromFile } = await import('../jobs/warm-start.js');
    const fileWarmStarts = options.warmStart && options.warmStart !== 'active' ? await warmStartsFromFile(options.warmStart) : undefined;

    let crossValidation: Record<string, unknown> | null = null;
    let cvByConcept: ((conceptId: string) => Record<string, unknown>) | null = null;
    if (options.crossValidationFolds) {
      const { crossValidate, crossValidationMetricsForParams } = await import('../quality/evaluate.js');
      const trainer = trainerFor(undefined);
      const cv = await crossValidate(table, { folds: options.crossValidationFolds, seed: trainer.seed ?? 42, trainer, columns });
      cvByConcept = (conceptId) => crossValidationMetricsForParams(cv, conceptId);
      const { per_concept, ...overall } = cv;
      crossValidation = overall;
    }

    let report: FitReport;
    let persisted: FitAttemptsResult['persisted'] = null;
    let outcome: RunOutcome = { status: 'SUCCESS', exit_code: 0, message: null };
    let qualityGate: string | null = null;
    let persistedRefusals: Record<string, string> = {};
    if (store && (options.persist || fromDatabase)) {
      const { fitAndPersist } = await import('../jobs/fit-and-persist.js');
      const persist = options.persist ?? { activate: false, force: false };
      const result = await fitAndPersist(
        store,
        async () => ({ table, dataSummary: readSummary as Record<string, unknown>, missing: requested, requestedAs, conceptIndices }),
        (base) => trainerFor(base),
        {
          activate: persist.activate,
          force: persist.force,
          dataFrom: persist.fromDate ?? null,
          dataTo: persist.toDate ?? null,
          holdoutFrom: persist.holdoutFrom ?? null,
          ...(persist.activationMargin !== undefined ? { activationMargin: persist.activationMargin } : {}),
          warmStartActive: options.warmStart === 'active',
          algoParamsBounds: fromDatabase,
          // One batch: `fit` has no interruption point between batches, and the whole table gives
          // the worker pool enough work to use every core (a recompute fits 8 concepts at a time).
          batchSize: Math.max(1, table.conceptIds.length),
          inputSummary: { source: (readSummary as Record<string, unknown>).source ?? null },
        },
        {
          warmStarts: fileWarmStarts,
          columns,
          extraMetrics: cvByConcept ? (concept) => cvByConcept!(concept.concept_id) : undefined,
          onProgress: (done, total) => options.onProgress?.({ restartsDone: done, restartsTotal: total }),
        },
      );
      report = result.report;
      outcome = result.outcome;
      const s = result.summary;
      persistedRefusals = s.refused;
      persisted = {
        db: store.display,
        run_id: result.run_id,
        params_ids: s.params_ids,
        persisted: result.persisted,
        errors: { ...s.skipped_concepts, ...s.errors, ...s.refused },
        refused: Object.keys(s.refused),
        skipped: s.skipped_concepts,
        kept_active: s.kept_active,
        comparisons: s.comparisons,
        constraints_applied: result.constraints,
        status: outcome.status,
      };
      if (outcome.exit_code === 6) {
        const first = Object.keys(s.refused)[0];
        qualityGate = `concept ${first}: ${s.refused[first]}${persisted.refused.length > 1 ? ` (and ${persisted.refused.length - 1} more concept(s))` : ''}; nothing was written for it, use \`persist.force\` to activate anyway (see docs/validation.md)`;
      }
    } else {
      const trainer = { ...trainerFor(undefined), ...(fileWarmStarts ? { warmStarts: fileWarmStarts } : {}) };
      report = await fitConcepts(table, trainer, { onProgress: options.onProgress, conceptIndices, columns });
      if (requested.length) outcome = { status: 'FAILED', exit_code: 4, message: `no attempts for concept(s) ${requested.join(', ')}` };
    }
    for (const missing of requested) {
      report.concepts.push({
        ...emptyConceptResult(missing, 0, 0),
        status: 'not_found',
        reason: `no attempts in ${String((readSummary as Record<string, unknown>).source ?? 'the input')}`,
      });
      report.summary.concepts_total++;
      report.summary.not_found = (report.summary.not_found ?? 0) + 1;
    }
    if (cvByConcept) {
      for (const concept of report.concepts) if (concept.status === 'fitted') concept.cv = cvByConcept(concept.concept_id);
    }
    // The app's tables key concepts by UUID: name them as the imported file did, here and in the params file.
    const { withLabels } = await import('../store/label-rows.js');
    const concepts = fromDatabase ? await withLabels(store!, report.concepts) : report.concepts;
    if (options.out) await writeParamsFile(options.out, { ...report, concepts });
    return {
      concepts,
      summary: { ...report.summary, read: readSummary, ...(crossValidation ? { cross_validation: crossValidation } : {}) },
      settings: report.settings,
      out: options.out ?? null,
      persisted,
      qualityGate,
      outcome,
      failure: failureOfOutcome(outcome, persisted?.run_id ?? null, persistedRefusals) ?? (options.strict ? strictFailure(report.concepts) : null),
    };
  } finally {
    await store?.close();
  }
}

/** `strict`: a QualityGateError naming the first invalid or degenerate fits, or null when there are none. */
function strictFailure(concepts: ConceptFitResult[]): QualityGateError | null {
  const failing = conceptsFailingQuality(concepts);
  if (failing.length === 0) return null;
  const names = failing.slice(0, 5).map((c) => `${c.concept_id} (${c.violations.map((v) => v.message).join('; ')})`);
  return new QualityGateError(
    `\`strict\`: ${failing.length} fitted concept(s) invalid or degenerate: ${names.join(', ')}${failing.length > 5 ? ', ...' : ''}`,
    'See docs/validation.md',
  );
}

/** The fitted concepts that fail the quality gate (invalid or degenerate), for `--strict`. */
export function conceptsFailingQuality(concepts: ConceptFitResult[]): ConceptFitResult[] {
  return concepts.filter((c) => c.status === 'fitted' && (c.valid === false || c.degenerate === true));
}
