/**
 * Rows shown to people carry the labels `bkt import` kept: `concept_label` right after
 * `concept_id`, `user_label` right after `user_id` (null where the id has no label, e.g. it was a
 * UUID in the file). One read of bkt_labels per kind, whatever the number of rows.
 */
import { toUuid } from './ids.js';
import type { LabelKind, Store } from './store.js';

type WithConcept = { concept_id: string };
type Labelled<T> = T & { concept_label: string | null } & (T extends { user_id: string | null } ? { user_label: string | null } : unknown);

/** `row` with `label` inserted as key `labelKey` right after `idKey` (JSON keeps insertion order). */
function insertAfter<T extends object>(row: T, idKey: string, labelKey: string, label: string | null): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k === labelKey) continue;
    out[k] = v;
    if (k === idKey) out[labelKey] = label;
  }
  return out as T;
}

async function labelsFor(store: Store, kind: LabelKind, ids: Iterable<string | null | undefined>): Promise<Map<string, string>> {
  const wanted = [...new Set([...ids].filter((id): id is string => typeof id === 'string' && id !== ''))];
  return wanted.length ? store.labels(kind, wanted) : new Map();
}

/**
 * The rows with `concept_label` (and `user_label` where a row has `user_id`). Ids are matched
 * lower-cased, as the store keeps them.
 */
export async function withLabels<T extends WithConcept>(store: Store, rows: readonly T[]): Promise<Array<Labelled<T>>> {
  const concepts = await labelsFor(store, 'concept', rows.map((r) => r.concept_id));
  const users = await labelsFor(store, 'user', rows.map((r) => (r as { user_id?: string | null }).user_id));
  return rows.map((row) => {
    let out: object = insertAfter(row, 'concept_id', 'concept_label', concepts.get(row.concept_id.toLowerCase()) ?? null);
    const userId = (row as { user_id?: string | null }).user_id;
    if (userId !== undefined) out = insertAfter(out, 'user_id', 'user_label', userId === null ? null : users.get(userId.toLowerCase()) ?? null);
    return out as Labelled<T>;
  });
}

/**
 * `rows` with `concept_label` right after `concept_id`, from labels already read (`Store.labels`,
 * keyed by lower-case UUID). An id is looked up as `bkt import` maps it, so a row keyed by the
 * file's own id ("Long division", "7") finds its label too. Pure.
 */
export function withConceptLabels<T extends WithConcept>(rows: readonly T[], labels: ReadonlyMap<string, string>): Array<T & { concept_label: string | null }> {
  return rows.map((row) => insertAfter(row, 'concept_id', 'concept_label', labels.get(toUuid(row.concept_id)) ?? null) as T & { concept_label: string | null });
}
