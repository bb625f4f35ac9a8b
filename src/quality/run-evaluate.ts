import { z } from 'zod';
import type { ReadAttemptsInput, ReadSummary } from '../data/read-attempts.js';
import { UsageError } from '../errors.js';
import { withConceptLabels } from '../store/label-rows.js';
import type { TrainerOptions } from '../model/fit-types.js';
import type { CrossValidationResult } from './evaluate.js';
import type { EvaluationReport } from './evaluation-types.js';

/** Options of `bkt evaluate` (one object, validated here; commands/evaluate.ts only maps flags). */
export const EvaluateCommandOptionsSchema = z
  .object({
    /** Reader options of `--input` and the reader flags. */
    read: z.custom<ReadAttemptsInput>((v) => typeof v === 'object' && v !== null && 'input' in v),
    /** `--params FILE`. */
    params: z.string().min(1).optional(),
    /** `--db URL`: the store's active params. */
    db: z.string().min(1).optional(),
    /** `--baseline-input FILE`: baseline means from these (training) attempts instead of the evaluated ones. */
    baselineRead: z.custom<ReadAttemptsInput>().optional(),
    /** `--folds K`: cross-validate instead of scoring given params. */
    folds: z.number().int().min(2).max(100).optional(),
    /** `--seed`: fold split (and trainer) seed. Default 42. */
    seed: z.number().int().min(0).default(42),
    /** Trainer flags (with --folds). */
    trainer: z.custom<Partial<TrainerOptions>>().default({}),
  })
  .superRefine((o, ctx) => {
    const given = [o.params, o.db, o.folds].filter((x) => x !== undefined).length;
    if (given !== 1) ctx.addIssue({ code: 'custom', path: ['params'], message: 'give exactly one of `params` FILE, `db` URL or `folds` K' });
  });

export type EvaluateCommandOptions = z.input<typeof EvaluateCommandOptionsSchema>;

/**
 * `bkt evaluate`'s result. Scoring the parameters of `db`, each concept also carries
 * `concept_label` (the name `bkt import` kept, null when none) right after `concept_id`, and
 * `concepts_no_params_labels` maps each id of `concepts_no_params` to its label.
 */
export type EvaluateCommandResult =
  | ({ mode: 'evaluate'; input: ReadSummary; params_source: string } & Omit<EvaluationReport, 'concepts'> & {
        concepts: Array<EvaluationReport['concepts'][number] & { concept_label?: string | null }>;
        concepts_no_params_labels?: Record<string, string | null>;
      })
  | ({ mode: 'cross_validation'; input: ReadSummary; trainer: Partial<TrainerOptions> } & CrossValidationResult);

/**
 * `bkt evaluate`: read the attempts, then either score given parameters (`--params`/`--db`)
 * with baselines and lift, or cross-validate by learner (`--folds K`) with the trainer flags.
 * Throws UsageError for a bad combination of options, InputError for unreadable input, and
 * StorageError for an unreachable `--db`.
 */
export async function runEvaluate(
  raw: EvaluateCommandOptions,
  hooks: { onFold?: (fold: number, folds: number) => void } = {},
): Promise<EvaluateCommandResult> {
  const parsed = EvaluateCommandOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  const options = parsed.data;
  const { readAttempts } = await import('../data/read-attempts.js');
  const { crossValidate, evaluateParams } = await import('./evaluate.js');

  if (options.folds !== undefined) {
    const { table, summary } = await readAttempts(options.read);
    const trainer = { seed: options.seed, ...options.trainer };
    const cv = await crossValidate(table, { folds: options.folds, seed: options.seed, trainer, onFold: hooks.onFold, columns: summary.columns });
    return { mode: 'cross_validation', input: summary, trainer, ...cv };
  }

  const { alignParamsToTable, loadParams } = await import('./load-params.js');
  const loaded = await loadParams({ params: options.params, db: options.db, input: options.read.input });
  // Variant models name the class columns (items, learner groups) the reader must carry.
  const { classColumnsOfModels } = await import('../model/variants/variant-model.js');
  const { table, summary } = await readAttempts({ ...options.read, classColumns: classColumnsOfModels(loaded.entries.map((e) => e.model)) });
  const entries = loaded.fromStore ? await alignParamsToTable(table, loaded.entries) : loaded.entries;
  const baselineTable = options.baselineRead ? (await readAttempts(options.baselineRead)).table : undefined;
  const { report } = evaluateParams(table, entries, { baselineTable, columns: summary.columns });
  if (!loaded.labels) return { mode: 'evaluate', input: summary, params_source: loaded.source, ...report };
  // A store's concepts without parameters were not among the rows whose labels loadParams read.
  const { readConceptLabels } = await import('./load-params.js');
  const { toUuid } = await import('../store/ids.js');
  const labels = loaded.fromStore ? new Map([...loaded.labels, ...(await readConceptLabels(options.db!, report.concepts_no_params))]) : loaded.labels;
  const { concepts_no_params, ...rest } = report;
  return {
    mode: 'evaluate',
    input: summary,
    params_source: loaded.source,
    ...rest,
    concepts: withConceptLabels(report.concepts, labels),
    concepts_no_params,
    concepts_no_params_labels: Object.fromEntries(concepts_no_params.map((id) => [id, labels.get(toUuid(id)) ?? null])),
  };
}
