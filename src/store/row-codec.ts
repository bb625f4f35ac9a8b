/**
 * Rows in and out of the shared store, driven by the table definitions of schema.ts: the select
 * list and the decoder of a row type come from its table's columns and logical types, so a column
 * is named in one place. Decoders accept either backend's values: PostgreSQL returns Date,
 * boolean and parsed JSON; SQLite returns ISO text, 0/1 and JSON text.
 */
import { UsageError } from '../errors.js';
import { isUuid } from './ids.js';
import { quoteIdent, tableDef, type ColumnDef, type LogicalType } from './schema.js';
import type { Row } from './sql.js';

/** True for PostgreSQL's boolean, SQLite's 1, and the text forms COPY sends. */
export const decodeBool = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === 't' || v === '1';
/** A JSON column as an object (SQLite stores text; PostgreSQL's driver parses jsonb); null as {}. */
export const decodeJson = (v: unknown): Record<string, unknown> => (typeof v === 'string' ? JSON.parse(v) : ((v ?? {}) as Record<string, unknown>));
export const decodeNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const decodeIso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const decodeUuid = (v: unknown): string => String(v).toLowerCase();

function decoderOfType(type: LogicalType): (v: unknown) => unknown {
  if (typeof type === 'object') return String; // varchar and enums are text
  switch (type) {
    case 'uuid':
      return decodeUuid;
    case 'timestamptz':
      return decodeIso;
    case 'double':
    case 'integer':
    case 'smallint':
      return decodeNumber;
    case 'boolean':
      return decodeBool;
    case 'jsonb':
      return decodeJson;
    case 'text':
      return String;
  }
}

function decoderOf(column: ColumnDef): (v: unknown) => unknown {
  const decode = decoderOfType(column.type);
  // A JSON column that is NOT NULL still reads as {} if a driver ever hands back null.
  if (!column.nullable && column.type !== 'jsonb') return decode;
  const empty = column.nullable ? null : {};
  return (v) => (v === null || v === undefined ? empty : decode(v));
}

/** A row type read from one table: its select list and its decoder. */
export interface RowCodec<T> {
  readonly table: string;
  /** The columns as a select list (quoted where needed: "p_L0", "trigger"). */
  readonly select: string;
  /** The select list with every column taken from table alias `alias` (a join, where names clash). */
  selectFrom(alias: string): string;
  decode(row: Row): T;
}

/**
 * The codec of `table`'s rows, with every column of schema.ts in order, or only `columns`. The
 * row type T must have exactly those keys (a column's logical type decides its JS type).
 */
export function rowCodec<T>(table: string, columns?: readonly string[]): RowCodec<T> {
  const def = tableDef(table);
  const picked = columns
    ? columns.map((name) => {
        const column = def.columns.find((c) => c.name === name);
        if (!column) throw new Error(`no column ${table}.${name} in the schema`);
        return column;
      })
    : def.columns;
  const names = picked.map((c) => c.name);
  const decoders = picked.map(decoderOf);
  return {
    table,
    select: names.map(quoteIdent).join(', '),
    selectFrom: (alias) => names.map((n) => `${alias}.${quoteIdent(n)} AS ${quoteIdent(n)}`).join(', '),
    decode(row: Row): T {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]] = decoders[i](row[names[i]]);
      return out as T;
    },
  };
}

/** ISO-8601 UTC with milliseconds, the one timestamp text bkt writes. */
export function toIsoTimestamp(value: string | Date, flag = 'date'): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} "${String(value)}" is not a date`, 'Use ISO-8601, e.g. 2026-01-21 or 2026-01-21T12:00:00Z');
  return d.toISOString();
}

/** A uuid argument from a user: lower-cased, or a UsageError naming the flag. */
export function requireUuid(value: string, what: string): string {
  if (!isUuid(value)) throw new UsageError(`${what} "${value}" is not a UUID`, 'Pass the id as printed by bkt (8-4-4-4-12 hex digits)');
  return value.toLowerCase();
}

/** `WHERE a AND b` from conditions, or nothing. */
export function whereClause(conditions: readonly string[]): string {
  return conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
}
