import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import type { ReadAttemptsInput, ReadSummary } from '../data/read-attempts.js';
import { UsageError } from '../errors.js';
import { EXPORT_FORMATS, type ColumnSpec, type ExportFormat } from '../export/columns.js';
import type { ColumnChunk } from '../export/column-writers.js';
import type { BktParams } from '../model/params.js';

/** Output formats of `bkt predict` (the export writers'). */
export const PREDICT_FORMATS = EXPORT_FORMATS;
export type PredictFormat = ExportFormat;

/** The three columns `predict` appends after the input's own. */
export const PREDICTION_COLUMNS: readonly ColumnSpec[] = [
  { name: 'correct_predictions', type: 'float', nullable: true },
  { name: 'state_predictions', type: 'float', nullable: true },
  { name: 'state_posterior', type: 'float', nullable: true },
];

/** Options of `bkt predict` (one object, validated here; commands/predict.ts only maps flags). */
export const PredictOptionsSchema = z
  .object({
    /** Reader options of `--input` and the reader flags (no row filters: every row is written). */
    read: z.custom<ReadAttemptsInput>((v) => typeof v === 'object' && v !== null && 'input' in v),
    /** `--params FILE`. */
    params: z.string().min(1).optional(),
    /** `--db URL`: the store's active params. */
    db: z.string().min(1).optional(),
    /** `--out`: output file, `-` for stdout. Default `-`. */
    out: z.string().min(1).default('-'),
    /** `--format`: output format. Default from the --out extension, else csv. */
    format: z.enum(PREDICT_FORMATS).optional(),
    /** `--concept-id` (repeatable): predict only these concepts; other rows are written without predictions. */
    conceptIds: z.array(z.string().min(1)).optional(),
    /** `--concept-pattern`: predict only concepts whose whole id matches; other rows are written without predictions. */
    conceptPattern: z.string().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    if ((o.params === undefined) === (o.db === undefined)) ctx.addIssue({ code: 'custom', path: ['params'], message: 'give exactly one of `params` FILE or `db` URL' });
  });

/** Options of `runPredict` as callers write them (`out` defaults to stdout). */
export type PredictOptions = z.input<typeof PredictOptionsSchema>;

/** What `bkt predict` did (its --json output). */
export interface PredictResult {
  input: ReadSummary;
  params_source: string;
  out: string;
  format: PredictFormat;
  /** Rows written (every input row). */
  rows: number;
  /** Rows with predictions (the rest belong to concepts without parameters or not selected). */
  rows_predicted: number;
  concepts_predicted: number;
  /** Concepts of the input left without predictions because they have no parameters (first 20). */
  concepts_without_params: string[];
  n_concepts_without_params: number;
}

const OUT_EXTENSIONS: [RegExp, PredictFormat][] = [
  [/\.csv(\.gz)?$/i, 'csv'],
  [/\.(ndjson|jsonl)$/i, 'ndjson'],
  [/\.json$/i, 'json'],
  [/\.(arrow|feather|ipc)$/i, 'arrow'],
  [/\.(parquet|pq)$/i, 'parquet'],
];

/** The output format: `--format`, else the --out extension, else csv. */
export function predictFormat(out: string, format?: PredictFormat): PredictFormat {
  if (format) return format;
  for (const [pattern, f] of OUT_EXTENSIONS) if (pattern.test(out)) return f;
  return 'csv';
}

/** Copy stdin to a temporary file: predict reads its input twice (attempts, then every column). */
async function spoolStdin(stdin: NodeJS.ReadableStream): Promise<{ path: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-predict-'));
  const path = join(dir, 'stdin');
  await pipeline(stdin, createWriteStream(path));
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `bkt predict`: every input row in input order with its input columns, then
 * `correct_predictions` (P(correct) before the answer), `state_predictions` (P(known) before
 * the answer), both as pyBKT's `predict` gives them, and `state_posterior` (P(known) after the
 * answer, before the learning transition). Each (learner, concept) sequence starts from its
 * prior and runs in the order `fit` uses (time, else order, else file order). Rows of concepts
 * without parameters, or not selected by `conceptIds`/`conceptPattern`, are written with empty
 * predictions (pyBKT writes 0.5 there). The input is read twice (attempts into an AttemptsTable,
 * then every column, streamed to the output), so memory is the table plus 24 bytes per row.
 * @throws UsageError for bad options; InputError for unreadable input or parameters; NotFoundError
 *   for a concept pattern or id that matches nothing; StorageError for an unreachable --db.
 */
