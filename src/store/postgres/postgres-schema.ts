import type { EnumDef, LiveTable, TableDef } from '../schema.js';
import type { PgQueryable } from './postgres-types.js';

/** Read tables, columns, keys and indexes of the current schema off PostgreSQL's catalogue. */
export async function introspectPostgres(db: PgQueryable, tables: readonly TableDef[]): Promise<Map<string, LiveTable>> {
  const names = tables.map((t) => t.name);
  const out = new Map<string, LiveTable>();
  const present = await db.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)`,
    [names],
  );
  for (const r of present.rows) {
    out.set(r.table_name, { columns: new Map(), primaryKey: [], indexNames: new Set(), uniqueColumnSets: new Set(), foreignKeys: new Set() });
  }
  const columns = await db.query(
    `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, is_nullable
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ANY($1)`,
    [names],
  );
  for (const c of columns.rows) {
    const type =
      c.data_type === 'USER-DEFINED'
        ? c.udt_name
        : c.data_type === 'character varying' && c.character_maximum_length !== null
          ? `character varying(${c.character_maximum_length})`
          : c.data_type;
    out.get(c.table_name)?.columns.set(c.column_name, { type, nullable: c.is_nullable === 'YES' });
  }
  const constraints = await db.query(
    `SELECT t.relname AS table_name, c.contype, rt.relname AS ref_table,
            array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS cols,
            array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS ref_cols
       FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       LEFT JOIN pg_class rt ON rt.oid = c.confrelid
      WHERE n.nspname = current_schema() AND t.relname = ANY($1) AND c.contype IN ('p', 'u', 'f')`,
    [names],
  );
  for (const c of constraints.rows) {
    const table = out.get(c.table_name);
    if (!table) continue;
    const cols = (c.cols as string[]).join(',');
    if (c.contype === 'p') {
      table.primaryKey = c.cols;
      table.uniqueColumnSets.add(cols);
    } else if (c.contype === 'u') {
      table.uniqueColumnSets.add(cols);
    } else {
      table.foreignKeys.add(`${cols}->${c.ref_table}(${(c.ref_cols as string[]).join(',')})`);
    }
  }
  const indexes = await db.query(
    `SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique,
            array(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS cols
       FROM pg_index ix
       JOIN pg_class t ON t.oid = ix.indrelid
       JOIN pg_class i ON i.oid = ix.indexrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
      WHERE n.nspname = current_schema() AND t.relname = ANY($1)`,
    [names],
  );
  for (const ix of indexes.rows) {
    const table = out.get(ix.table_name);
    if (!table) continue;
    table.indexNames.add(ix.index_name);
    if (ix.indisunique) table.uniqueColumnSets.add((ix.cols as string[]).join(','));
  }
  return out;
}

export async function postgresEnumsPresent(db: PgQueryable, enums: readonly EnumDef[]): Promise<Set<string>> {
  const r = await db.query(
    `SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE t.typtype = 'e' AND n.nspname = current_schema() AND t.typname = ANY($1)`,
    [enums.map((e) => e.name)],
  );
  return new Set(r.rows.map((row: { typname: string }) => String(row.typname)));
}
