import type { AttemptsTable } from '../data/attempts-table.js';
import { type ReadAttemptsInput, type ReadSummary, readAttempts } from '../data/read-attempts.js';
import { NotFoundError, QualityGateError, UsageError, type GatedResult } from '../errors.js';
import type { PersistFitResult } from '../jobs/persist-fit.js';
import { type FitProgress, fitConcepts } from '../model/fit-concepts.js';
import type { ConceptFitResult, FitReport, TrainerOptions } from '../model/fit-types.js';
import { writeParamsFile } from '../params-file.js';

/** What `bkt fit` on a file does, as one options object (flags map onto it one to one). */
export interface FitAttemptsOptions {
  /** Where the attempts come from: a file (readAttempts options), or an already-read table. */
  source:
    | { kind: 'file'; read: ReadAttemptsInput }
    | { kind: 'table'; table: AttemptsTable; summary: Record<string, unknown> }
    /** The app's tables (schema.md "Attempts from the app's tables") of the `persist.db` store. */
    | { kind: 'store'; conceptIds?: string[]; conceptPattern?: string; fromDate?: string; toDate?: string; questionsFallback?: boolean };
  /** Write the fits to a store (bkt_skill_params rows and an algo_runs row). */
  persist?: { db?: string; activate: boolean; force: boolean; fromDate?: string; toDate?: string };
  trainer: Partial<TrainerOptions>;
  /** `--cv K`: K-fold cross-validation by learner after the fit; its figures go into each concept's metrics. */
  crossValidationFolds?: number;
  /** Write the fitted parameters here (.csv or JSON). */
  out?: string;
  /** `--strict`: any fitted concept that is invalid or degenerate fails the quality gate. Default false. */
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
  persisted: (PersistFitResult & { db: string }) | null;
  // `failure` (GatedResult): a QualityGateError (exit 6) when the gate refused to activate some
  // fits (their rows were not written), or, with `strict`, when a fitted concept is invalid or
  // degenerate; null otherwise.
}

/**
 * Read attempts, fit every concept (fitConcepts), and write the params file when asked.
 * Requested concepts that are not in the data are reported as skipped, never silently dropped.
 * @throws InputError for unreadable input; UsageError for bad options or no attempts at all.
 */
export async function fitAttempts(options: FitAttemptsOptions): Promise<FitAttemptsResult> {
  const needsStore = options.source.kind === 'store' || options.persist !== undefined;
  const { openStore } = needsStore ? await import('../store/open-store.js') : { openStore: null };
  const store = openStore ? await openStore(options.persist?.db ?? null) : null;
  try {
    let table: AttemptsTable;
    let readSummary: ReadSummary | Record<string, unknown>;
    let requested: string[] = [];
    let conceptIndices: number[] | undefined;
    if (options.source.kind === 'file') {
      const read = await readAttempts(options.source.read);
      table = read.table;
      readSummary = read.summary;
      requested = read.summary.concepts_not_found;
    } else if (options.source.kind === 'store') {
      const { toUuid } = await import('../store/ids.js');
      const wanted = (options.source.conceptIds ?? []).map(toUuid);
      const read = await store!.readAttempts({
        conceptIds: wanted.length ? wanted : undefined,
        fromDate: options.source.fromDate ?? null,
        toDate: options.source.toDate ?? null,
        questionsFallback: options.source.questionsFallback,
        // Model variants class rows by question (the app's tables have no other item column).
        includeQuestions: options.trainer.variants !== undefined,
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
          throw new NotFoundError(`--concept-pattern ${JSON.stringify(options.source.conceptPattern)}: no concept in ${store!.display} matches`, 'The pattern must match a whole concept id');
        }
      }
    } else {
      table = options.source.table;
      readSummary = options.source.summary;
    }
    if (table.length === 0 && requested.length === 0) {
      throw new UsageError('no attempts left to fit after the filters', 'Check `conceptIds`, `fromDate`/`toDate` and `minAttemptsPerUser`');
    }
    let trainer = options.trainer;
    if (options.source.kind === 'store' && trainer.fixedByConcept) {
      // The store keys concepts by UUID; a --fix-from file may name them as the attempts file did.
      const { toUuid } = await import('../store/ids.js');
      const present = new Set(table.conceptIds);
      const fixedByConcept = Object.fromEntries(Object.entries(trainer.fixedByConcept).map(([id, fixed]) => [present.has(id) ? id : toUuid(id), fixed]));
      trainer = { ...trainer, fixedByConcept };
    }
    // The app's tables name their columns as schema.md does (variants record the item column's name).
    const columns =
      (readSummary as Partial<ReadSummary>).columns ??
      (options.source.kind === 'store' ? { user: 'user_id', concept: 'concept_id', correct: 'is_correct', time: 'answered_at', question: 'question_id' } : undefined);
    const report = await fitConcepts(table, trainer, { onProgress: options.onProgress, conceptIndices, columns });
    for (const missing of requested) {
      report.concepts.push({
        concept_id: missing,
        status: 'skipped',
        reason: 'no attempts in the input',
        params: null,
        log_likelihood: null,
        iterations: null,
        converged: null,
        n_attempts: 0,
        n_users: 0,
        metrics: null,
        valid: null,
        degenerate: null,
        violations: [],
        restarts: [],
      });
      report.summary.concepts_total++;
      report.summary.skipped++;
    }
    let crossValidation: Record<string, unknown> | null = null;
    if (options.crossValidationFolds) {
      const { crossValidate, crossValidationMetricsForParams } = await import('../quality/evaluate.js');
      const cv = await crossValidate(table, { folds: options.crossValidationFolds, seed: report.settings.seed, trainer: options.trainer, columns });
      for (const concept of report.concepts) {
        if (concept.status === 'fitted') concept.cv = crossValidationMetricsForParams(cv, concept.concept_id);
      }
      const { per_concept, ...overall } = cv;
      crossValidation = overall;
    }
    if (options.out) await writeParamsFile(options.out, report);

    let persisted: FitAttemptsResult['persisted'] = null;
    let failure: QualityGateError | null = null;
    if (store && options.persist) {
      const { persistFitReport } = await import('../jobs/persist-fit.js');
      const persistOptions = {
        activate: options.persist.activate,
        force: options.persist.force,
        dataFrom: options.persist.fromDate ?? null,
        dataTo: options.persist.toDate ?? null,
        dataSummary: readSummary as Record<string, unknown>,
      };
      try {
        persisted = { db: store.display, ...(await persistFitReport(store, report, persistOptions)) };
      } catch (error) {
        const partial = (error as { result?: PersistFitResult }).result;
        if (!(error instanceof QualityGateError) || !partial) throw error;
        persisted = { db: store.display, ...partial };
        failure = error;
      }
    }
    return {
      concepts: report.concepts,
      summary: { ...report.summary, read: readSummary, ...(crossValidation ? { cross_validation: crossValidation } : {}) },
      settings: report.settings,
      out: options.out ?? null,
      persisted,
      failure: failure ?? (options.strict ? strictFailure(report.concepts) : null),
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
