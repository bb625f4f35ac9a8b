/**
 * Labels: the ids a file gave concepts and learners ("Long division", "student-17"), kept in
 * bkt's own table bkt_labels beside the UUIDs `bkt import` turned them into (schema.ts), so what
 * is shown can name things as the user knows them. Only ids that were not UUIDs get a label: a
 * UUID in the file is stored as it is and has nothing more to say.
 */
import { isUuid, toUuid } from './ids.js';
import type { SqlContext, SqlExecutor, SqlValue } from './sql.js';
import type { LabelKind, RowLabels } from './store.js';

/** Rows per INSERT: 5 values each stays far below SQLite's 32,766 parameters. */
const CHUNK = 500;

/**
 * The labels an import writes: for each id of `ids` that is not a UUID, (kind, its UUID, the id
 * as the file spelled it, trimmed). Pure.
 */
export function labelsOfIds(kind: LabelKind, ids: readonly string[]): Array<{ kind: LabelKind; id: string; label: string }> {
  const out = new Map<string, { kind: LabelKind; id: string; label: string }>();
  for (const raw of ids) {
    const label = raw.trim();
    if (label === '' || isUuid(label)) continue;
    const id = toUuid(label);
    out.set(id, { kind, id, label });
  }
  return [...out.values()];
}

/**
 * Insert or replace labels inside the caller's transaction (the import's, so a failed import
 * leaves no label behind). A later import that spells an id again refreshes its label.
 */
export async function writeLabels(ex: SqlExecutor, labels: ReadonlyArray<{ kind: LabelKind; id: string; label: string }>, nowIso: string): Promise<number> {
  let written = 0;
  for (let at = 0; at < labels.length; at += CHUNK) {
    const part = labels.slice(at, at + CHUNK);
    const params: SqlValue[] = [];
    for (const l of part) params.push(l.kind, l.id, l.label, nowIso, nowIso);
    written += await ex.run(
      `INSERT INTO bkt_labels (kind, id, label, created_at, updated_at) VALUES ${part.map(() => '(?, ?, ?, ?, ?)').join(', ')}
       ON CONFLICT (kind, id) DO UPDATE SET label = excluded.label, updated_at = excluded.updated_at`,
      params,
    );
  }
  return written;
}

/** True for "the table does not exist" from either backend (a database migrated before labels). */
function isMissingTable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  const codes = [e?.code, e?.cause?.code];
  const messages = [e?.message, e?.cause?.message].filter((m): m is string => typeof m === 'string');
  return codes.includes('42P01') || messages.some((m) => /no such table: bkt_labels|relation "bkt_labels" does not exist/.test(m));
}

/**
 * Labels of `kind`, by UUID: of the given ids (any spelling `bkt import` maps), or every label of
 * the kind when `ids` is omitted. A database migrated before labels existed has none: an empty
 * map, and `bkt db check` names the missing table.
 */
export async function readLabels(ctx: SqlContext, kind: LabelKind, ids?: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  try {
    if (ids === undefined) {
      for (const r of await ctx.driver.query<{ id: string; label: string }>('SELECT id, label FROM bkt_labels WHERE kind = ?', [kind])) {
        out.set(String(r.id).toLowerCase(), r.label);
      }
      return out;
    }
    const wanted = [...new Set(ids.map(toUuid))];
    for (let at = 0; at < wanted.length; at += CHUNK) {
      const part = wanted.slice(at, at + CHUNK);
      const rows = await ctx.driver.query<{ id: string; label: string }>(
        `SELECT id, label FROM bkt_labels WHERE kind = ? AND id IN (${part.map(() => '?').join(', ')})`,
        [kind, ...part],
      );
      for (const r of rows) out.set(String(r.id).toLowerCase(), r.label);
    }
    return out;
  } catch (error) {
    if (isMissingTable(error)) return out;
    throw error;
  }
}

