import type { EnumDef, LiveTable, TableDef } from '../schema.js';
import type { SqliteDatabase } from './sqlite-types.js';

/** Read tables, columns, keys and indexes off SQLite's catalogue (sqlite_master and pragmas). */
export function introspectSqlite(db: SqliteDatabase, tables: readonly TableDef[]): Map<string, LiveTable> {
  const out = new Map<string, LiveTable>();
  const present = new Set(
    (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
  );
  for (const def of tables) {
    if (!present.has(def.name)) continue;
    const info = db.prepare(`PRAGMA table_info(${def.name})`).all() as { name: string; type: string; notnull: number; pk: number }[];
    const columns = new Map<string, { type: string; nullable: boolean }>();
    for (const c of info) columns.set(c.name, { type: c.type, nullable: c.notnull === 0 });
    const primaryKey = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const indexNames = new Set<string>();
    const uniqueColumnSets = new Set<string>();
    if (primaryKey.length) uniqueColumnSets.add(primaryKey.join(','));
    const indexes = db.prepare(`PRAGMA index_list(${def.name})`).all() as { name: string; unique: number; origin: string }[];
    for (const index of indexes) {
      indexNames.add(index.name);
      if (index.unique) {
        const cols = (db.prepare(`PRAGMA index_info("${index.name.replace(/"/g, '""')}")`).all() as { seqno: number; name: string }[])
          .sort((a, b) => a.seqno - b.seqno)
          .map((c) => c.name);
        uniqueColumnSets.add(cols.join(','));
      }
    }
    const fkRows = db.prepare(`PRAGMA foreign_key_list(${def.name})`).all() as { id: number; seq: number; table: string; from: string; to: string }[];
    const byId = new Map<number, { from: string[]; to: string[]; table: string }>();
    for (const fk of fkRows.sort((a, b) => a.id - b.id || a.seq - b.seq)) {
      const entry = byId.get(fk.id) ?? { from: [], to: [], table: fk.table };
      entry.from.push(fk.from);
      entry.to.push(fk.to);
      byId.set(fk.id, entry);
    }
    const foreignKeys = new Set([...byId.values()].map((fk) => `${fk.from.join(',')}->${fk.table}(${fk.to.join(',')})`));
    out.set(def.name, { columns, primaryKey, indexNames, uniqueColumnSets, foreignKeys });
  }
  return out;
}

/** SQLite has no enum types (enums are CHECK constraints): nothing to report. */
export function sqliteEnumsPresent(_enums: readonly EnumDef[]): Set<string> {
  return new Set();
}
