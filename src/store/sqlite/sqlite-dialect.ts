import type { ColumnDef, EnumDef, LogicalType } from '../schema.js';
import type { Dialect, SqlValue } from '../sql.js';
import { snapshotTextConcepts } from '../snapshot-concepts.js';

/**
 * SQLite's side of the differences (schema.md: uuid as lower-case TEXT, timestamps as ISO-8601
 * UTC TEXT with milliseconds, jsonb as TEXT, booleans as INTEGER 0/1).
 */
export const sqliteDialect: Dialect = {
  name: 'sqlite',
  // BEGIN IMMEDIATE takes the database's single write lock at once, so two writers (processes
  // included) are serialised before either reads: no row locks or advisory locks are needed.
  beginWrite: 'BEGIN IMMEDIATE',
  forUpdate: '',
  advisoryLockSql: null,

  columnType: sqliteType,
  // pragma table_info reports the declared type as written.
  liveType: sqliteType,

  defaultExpression(column: ColumnDef): string | null {
    const d = column.default;
    if (d === undefined) return null;
    // No uuid generator in SQLite: the client writes a v4 UUID (ids.ts newUuid).
    if (d === 'gen_random_uuid') return null;
    if (d === 'now') return "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";
    if (typeof d.literal === 'boolean') return d.literal ? '1' : '0';
    if (typeof d.literal === 'number') return String(d.literal);
    return `'${d.literal.replace(/'/g, "''")}'`;
  },

  createEnum: () => [],
  enumCheck: (column: string, def: EnumDef) => `${column} IN (${def.values.map((v) => `'${v}'`).join(', ')})`,

  // The column is text that may not be JSON at all (SQLite has no json type): such a snapshot
  // names no concept, as in JS, instead of failing the whole statement with "malformed JSON".
  jsonText: (column, key) => `CASE WHEN json_valid(${column}) THEN json_extract(${column}, '$.${key}') END`,
  jsonMember: (column, key) =>
    `CASE WHEN json_valid(${column}) AND json_type(${column}, '$.${key}') = 'array' THEN json_extract(${column}, '$.${key}') END`,

  inList(expr: string, values: readonly string[]) {
    return { sql: `${expr} IN (${values.map(() => '?').join(', ')})`, params: [...values] };
  },
  uuidPairIn(a, b, pairs) {
    return { sql: `(${a}, ${b}) IN (VALUES ${pairs.map(() => '(?, ?)').join(', ')})`, params: pairs.flat() };
  },
  jsonArrayContainsAny(column, key, values) {
    return {
      sql: `EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(${column}) THEN ${column} ELSE '{}' END, '$.${key}') je WHERE lower(je.value) IN (${values.map(() => '?').join(', ')}))`,
      params: [...values],
    };
  },
  // Stored text is already ISO-8601; parsing it in JS is cheaper than julianday arithmetic and exact.
  epochMs: (expr) => expr,
  typed: (expr) => expr,
  readPartitions: 1,
  leadingIndexSql: null,
  rowidChunks: true,
  snapshotConcepts: (column) => snapshotTextConcepts(column),
  jsonAsText: (expr) => expr,
  analyzeSql: () => null,
  bool: (value: boolean): SqlValue => (value ? 1 : 0),
  placeholderLocks: false,
  singlePassReadSettings: ['PRAGMA cache_size = -8192', 'PRAGMA mmap_size = 0'],
  runOwnerLock: null,
};

function sqliteType(type: LogicalType): string {
  if (typeof type === 'object') return 'varchar' in type ? `VARCHAR(${type.varchar})` : 'TEXT';
  switch (type) {
    case 'double':
      return 'REAL';
    case 'integer':
    case 'smallint':
    case 'boolean':
      return 'INTEGER';
    default:
      return 'TEXT';
  }
}