/**
 * How many labels of `kind` exist: 0 too when bkt_labels does not (a database migrated before
 * labels; `bkt db check` names it).
 */
async function countLabels(ctx: SqlContext, kind: LabelKind): Promise<number> {
  try {
    const rows = await ctx.driver.query<{ n: unknown }>('SELECT count(*) AS n FROM bkt_labels WHERE kind = ?', [kind]);
    return Number(rows[0]?.n ?? 0);
  } catch (error) {
    if (isMissingTable(error)) return 0;
    throw error;
  }
}

/**
 * Up to this many labels of a kind are read once into memory and looked up per row; more are
 * joined in the statement. The lookup costs next to nothing (1 M fully labelled mastery rows on
 * SQLite: 6.7 CPU-s against 8.4 with both joins, the same as with no labels at all), but a
 * database of millions of labelled learners would hold them all in memory, and an export promises
 * constant memory: 100,000 labels stay under 20 MB.
 */
export const LABEL_LOOKUP_LIMIT = 100_000;

/** Which label columns a read adds: the column of the row holding the id, by label kind. */
export interface LabelJoinSpec {
  /** Table alias of the rows being read. */
  alias: string;
  concept?: string;
  user?: string;
}

/**
 * Label columns of a read: the select items and joins of the kinds joined in the statement, and
 * the labels of the kinds looked up in memory instead (see labelJoin).
 */
export interface JoinedLabels {
  select: string;
  joins: string;
  /** Labels by UUID of the kinds looked up per row (the statement reads NULL for them). */
  lookups: Partial<Record<LabelKind, ReadonlyMap<string, string>>>;
}

/**
 * How a read gets each row's labels (`concept_label`, `user_label`), per kind: none at all (no
 * label of the kind, or no bkt_labels table) reads as NULL; up to `lookupLimit` labels are read
 * once and looked up by the row's id (withLabelsOf); more are a LEFT JOIN on bkt_labels' primary
 * key in the same statement, so memory stays bounded and there is still no second round trip per
 * chunk of an export.
 */
export async function labelJoin(ctx: SqlContext, spec: LabelJoinSpec, lookupLimit = LABEL_LOOKUP_LIMIT): Promise<JoinedLabels> {
  const select: string[] = [];
  const joins: string[] = [];
  const lookups: JoinedLabels['lookups'] = {};
  for (const kind of ['concept', 'user'] as const) {
    const column = spec[kind];
    if (column === undefined) continue;
    const count = await countLabels(ctx, kind);
    if (count > lookupLimit) {
      select.push(`l_${kind}.label AS ${kind}_label`);
      joins.push(`LEFT JOIN bkt_labels l_${kind} ON l_${kind}.kind = '${kind}' AND l_${kind}.id = ${spec.alias}.${column}`);
    } else {
      if (count > 0) lookups[kind] = await readLabels(ctx, kind);
      select.push(`NULL AS ${kind}_label`);
    }
  }
  return { select: select.join(', '), joins: joins.join(' '), lookups };
}

/** A joined label as the row carries it: text, or null where the id has none. */
export const decodeLabel = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/**
 * `row` (decoded, owned by the caller) given its `concept_label` and, for a row with a learner
 * (`withUser`), its `user_label`: from the lookups of `labels`, else as the statement read them
 * from `raw`. Assigned in place: a copy per row of a million-row export costs more than the labels.
 */
export function withLabelsOf<T extends { concept_id: string; user_id?: string | null }>(row: T, raw: Record<string, unknown>, labels: JoinedLabels, withUser: boolean): T & RowLabels {
  const out = row as T & RowLabels;
  const concepts = labels.lookups.concept;
  out.concept_label = concepts ? concepts.get(row.concept_id) ?? null : decodeLabel(raw.concept_label);
  if (withUser) {
    const users = labels.lookups.user;
    out.user_label = users ? (row.user_id ? users.get(row.user_id) ?? null : null) : decodeLabel(raw.user_label);
  }
  return out;
}
