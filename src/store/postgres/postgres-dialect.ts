import type { ColumnDef, EnumDef, LogicalType } from '../schema.js';
import type { Dialect, SqlValue } from '../sql.js';
import { snapshotMemberConcepts } from '../snapshot-concepts.js';

/** PostgreSQL's side of the differences: the app's native types, row locks and advisory locks. */
export const postgresDialect: Dialect = {
  name: 'postgres',
  beginWrite: 'BEGIN',
  // READ COMMITTED lets two writers read the same row: lock it explicitly.
  forUpdate: ' FOR UPDATE',
  // Two activations of one concept could each deactivate nothing (no active row yet) and both
  // insert; a transaction-scoped advisory lock per concept serialises them.
  advisoryLockSql: 'SELECT pg_advisory_xact_lock(hashtext(?::text))',

  columnType(type: LogicalType): string {
    if (typeof type === 'object') return 'varchar' in type ? `varchar(${type.varchar})` : type.enum;
    return type === 'double' ? 'double precision' : type;
  },
  liveType(type: LogicalType): string {
    if (typeof type === 'object') return 'varchar' in type ? `character varying(${type.varchar})` : type.enum;
    switch (type) {
      case 'double':
        return 'double precision';
      case 'timestamptz':
        return 'timestamp with time zone';
      default:
        return type;
    }
  },
  defaultExpression(column: ColumnDef): string | null {
    const d = column.default;
    if (d === undefined) return null;
    // Built into PostgreSQL 13+ (no pgcrypto needed).
    if (d === 'gen_random_uuid') return 'gen_random_uuid()';
    if (d === 'now') return 'now()';
    if (typeof d.literal === 'boolean' || typeof d.literal === 'number') return String(d.literal);
    const quoted = `'${d.literal.replace(/'/g, "''")}'`;
    return column.type === 'jsonb' ? `${quoted}::jsonb` : quoted;
  },
  createEnum(def: EnumDef): string[] {
    // CREATE TYPE has no IF NOT EXISTS.
    return [
      `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = '${def.name}' AND n.nspname = current_schema()) THEN CREATE TYPE ${def.name} AS ENUM (${def.values
        .map((v) => `'${v}'`)
        .join(', ')}); END IF; END $$`,
    ];
  },
  enumCheck: () => null,

  jsonText: (column, key) => `(${column}->>'${key}')`,
  jsonMember: (column, key) => `(CASE WHEN jsonb_typeof(${column}->'${key}') = 'array' THEN ${column}->'${key}' END)`,
  inList(expr: string, values: readonly string[]) {
    return { sql: `${expr} = ANY(?)`, params: [[...values]] };
  },
  uuidPairIn(a, b, pairs) {
    return { sql: `(${a}, ${b}) IN (SELECT * FROM unnest(?::uuid[], ?::uuid[]))`, params: [pairs.map((p) => p[0]), pairs.map((p) => p[1])] };
  },
  jsonArrayContainsAny(column, key, values) {
    return {
      sql: `EXISTS (SELECT 1 FROM jsonb_array_elements_text(CASE WHEN jsonb_typeof(${column}->'${key}') = 'array' THEN ${column}->'${key}' END) e WHERE lower(e) = ANY(?::text[]))`,
      params: [[...values]],
    };
  },
  // A float8 of epoch ms costs less to receive than a Date per row.
  epochMs: (expr) => `(extract(epoch from ${expr}) * 1000)::float8`,
  typed: (expr, type) => `(${expr})::${type === 'key' ? 'text' : type}`,
  readPartitions: 2,
  leadingIndexSql: `SELECT count(*)::int4 FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_am am ON am.oid = c.relam
    WHERE i.indrelid = to_regclass(?) AND i.indisvalid AND am.amname = 'btree' AND i.indnkeyatts >= 2
      AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = ?)
      AND i.indkey[1] = (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = ?)`,
  rowidChunks: false,
  snapshotConcepts: (column) =>
    snapshotMemberConcepts(
      `CASE WHEN jsonb_typeof(${column}->'concept_id') = 'string' THEN ${column}->>'concept_id' END`,
      `CASE WHEN jsonb_typeof(${column}->'concept_ids') = 'array' THEN (${column}->'concept_ids')::text END`,
    ),
  jsonAsText: (expr) => `${expr}::text`,
  analyzeSql: (tables) => `ANALYZE ${tables.join(', ')}`,
  bool: (value: boolean): SqlValue => value,
  placeholderLocks: true,
  singlePassReadSettings: [],
  // A 64-bit key from the run's uuid: the activation and migration locks use 32-bit hashtext
  // values (sign-extended), so a run's key meets one of them with odds of 1 in 2^32.
  runOwnerLock: {
    acquire: 'SELECT pg_advisory_lock(?::bigint)',
    release: 'SELECT pg_advisory_unlock(?::bigint)',
    tryInTransaction: 'SELECT pg_try_advisory_xact_lock(?::bigint) AS free',
  },
};
