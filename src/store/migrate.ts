/**
 * Schema setup and check: `bkt db migrate` creates what schema.ts defines and is missing (ordered,
 * idempotent, additive; never altering the app's tables) and seeds bkt v1; `bkt db check`
 * compares the live catalogue with it.
 */
import { createHash } from 'node:crypto';
import { newUuid } from './ids.js';
import { ENUMS, TABLES, compareSchema, quoteIdent, type SchemaDifference, type TableDef } from './schema.js';
import type { Dialect, SqlContext, SqlExecutor } from './sql.js';
import { BKT_ALGO_KEY, BKT_ALGO_VERSION, BUILTIN_ALGO_PARAMS_JSON } from './store.js';

/** SHA-256 hex of the JSON with keys sorted at every level (algo_params.checksum). */
export function sortedJsonChecksum(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(sort(value))).digest('hex');
}

/** Render CREATE TABLE for one table with the dialect's types and defaults. */
export function createTableSql(def: TableDef, dialect: Dialect): string {
  const lines: string[] = [];
  for (const column of def.columns) {
    let line = `  ${quoteIdent(column.name)} ${dialect.columnType(column.type)}`;
    if (!column.nullable) line += ' NOT NULL';
    const dflt = dialect.defaultExpression(column);
    if (dflt !== null) line += ` DEFAULT ${dflt}`;
    if (typeof column.type === 'object' && 'enum' in column.type) {
      const enumDef = ENUMS.find((e) => e.name === (column.type as { enum: string }).enum)!;
      const check = dialect.enumCheck(quoteIdent(column.name), enumDef);
      if (check) line += ` CHECK (${check})`;
    }
    lines.push(line);
  }
  const cols = (names: string[]) => names.map(quoteIdent).join(', ');
  lines.push(`  CONSTRAINT ${def.primaryKey.name} PRIMARY KEY (${cols(def.primaryKey.columns)})`);
  for (const unique of def.uniques) lines.push(`  CONSTRAINT ${unique.name} UNIQUE (${cols(unique.columns)})`);
  for (const fk of def.foreignKeys) {
    let line = `  CONSTRAINT ${def.name}_${fk.columns.join('_')}_fkey FOREIGN KEY (${cols(fk.columns)}) REFERENCES ${fk.refTable} (${cols(fk.refColumns)})`;
    if (fk.onDelete) line += ` ON DELETE ${fk.onDelete}`;
    if (fk.onUpdate) line += ` ON UPDATE ${fk.onUpdate}`;
    lines.push(line);
  }
  for (const check of def.checks) lines.push(`  CONSTRAINT ${check.name} CHECK (${check.expression})`);
  return `CREATE TABLE IF NOT EXISTS ${def.name} (\n${lines.join(',\n')}\n)`;
}

/** Create every missing enum, table and index of schema.md in one transaction and seed bkt v1. Idempotent. */
export async function migrate(ctx: SqlContext): Promise<{ created: string[] }> {
  return ctx.driver.transaction(async (tx) => {
    // Two migrations at once: the second waits here, then finds everything made by the first.
    if (ctx.dialect.advisoryLockSql) await tx.query(ctx.dialect.advisoryLockSql, ['bkt:migrate']);
    const before = await ctx.driver.introspect(TABLES);
    const enumsBefore = await ctx.driver.enumsPresent(ENUMS);
    const created: string[] = [];
    for (const e of ENUMS) {
      const statements = enumsBefore.has(e.name) ? [] : ctx.dialect.createEnum(e);
      for (const statement of statements) await tx.run(statement);
      if (statements.length) created.push(`type ${e.name}`);
    }
    for (const def of TABLES) {
      if (!before.has(def.name)) {
        await tx.run(createTableSql(def, ctx.dialect));
        created.push(`table ${def.name}`);
      }
      const live = before.get(def.name);
      // bkt's own tables gain columns over time (bkt_attempt_ledger.correct, .question_id):
      // add a missing nullable one. Never on the app's tables.
      if (live && def.owner === 'bkt') {
        for (const column of def.columns) {
          if (live.columns.has(column.name) || !column.nullable || column.default !== undefined) continue;
          await tx.run(`ALTER TABLE ${def.name} ADD COLUMN ${quoteIdent(column.name)} ${ctx.dialect.columnType(column.type)}`);
          created.push(`column ${def.name}.${column.name}`);
        }
      }
      for (const index of def.indexes) {
        if (live?.indexNames.has(index.name)) continue;
        await tx.run(`CREATE INDEX IF NOT EXISTS ${index.name} ON ${def.name} (${index.columns.map(quoteIdent).join(', ')})`);
        created.push(`index ${index.name}`);
      }
    }
    created.push(...(await seed(ctx, tx)));
    return { created };
  });
}

/** bkt v1 ACTIVE and its active algo_params row with the built-in defaults, when missing. */
async function seed(ctx: SqlContext, tx: SqlExecutor): Promise<string[]> {
  const created: string[] = [];
  const now = new Date().toISOString();
  let version = await tx.query<{ id: string }>('SELECT id FROM algo_versions WHERE algo_key = ? AND version = ?', [BKT_ALGO_KEY, BKT_ALGO_VERSION]);
  if (version.length === 0) {
    const id = newUuid();
    await tx.run(
      'INSERT INTO algo_versions (id, algo_key, version, status, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [id, BKT_ALGO_KEY, BKT_ALGO_VERSION, 'ACTIVE', 'Bayesian Knowledge Tracing (standard four-parameter model), fitted by bkt', now, now],
    );
    version = [{ id }];
    created.push('row algo_versions bkt v1');
  }
  const versionId = String(version[0].id);
  const active = await tx.query('SELECT id FROM algo_params WHERE algo_version_id = ? AND is_active = ?', [versionId, ctx.dialect.bool(true)]);
  if (active.length === 0) {
    await tx.run(
      'INSERT INTO algo_params (id, algo_version_id, params_json, checksum, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [newUuid(), versionId, JSON.stringify(BUILTIN_ALGO_PARAMS_JSON), sortedJsonChecksum(BUILTIN_ALGO_PARAMS_JSON), ctx.dialect.bool(true), now, now],
    );
    created.push('row algo_params bkt v1 defaults');
  }
  return created;
}

/** Compare the live tables with schema.md; an empty list means they match. */
export async function check(ctx: SqlContext): Promise<SchemaDifference[]> {
  const live = await ctx.driver.introspect(TABLES);
  const differences = compareSchema(live, (t) => ctx.dialect.liveType(t));
  const enums = await ctx.driver.enumsPresent(ENUMS);
  for (const e of ENUMS) {
    if (ctx.dialect.createEnum(e).length && !enums.has(e.name)) {
      differences.unshift({ table: e.name, object: null, kind: 'missing_enum', expected: `enum (${e.values.join(', ')})`, actual: 'absent' });
    }
  }
  return differences;
}
