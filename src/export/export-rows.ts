/**
 * `bkt export`: stream one table's rows from the store to a file or stdout in constant memory.
 */
import { z } from 'zod';
import { parseOptions } from '../mastery/run-update.js';
import { toUuid } from '../store/ids.js';
import { openStore } from '../store/open-store.js';
import { DEFAULT_MASTERY_THRESHOLD } from '../model/params.js';
import type { RunRow, RunStatus, Store } from '../store/store.js';
import { EXPORT_COLUMNS, EXPORT_FORMATS, EXPORT_KINDS, type ExportFormat, type ExportKind } from './columns.js';
import { openOutput } from './output.js';
import { writeRows, type Row } from './writers.js';

/** A user or concept id: a UUID is kept, any other id maps to the UUID `bkt import` stored for it. */
const id = z.string().trim().min(1, 'is empty').transform(toUuid);

export const exportOptionsSchema = z.object({
  kind: z.enum(EXPORT_KINDS),
  format: z.enum(EXPORT_FORMATS),
  /** File path or `-` for stdout. */
  out: z.string().min(1),
  userId: id.optional(),
  conceptIds: z.array(id).optional(),
  /** params: include inactive (past) rows too (default: active only). */
  all: z.boolean().default(false),
  /** runs: only runs with this status. */
  status: z.enum(['RUNNING', 'SUCCESS', 'FAILED']).optional(),
  /** mastery: is_mastered threshold (default 0.95). */
  threshold: z.number().min(0).max(1).default(DEFAULT_MASTERY_THRESHOLD),
});
/** Options of `exportRows` (kind, format, out path or `-`, filters); validated by exportOptionsSchema. */
export type ExportOptions = z.input<typeof exportOptionsSchema>;

/** The rows of one export kind, as plain objects keyed by the export's column names (labels joined by the store). */
export function exportSource(store: Store, o: z.output<typeof exportOptionsSchema>): AsyncIterable<Row> {
  switch (o.kind) {
    case 'params':
      return mapRows(store.streamParams({ conceptIds: o.conceptIds, all: o.all, labels: true }), (r) => Object.assign(r, { params_id: r.id, p_F: pForget(r.metrics) }));
    case 'mastery':
      return mapRows(store.streamStates({ userId: o.userId, conceptIds: o.conceptIds, labels: true }), (r) => Object.assign(r, { is_mastered: r.p_mastery >= o.threshold }));
    case 'snapshots':
      return store.streamSnapshots({ userId: o.userId, conceptIds: o.conceptIds, labels: true }) as AsyncIterable<Row>;
    case 'runs':
      return runsWithLabels(store, store.streamRuns({ status: o.status as RunStatus | undefined }));
  }
}

/** Runs whose learners' labels are read per this many rows: a few statements, bounded memory. */
const RUN_LABEL_BATCH = 500;

/**
 * Each run with `user_label` and `concept_labels` (RUN_COLUMNS). Concepts are few beside runs
 * and learners: their labels are read once; learners' per batch of runs.
 */
async function* runsWithLabels(store: Store, runs: AsyncIterable<RunRow>): AsyncIterable<Row> {
  const concepts = await store.labels('concept');
  let batch: RunRow[] = [];
  const flush = async function* (): AsyncIterable<Row> {
    const userIds = [...new Set(batch.map((r) => r.user_id).filter((id): id is string => id !== null))];
    const users = userIds.length ? await store.labels('user', userIds) : new Map<string, string>();
    for (const run of batch) {
      const named: Record<string, string> = {};
      if (concepts.size) for (const summary of [run.input_summary_json, run.output_summary_json]) conceptsNamed(summary, concepts, named);
      yield { ...run, user_label: run.user_id === null ? null : users.get(run.user_id.toLowerCase()) ?? null, concept_labels: named };
    }
    batch = [];
  };
  for await (const run of runs) {
    batch.push(run);
    if (batch.length >= RUN_LABEL_BATCH) yield* flush();
  }
  yield* flush();
}

/** Add to `named` every labelled concept `value` names, as an object key or a string, at any depth. */
function conceptsNamed(value: unknown, labels: ReadonlyMap<string, string>, named: Record<string, string>): void {
  if (typeof value === 'string') {
    const label = labels.get(value.toLowerCase());
    if (label !== undefined) named[value] = label;
  } else if (Array.isArray(value)) {
    for (const item of value) conceptsNamed(item, labels, named);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      conceptsNamed(key, labels, named);
      conceptsNamed(item, labels, named);
    }
  }
}

function pForget(metrics: Record<string, unknown>): number {
  const model = metrics?.model as Record<string, unknown> | undefined;
  const f = model?.p_F;
  return typeof f === 'number' ? f : 0;
}

/** Each streamed row extended by `fn`, which may change the row in place: the stream made it for this reader alone, and a copy per row of a million-row export costs more than its labels. */
async function* mapRows<T extends object>(rows: AsyncIterable<T>, fn: (row: T) => object): AsyncIterable<Row> {
  for await (const r of rows) yield fn(r) as Row;
}

/**
 * Export `kind` in `format` to `out`; returns the row count. A file is written beside the target
 * and renamed when complete, so a failed export leaves no partial file.
 */
export async function exportRows(store: Store, options: ExportOptions): Promise<{ kind: ExportKind; format: ExportFormat; rows: number; out: string }> {
  const o = exportOptionsSchema.parse(options);
  // Each row is read once: the store's caches sized for fitting would only hold memory.
  await store.preferSinglePassReads();
  const target = openOutput(o.out);
  try {
    const rows = await writeRows(exportSource(store, o), EXPORT_COLUMNS[o.kind], o.format, target.stream);
    await target.commit();
    return { kind: o.kind, format: o.format, rows, out: o.out };
  } catch (error) {
    target.abort();
    throw target.describe(error);
  }
}

/** `bkt export`: validate (a bad value is a UsageError naming its flag), open `--db`, export, close. */
export async function runExport(options: ExportOptions & { db?: string }): Promise<{ kind: ExportKind; format: ExportFormat; rows: number; out: string }> {
  const { db, ...rest } = options;
  const parsed = parseOptions(exportOptionsSchema, rest, 'export');
  const store = await openStore(db);
  try {
    return await exportRows(store, parsed);
  } finally {
    await store.close();
  }
}