export async function runPredict(raw: PredictOptions, io: { stdin?: NodeJS.ReadableStream } = {}): Promise<PredictResult> {
  const parsed = PredictOptionsSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(parsed.error.issues[0].message);
  const options = parsed.data;
  const format = predictFormat(options.out, options.format);
  const spooled = options.read.input === '-' ? await spoolStdin(io.stdin ?? process.stdin) : null;
  try {
    const input = spooled ? spooled.path : options.read.input;
    const { readAttempts, formatFromPath, compileConceptPattern } = await import('../data/read-attempts.js');
    const readFormat = options.read.format ?? (spooled ? 'csv' : formatFromPath(input));
    // No row filters on this read: every input row is written, so table rows and input rows pair up.
    const unfiltered = { ...options.read, conceptIds: undefined, conceptPattern: undefined, fromDate: undefined, toDate: undefined, minAttemptsPerUser: 1 };
    // Parameters first: a model-variant fit names the class columns (items, learner groups) the reader must carry.
    const { alignParamsToTable, loadParams } = await import('../quality/load-params.js');
    const loaded = await loadParams({ params: options.params, db: options.db, input: options.read.input });
    const { classColumnsOfModels } = await import('../model/variants/variant-model.js');
    const classColumns = classColumnsOfModels(loaded.entries.map((e) => e.model));
    const { table, summary } = await readAttempts({ ...unfiltered, input, format: readFormat, keepInputRow: true, classColumns });
    if (spooled) summary.source = 'stdin';

    const entries = loaded.fromStore ? await alignParamsToTable(table, loaded.entries) : loaded.entries;
    const byId = new Map(entries.map((e) => [e.concept_id, e.params]));
    const modelById = new Map(entries.filter((e) => e.model).map((e) => [e.concept_id, e.model!]));
    const pattern = options.conceptPattern === undefined ? null : compileConceptPattern(options.conceptPattern);
    const wanted = options.conceptIds ? new Set(options.conceptIds) : null;
    const selected = (id: string) => (pattern === null || pattern.test(id)) && (wanted === null || wanted.has(id));
    if (!table.conceptIds.some(selected)) {
      const { NotFoundError } = await import('../errors.js');
      const what = pattern !== null ? `\`conceptPattern\` ${JSON.stringify(options.conceptPattern)}` : `\`conceptIds\` ${[...wanted!].join(', ')}`;
      throw new NotFoundError(`${what}: no concept in ${summary.source} matches`, 'The pattern or id must match a whole concept id of the input');
    }
    const paramsByConcept: (BktParams | undefined)[] = table.conceptIds.map((id) => (selected(id) ? byId.get(id) : undefined));
    const missing = table.conceptIds.filter((id, c) => selected(id) && paramsByConcept[c] === undefined);

    const { predictRows } = await import('./predict-rows.js');
    const { conceptRowParameters, variantRowParameters } = await import('./row-parameters.js');
    let parameters = conceptRowParameters(paramsByConcept);
    if (modelById.size > 0) {
      // Unseen classes fall back to the concept-level values; raw item ids also match a database fit's UUIDs.
      const { tableColumnSource } = await import('../model/variants/variant-model.js');
      const { toUuid } = await import('../store/ids.js');
      const byConcept = table.conceptIds.map((id, c) => (paramsByConcept[c] ? { params: paramsByConcept[c]!, model: modelById.get(id) } : undefined));
      parameters = variantRowParameters(table, byConcept, tableColumnSource(table, summary.columns), toUuid);
    }
    const predictions = predictRows(table, parameters, table.length);
    let rowsPredicted = 0;
    for (let c = 0; c < table.conceptIds.length; c++) {
      if (paramsByConcept[c] !== undefined) {
        rowsPredicted += table.sequenceStart[table.conceptSequenceStart[c + 1]] - table.sequenceStart[table.conceptSequenceStart[c]];
      }
    }

    const { openInputRows } = await import('./input-rows.js');
    // CSV to CSV copies each record's bytes as written and appends the predictions: no field is split.
    const passthrough = readFormat === 'csv' && format === 'csv';
    const rows = passthrough ? null : await openInputRows({ input, format: readFormat, table: options.read.table, query: options.read.query }, summary.source);
    const checkNames = (names: string[]) => {
      const taken = new Set<string>();
      for (const name of names) {
        if (taken.has(name)) throw new UsageError(`${summary.source}: column "${name}" appears twice`, 'Rename one of them; predict writes every column by name');
        taken.add(name);
      }
      for (const column of PREDICTION_COLUMNS) {
        if (taken.has(column.name)) {
          throw new UsageError(`${summary.source} already has a column "${column.name}"`, 'Drop or rename it; predict appends correct_predictions, state_predictions and state_posterior');
        }
      }
    };
    if (rows) checkNames(rows.columns.map((c) => c.name));
    const columns = [...(rows?.columns ?? []), ...PREDICTION_COLUMNS];
    const expected = table.length;
    const checkCount = (at: number) => {
      // Both passes count the same rows; a difference is a bug, never silently shifted output.
      if (at !== expected) throw new Error(`predict: the second read of ${summary.source} gave a different row count than the first (${expected})`);
    };
    const csvText = async () => {
      const { appendToCsvRecords } = await import('./csv-passthrough.js');
      const { splitCsvRecord } = await import('./input-rows.js');
      const number = (v: number) => (Number.isNaN(v) ? '' : String(v));
      return appendToCsvRecords(
        input,
        summary.source,
        {
          header: `,${PREDICTION_COLUMNS.map((c) => c.name).join(',')}`,
          suffix: (k) => {
            if (k >= expected) checkCount(k + 1);
            return `,${number(predictions.correct[k])},${number(predictions.stateBefore[k])},${number(predictions.stateAfter[k])}`;
          },
        },
        (header) => checkNames(splitCsvRecord(header.toString('utf8'))),
        checkCount,
      );
    };
    async function* outputChunks(): AsyncGenerator<ColumnChunk> {
      let at = 0;
      for await (const chunk of rows!.chunks) {
        const end = at + chunk.length;
        if (end > expected) checkCount(end);
        // The prediction columns are views of the input-order arrays: no copy, no object per row.
        yield {
          length: chunk.length,
          columns: [...chunk.columns, predictions.correct.subarray(at, end), predictions.stateBefore.subarray(at, end), predictions.stateAfter.subarray(at, end)],
        };
        at = end;
      }
      checkCount(at);
    }

    const { openOutput } = await import('../export/output.js');
    const { writeColumnChunks } = await import('../export/column-writers.js');
    const target = openOutput(options.out);
    let written: number;
    try {
      if (passthrough) {
        const { writeChunk } = await import('../export/writers.js');
        for await (const bytes of await csvText()) await writeChunk(target.stream, bytes);
        written = expected;
      } else {
        written = await writeColumnChunks(outputChunks(), columns, format, target.stream);
      }
      await target.commit();
    } catch (error) {
      target.abort();
      throw error;
    }
    return {
      input: summary,
      params_source: loaded.source,
      out: options.out === '-' ? 'stdout' : options.out,
      format,
      rows: written,
      rows_predicted: rowsPredicted,
      concepts_predicted: paramsByConcept.filter((p) => p !== undefined).length,
      concepts_without_params: missing.slice(0, 20),
      n_concepts_without_params: missing.length,
    };
  } finally {
    spooled?.cleanup();
  }
}
