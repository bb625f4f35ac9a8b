import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ReadAttemptsInput, ReadSummary } from '../data/read-attempts.js';
import { InputError, UsageError } from '../errors.js';
import type { TrainerOptions } from '../model/fit-types.js';
import type { CrossValidationResult } from './evaluate.js';
import type { ConceptParams } from './params-set.js';
import type { ValidateOptionsInput } from './validate.js';

/** Options of `bkt report`. */
export const ReportCommandOptionsSchema = z
  .object({
    read: z.custom<ReadAttemptsInput>((v) => typeof v === 'object' && v !== null && 'input' in v),
    params: z.string().min(1).optional(),
    db: z.string().min(1).optional(),
    /** `--out FILE`: the HTML file to write. */
    out: z.string().min(1),
    /** Trainer flags, used only when neither --params nor --db is given (fit first). */
    trainer: z.custom<Partial<TrainerOptions>>().default({}),
    /** Validation thresholds shown in the verdicts. */
    thresholds: z.custom<ValidateOptionsInput>().default({}),
    /** Curves stop before the first opportunity with fewer learners. Default 10. */
    minLearners: z.number().int().min(1).default(10),
    /** Calibration groups hold at least this many rows. Default 30. */
    minCalibrationRows: z.number().int().min(1).default(30),
    /** `--cv K`: also cross-validate the attempts with K folds split by learner. */
    crossValidationFolds: z.number().int().min(2).max(100).optional(),
    title: z.string().optional(),
  })
  .superRefine((o, ctx) => {
    if (o.params !== undefined && o.db !== undefined) ctx.addIssue({ code: 'custom', path: ['params'], message: 'give at most one of `params` FILE or `db` URL' });
  });

export type ReportCommandOptions = z.input<typeof ReportCommandOptionsSchema>;

export interface ReportCommandResult {
  out: string;
  bytes: number;
  input: ReadSummary;
  /** Where the parameters came from; `fitted on --input` when the report fitted them first. */
  params_source: string;
  /** True when the parameters were fitted on the reported data (so its metrics are in-sample). */
  in_sample: boolean;
  concepts: number;
  passed: number;
  warned: number;
  failed: number;
  no_params: number;
  overall: { auc: number | null; rmse: number | null; log_loss: number | null; accuracy: number | null; n: number };
  /** Mean held-out figures over the folds, with `--cv K`. */
  cross_validation: { folds: number; auc_mean: number | null; rmse_mean: number; log_loss_mean: number; accuracy_mean: number } | null;
}

/**
 * `bkt report`: read the attempts, take parameters from `--params`/`--db` or fit them first
 * with the trainer flags, evaluate and validate them on the attempts, and write one
 * self-contained HTML file. Throws UsageError, InputError (unreadable input, unwritable --out)
 * or StorageError.
 */
export async function runReport(raw: ReportCommandOptions): Promise<ReportCommandResult> {
  const parsed = ReportCommandOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  const options = parsed.data;
  const { readAttempts } = await import('../data/read-attempts.js');
  const inSample = options.params === undefined && options.db === undefined;
  // Parameters first: variant models name the class columns the reader must carry.
  const { alignParamsToTable, loadParams } = await import('./load-params.js');
  const loaded = inSample ? null : await loadParams({ params: options.params, db: options.db, input: options.read.input });
  const { classColumnsOfModels } = await import('../model/variants/variant-model.js');
  const { table, summary } = await readAttempts({ ...options.read, classColumns: classColumnsOfModels((loaded?.entries ?? []).map((e) => e.model)) });

  let entries: ConceptParams[];
  let source: string;
  if (inSample || !loaded) {
    const { fitConcepts } = await import('../model/fit-concepts.js');
    const fit = await fitConcepts(table, options.trainer);
    entries = fit.concepts
      .filter((c) => c.status === 'fitted' && c.params)
      .map((c) => ({ concept_id: c.concept_id, params: c.params!, restarts: c.restarts, bounds: fit.settings.bounds, plausibilityMargin: fit.settings.plausibilityMargin }));
    source = `fitted on ${summary.source}`;
  } else {
    entries = loaded.fromStore ? await alignParamsToTable(table, loaded.entries) : loaded.entries;
    source = loaded.source;
  }
  // Only the concepts present in the data are reported.
  const present = new Set(table.conceptIds);
  entries = entries.filter((e) => present.has(e.concept_id));

  const { evaluateParams } = await import('./evaluate.js');
  const { validateParams } = await import('./validate.js');
  const { buildReportData, renderReportHtml } = await import('./report-html.js');
  const { report, predictions } = evaluateParams(table, entries, { columns: summary.columns });
  let crossValidation: CrossValidationResult | undefined;
  if (options.crossValidationFolds !== undefined) {
    const { crossValidate } = await import('./evaluate.js');
    crossValidation = await crossValidate(table, { folds: options.crossValidationFolds, seed: options.trainer.seed, trainer: options.trainer, columns: summary.columns });
  }
  // Held-out thresholds only make sense on data the parameters were not fitted on.
  const validation = validateParams(entries, options.thresholds, inSample ? undefined : report);
  const data = buildReportData(table, predictions, report, validation, {
    title: options.title ?? `BKT report: ${summary.source}`,
    subtitle: [
      `Attempts: ${summary.source} (${summary.rows_kept.toLocaleString('en-US')} rows, ${summary.n_concepts} concepts, ${summary.n_learners} learners)`,
      `Parameters: ${source}${inSample ? ' (metrics are in-sample: the parameters were fitted on these attempts)' : ''}`,
      `Generated ${new Date().toISOString()}`,
    ],
    minLearners: options.minLearners,
    minCalibrationRows: options.minCalibrationRows,
    crossValidation,
    conceptLabels: loaded?.labels ?? undefined,
  });
  const html = renderReportHtml(data);
  try {
    await writeFile(options.out, html);
  } catch (error) {
    throw new InputError(`\`out\` ${options.out}: cannot write (${(error as Error).message})`, 'Check that the folder exists and is writable', error);
  }
  const count = (s: string | null) => data.concepts.filter((c) => c.status === s).length;
  const m = report.overall.model;
  return {
    out: options.out,
    bytes: Buffer.byteLength(html),
    input: summary,
    params_source: source,
    in_sample: inSample,
    concepts: data.concepts.length,
    passed: count('pass'),
    warned: count('warn'),
    failed: count('fail'),
    no_params: count(null),
    overall: { auc: m?.auc ?? null, rmse: m?.rmse ?? null, log_loss: m?.log_loss ?? null, accuracy: m?.accuracy ?? null, n: m?.n ?? 0 },
    cross_validation: crossValidation
      ? {
          folds: crossValidation.cv_folds,
          auc_mean: crossValidation.cv_auc_mean,
          rmse_mean: crossValidation.cv_rmse_mean,
          log_loss_mean: crossValidation.cv_log_loss_mean,
          accuracy_mean: crossValidation.cv_accuracy_mean,
        }
      : null,
  };
}
