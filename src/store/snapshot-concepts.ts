/**
 * The concepts a session question's snapshot_json names (schema.md, "Attempts from the app's
 * tables"): `concept_id` (a string) and/or `concept_ids` (an array of strings), UUIDs lower-cased.
 * Two ways to read them from a bulk read, one per dialect (see SnapshotConcepts).
 */
import { isUuid } from './ids.js';

/** `{"concept_id": "<uuid>"}` exactly, as bkt import and most app rows write it (PostgreSQL adds a space). */
const SINGLE_CONCEPT_SNAPSHOT = /^\{"concept_id": ?"([0-9a-fA-F-]{36})"\}$/;

/**
 * The concepts a session question's snapshot names: `concept_id` (a string) and/or `concept_ids`
 * (an array of strings), deduplicated, UUIDs lower-cased. The common one-concept text is matched
 * without a JSON parse; anything else is parsed. Unparsable text names no concept.
 */
export function conceptsOfSnapshot(snapshot: unknown): Set<string> {
  const out = new Set<string>();
  if (snapshot === null || snapshot === undefined) return out;
  let value: unknown = snapshot;
  if (typeof snapshot === 'string') {
    const m = SINGLE_CONCEPT_SNAPSHOT.exec(snapshot);
    if (m) {
      out.add(m[1].toLowerCase());
      return out;
    }
    try {
      value = JSON.parse(snapshot);
    } catch {
      return out;
    }
  }
  if (!value || typeof value !== 'object') return out;
  const { concept_id: single, concept_ids: multi } = value as { concept_id?: unknown; concept_ids?: unknown };
  if (typeof single === 'string' && single.length > 0) out.add(normaliseConcept(single));
  if (Array.isArray(multi)) for (const c of multi) if (typeof c === 'string' && c.length > 0) out.add(normaliseConcept(c));
  return out;
}

function normaliseConcept(id: string): string {
  return isUuid(id) ? id.toLowerCase() : id;
}


/** Snapshot texts up to this length are cached by readAttempts (bkt import writes 53 characters). */
const CACHEABLE_TEXT = 128;

/**
 * How readAttempts selects and decodes a snapshot's concepts: the SQL columns (at `at` in each
 * row); a short string that determines the concepts (readAttempts caches the decoded concepts
 * under it, so the common row costs one Map lookup), or null; and the concepts themselves.
 */
export interface SnapshotConcepts {
  columns: string[];
  cacheKey(row: readonly unknown[], at: number): string | null;
  all(row: readonly unknown[], at: number, out: Set<string>): void;
}

/**
 * The whole snapshot text, matched in JS (SQLite): JSON functions in SQL cost more than the
 * transfer of bkt import's short snapshots, and would fail the whole read on one malformed text.
 */
export function snapshotTextConcepts(column: string): SnapshotConcepts {
  return {
    columns: [column],
    cacheKey(row, at) {
      const text = row[at];
      return typeof text === 'string' && text.length <= CACHEABLE_TEXT ? text : null;
    },
    all(row, at, out) {
      for (const c of conceptsOfSnapshot(row[at])) out.add(c);
    },
  };
}

/**
 * The two members extracted in SQL (PostgreSQL's jsonb: no text of the whole snapshot, which in
 * the app holds the question as shown): concept_id when it is a string, concept_ids as JSON text
 * when it is an array.
 */
export function snapshotMemberConcepts(single: string, multi: string): SnapshotConcepts {
  return {
    columns: [single, multi],
    cacheKey(row, at) {
      const id = row[at];
      const list = row[at + 1];
      if (list === null) return typeof id === 'string' ? id : null;
      // A short concept_ids list: both members, NUL-separated (a string never holds a NUL here).
      return typeof list === 'string' && list.length <= CACHEABLE_TEXT ? `${typeof id === 'string' ? id : ''}\u0000${list}` : null;
    },
    all(row, at, out) {
      const id = row[at];
      if (typeof id === 'string' && id.length > 0) out.add(normaliseConcept(id));
      const list = row[at + 1];
      if (typeof list !== 'string') return;
      let ids: unknown;
      try {
        ids = JSON.parse(list);
      } catch {
        return;
      }
      if (Array.isArray(ids)) for (const c of ids) if (typeof c === 'string' && c.length > 0) out.add(normaliseConcept(c));
    },
  };
}
