import { writeFile } from 'node:fs/promises';
import { z } from 'zod';
import type { ReadAttemptsInput, ReadSummary } from '../data/read-attempts.js';
import { InputError, QualityGateError, UsageError, type GatedResult } from '../errors.js';
import { withConceptLabels } from '../store/label-rows.js';
import { validationToJUnit } from './junit.js';
import { ValidateOptionsSchema, type ValidateOptionsInput, type ValidationReport } from './validate.js';

/** Options of `bkt validate`. */
export const ValidateCommandOptionsSchema = z
  .object({
    params: z.string().min(1).optional(),
    db: z.string().min(1).optional(),
    /** `--concept-id` (repeatable): only these concepts; one without parameters is not found (exit 4). */
    conceptIds: z.array(z.string().min(1)).default([]),
    /** `--input` and reader flags: held-out data for the held-out thresholds. */
    read: z.custom<ReadAttemptsInput>().optional(),
    /** Every threshold (see ValidateOptionsSchema and docs/validation.md). */
    thresholds: z.custom<ValidateOptionsInput>().default({}),
    /** `--junit FILE`: also write a JUnit XML report there. */
    junit: z.string().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.params === undefined) === (o.db === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: 'give exactly one of `params` FILE or `db` URL' });
    }
  });

export type ValidateCommandOptions = z.input<typeof ValidateCommandOptionsSchema>;

/**
 * `bkt validate`'s result. With `db`, each concept also carries `concept_label` (the name `bkt
 * import` kept, null when none) right after `concept_id`.
 */
export interface ValidateCommandResult extends Omit<ValidationReport, 'concepts'>, GatedResult {
  concepts: Array<ValidationReport['concepts'][number] & { concept_label?: string | null }>;
  /** True when no check failed (exit 0); false means exit 6, and `failure` says so. */
  passed: boolean;
  params_source: string;
  input: ReadSummary | null;
  junit: string | null;
}

/**
 * `bkt validate`: load parameters (`--params` or `--db`), run every check (with `--input`, also
 * the held-out thresholds on that data), write the JUnit report when asked, and return the
 * result; `passed` false means the gate fails (the command exits 6). Throws UsageError for bad
 * options, NotFoundError for a `--concept-id` without parameters, InputError/StorageError for
 * unreadable sources.
 */
export async function runValidate(raw: ValidateCommandOptions): Promise<ValidateCommandResult> {
  const parsed = ValidateCommandOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  const options = parsed.data;
  const thresholds = ValidateOptionsSchema.safeParse(options.thresholds);
  if (!thresholds.success) {
    const issue = thresholds.error.issues[0];
    throw new UsageError(`\`${String(issue.path[0])}\`: ${issue.message}`);
  }

  const { alignParamsToTable, loadParams } = await import('./load-params.js');
  const loaded = await loadParams({ params: options.params, db: options.db, conceptIds: options.conceptIds, input: options.read?.input });
  let entries = loaded.entries;
  let heldOut;
  let input: ReadSummary | null = null;
  if (options.read) {
    const { readAttempts } = await import('../data/read-attempts.js');
    const { classColumnsOfModels } = await import('../model/variants/variant-model.js');
    const read = await readAttempts({
      ...options.read,
      conceptIds: options.conceptIds.length ? options.conceptIds : options.read.conceptIds,
      classColumns: classColumnsOfModels(entries.map((e) => e.model)),
    });
    input = read.summary;
    if (loaded.fromStore) entries = await alignParamsToTable(read.table, entries);
    const { evaluateParams } = await import('./evaluate.js');
    heldOut = evaluateParams(read.table, entries, { columns: read.summary.columns }).report;
  }
  const { validateParams, failureLines } = await import('./validate.js');
  const report = validateParams(entries, thresholds.data, heldOut);
  const concepts = loaded.labels ? withConceptLabels(report.concepts, loaded.labels) : report.concepts;
  if (options.junit) {
    try {
      await writeFile(options.junit, validationToJUnit({ ...report, concepts }));
    } catch (error) {
      throw new InputError(`\`junit\` ${options.junit}: cannot write (${(error as Error).message})`, 'Check that the folder exists and is writable', error);
    }
  }
  const passed = report.summary.failures.length === 0;
  return {
    passed,
    failure: passed
      ? null
      : new QualityGateError(`quality gate failed: ${report.summary.failures.length} failing check(s) in ${report.summary.failed} concept(s)`, undefined, failureLines(report, loaded.labels ?? undefined)),
    params_source: loaded.source,
    input,
    junit: options.junit ?? null,
    ...report,
    concepts,
  };
}
