import type { AttemptsTable } from '../data/attempts-table.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { BktParams } from '../model/params.js';
import { parseVariantModel } from '../model/variants/variant-model.js';
import { boundsFromRecord, type ConceptParams } from './params-set.js';

/** Where parameters come from: a params file (`--params`) or the store's active rows (`--db`). */
export interface ParamsSource {
  params?: string;
  db?: string;
  /** Only these concepts (`--concept-id`); all when empty. */
  conceptIds?: string[];
  /** The attempts input read in the same run: `-` there and in `params` would both need stdin. */
  input?: string;
  /** Stream read for `params: '-'` (default process.stdin). */
  stdin?: NodeJS.ReadableStream;
}

/** What `loadParams` returns. */
export interface LoadedParams {
  entries: ConceptParams[];
  /** Printable description of the source (password redacted). */
  source: string;
  /** True when read from a store: concept ids there are UUIDs (see alignParamsToTable). */
  fromStore: boolean;
  /**
   * The labels `bkt import` kept for the concepts, by lower-case UUID (look an id up with
   * withConceptLabels): from a store, or from a params file that carries `concept_label` (one
   * written from a database); null for any other file, whose ids are already its own names.
   */
  labels: ReadonlyMap<string, string> | null;
}

/** Restart metadata kept in a params row's metrics JSON, when the fit stored it. */
function restartsFromMetrics(metrics: Record<string, unknown>): ConceptParams['restarts'] {
  const candidates = [metrics.restarts, (metrics.fit as Record<string, unknown> | undefined)?.restarts];
  for (const c of candidates) {
    if (Array.isArray(c) && c.every((r) => r && typeof r === 'object' && 'params' in r && 'log_likelihood' in r)) {
      return c as ConceptParams['restarts'];
    }
  }
  return undefined;
}

/**
 * Read parameters from `--params FILE` (any form `readParamsFile` takes; `-` = stdin) or the active rows of
 * `--db` (p_F from `metrics.model.p_F`, restarts from `metrics.restarts` when stored). Exactly
 * one source must be given (UsageError). With `conceptIds`, only those; a named concept without
 * parameters is a NotFoundError (exit 4).
 */
export async function loadParams(source: ParamsSource): Promise<LoadedParams> {
  if ((source.params === undefined) === (source.db === undefined)) {
    throw new UsageError('give exactly one of `params` FILE or `db` URL', 'e.g. `params` params.json');
  }
  if (source.params === '-' && source.input === '-') {
    throw new UsageError('`params` - and `input` - both read stdin', 'Give one of them as a file');
  }
  const wanted = source.conceptIds ?? [];
  let entries: ConceptParams[];
  let description: string;
  let fromStore = false;
  let labels: Map<string, string> | null = null;
  if (source.params !== undefined) {
    const { readParamsFile } = await import('../params-file.js');
    const read = await readParamsFile(source.params, { stdin: source.stdin });
    entries = read.map((e) => ({
      concept_id: e.concept_id,
      params: e.params,
      restarts: e.restarts,
      bounds: boundsFromRecord(e.settings?.bounds),
      plausibilityMargin: typeof e.settings?.plausibilityMargin === 'number' ? e.settings.plausibilityMargin : null,
      ...(e.model ? { model: e.model } : {}),
    }));
    description = source.params === '-' ? 'stdin' : source.params;
    // A file written from a database (`bkt fit --db --out`, `bkt export params`) names its UUIDs.
    if (read.some((e) => e.concept_label !== undefined)) {
      const { toUuid } = await import('../store/ids.js');
      labels = new Map(read.flatMap((e) => (e.concept_label ? [[toUuid(e.concept_id), e.concept_label] as [string, string]] : [])));
    }
  } else {
    const { openStore } = await import('../store/open-store.js');
    const store = await openStore(source.db);
    try {
      const rows = await store.listParams(wanted.length ? { conceptIds: wanted } : {});
      entries = rows.map((row) => {
        const model = (row.metrics?.model ?? {}) as { p_F?: unknown };
        const params: BktParams = { p_L0: row.p_L0, p_T: row.p_T, p_S: row.p_S, p_G: row.p_G, p_F: typeof model.p_F === 'number' ? model.p_F : 0 };
        const variant = parseVariantModel(row.metrics?.model);
        const constraints = row.constraints_applied ?? {};
        return {
          concept_id: row.concept_id,
          params,
          restarts: restartsFromMetrics(row.metrics ?? {}),
          bounds: boundsFromRecord(constraints),
          plausibilityMargin: typeof constraints.plausibility_margin === 'number' ? constraints.plausibility_margin : null,
          ...(variant ? { model: variant } : {}),
        };
      });
      description = store.display;
      labels = rows.length ? await store.labels('concept', rows.map((row) => row.concept_id)) : new Map();
    } finally {
      await store.close();
    }
    fromStore = true;
  }
  if (wanted.length) {
    // The store keys concepts by UUID: a concept named as in the imported file ("Long division", "7") is found by the UUID it became.
    const { toUuid } = await import('../store/ids.js');
    const keyOf = (id: string) => (fromStore ? toUuid(id) : id);
    const have = new Set(entries.map((e) => e.concept_id));
    const missing = wanted.filter((id) => !have.has(keyOf(id)));
    if (missing.length) {
      throw new NotFoundError(
        `concept ${missing.join(', ')}: no ${fromStore ? 'active ' : ''}parameters in ${description}`,
        `Run "bkt fit --concept-id ${missing[0]} ..." first, or drop that \`conceptIds\``,
      );
    }
    const keep = new Set(wanted.map(keyOf));
    entries = entries.filter((e) => keep.has(e.concept_id));
  }
  return { entries, source: description, fromStore, labels };
}

/**
 * The labels `bkt import` kept for `ids` (any spelling it maps) in the store at `db`, by
 * lower-case UUID: for concepts a caller names that have no parameters, whose labels loadParams
 * did not read. Opens and closes the store.
 */
export async function readConceptLabels(db: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const { openStore } = await import('../store/open-store.js');
  const store = await openStore(db);
  try {
    return await store.labels('concept', ids);
  } finally {
    await store.close();
  }
}

/**
 * Store rows are keyed by UUID while an attempts file may name concepts otherwise: give each
 * concept of `table` the entry of its own id or, failing that, of the UUID `bkt import` maps it
 * to (src/store/ids.ts), re-keyed to the table's id.
 */
export async function alignParamsToTable(table: AttemptsTable, entries: ConceptParams[]): Promise<ConceptParams[]> {
  const { toUuid } = await import('../store/ids.js');
  const byId = new Map(entries.map((e) => [e.concept_id, e]));
  const out: ConceptParams[] = [];
  const used = new Set<string>();
  for (const id of table.conceptIds) {
    const entry = byId.get(id) ?? byId.get(toUuid(id));
    if (entry) {
      out.push({ ...entry, concept_id: id });
      used.add(entry.concept_id);
    }
  }
  for (const e of entries) if (!used.has(e.concept_id)) out.push(e);
  return out;
}
