/**
 * Labels: the ids a file gave concepts and learners ("Long division", "student-17"), kept in
 * bkt's own table bkt_labels beside the UUIDs `bkt import` turned them into (schema.ts), so what
 * is shown can name things as the user knows them. Only ids that were not UUIDs get a label: a
 * UUID in the file is stored as it is and has nothing more to say.
 */
import { isUuid, toUuid } from './ids.js';
import type { SqlContext, SqlExecutor, SqlValue } from './sql.js';
import type { LabelKind } from './store.js';

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
 * Whether any label of `kind` exists: false too when bkt_labels does not (a database migrated
 * before labels; `bkt db check` names it).
 */
async function hasLabels(ctx: SqlContext, kind: LabelKind): Promise<boolean> {
  try {
    return (await ctx.driver.query('SELECT 1 AS one FROM bkt_labels WHERE kind = ? LIMIT 1', [kind])).length > 0;
  } catch (error) {
    if (isMissingTable(error)) return false;
    throw error;
  }
}

/** Which label columns a joined read adds: the column of the row holding the id, by label kind. */
export interface LabelJoinSpec {
  /** Table alias of the rows being read. */
  alias: string;
  concept?: string;
  user?: string;
}

/** Label columns joined into a read: the select items and the joins (see labelJoin). */
export interface JoinedLabels {
  select: string;
  joins: string;
}

/**
 * The select items (`concept_label`, `user_label`) and LEFT JOINs that read each row's labels in
 * the same statement as the row: one lookup per row and kind on bkt_labels' primary key, no
 * second round trip per chunk of an export. A kind without any label (data imported with UUIDs,
 * or no bkt_labels table) reads as NULL without a join: the lookups are most of the join's cost
 * (on SQLite, 1 M mastery rows take about twice the CPU with both joins).
 */
export async function labelJoin(ctx: SqlContext, spec: LabelJoinSpec): Promise<JoinedLabels> {
  const select: string[] = [];
  const joins: string[] = [];
  for (const kind of ['concept', 'user'] as const) {
    const column = spec[kind];
    if (column === undefined) continue;
    if (await hasLabels(ctx, kind)) {
      select.push(`l_${kind}.label AS ${kind}_label`);
      joins.push(`LEFT JOIN bkt_labels l_${kind} ON l_${kind}.kind = '${kind}' AND l_${kind}.id = ${spec.alias}.${column}`);
    } else {
      select.push(`NULL AS ${kind}_label`);
    }
  }
  return { select: select.join(', '), joins: joins.join(' ') };
}

/** A joined label as the row carries it: text, or null where the id has none. */
export const decodeLabel = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
