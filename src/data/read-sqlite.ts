import { InputError } from '../errors.js';
import { UTF8_HINT, isUtf8Bytes } from './input-limits.js';
import type { RowSink } from './row-sink.js';
import type { SinkFactory } from './read-csv.js';

/** Default table read from a SQLite file when neither `table` nor `query` is given. */
export const DEFAULT_SQLITE_TABLE = 'attempts';

/**
 * Read attempts from a SQLite file (opened read-only) with better-sqlite3: every row of `table`
 * (default `attempts`), or the rows of `query`. Errors name the 1-based result row.
 * @throws InputError when the file is not SQLite, the table or a column is missing, the query
 *   fails or returns nothing, or a value is bad.
 */
export async function readSqlite(
  path: string,
  source: { table?: string; query?: string },
  makeSink: SinkFactory,
): Promise<RowSink> {
  const { default: Database } = await import('better-sqlite3');
  const table = source.table ?? DEFAULT_SQLITE_TABLE;
  const sql = source.query ?? `SELECT * FROM "${table.replace(/"/g, '""')}"`;
  const what = source.query !== undefined ? 'query' : `table "${table}"`;
  let db: import('better-sqlite3').Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (error) {
    throw new InputError(`cannot open ${path} as SQLite: ${(error as Error).message}`, 'Check the `input` path or pass `format`');
  }
  try {
    let stmt: import('better-sqlite3').Statement;
    try {
      stmt = db.prepare(sql);
    } catch (error) {
      const message = (error as Error).message;
      if (/no such table/i.test(message) && source.query === undefined) {
        const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table','view') ORDER BY name`).all() as { name: string }[])
          .map((t) => t.name)
          .join(', ');
        throw new InputError(`${path}: no table "${table}" (tables: ${tables || 'none'})`, 'Pass `table` NAME or `query` "SELECT ..."');
      }
      if (/not a database|file is encrypted/i.test(message)) {
        throw new InputError(`cannot open ${path} as SQLite: ${message}`, 'Check the `input` path or pass `format`');
      }
      throw new InputError(`${path}: the ${what} failed: ${message}`, 'Fix the `query` SQL');
    }
    if (!stmt.reader) throw new InputError(`${path}: the ${what} returns no rows (not a SELECT)`, 'Pass a SELECT with `query`');
    const sink = makeSink(
      stmt.columns().map((c) => c.name),
      `${path} (${what})`,
    );
    const ix = sink.index;
    const columnNames = stmt.columns().map((c) => c.name);
    stmt.raw(true);
    // better-sqlite3 decodes TEXT leniently (invalid bytes become U+FFFD, merging distinct ids).
    // A U+FFFD may also be real text, so only an id holding one is re-read as bytes and checked.
    let checker: import('better-sqlite3').Database | null = null;
    const checkText = (value: unknown, column: number, row: number): void => {
      if (column < 0 || typeof value !== 'string' || !value.includes('\uFFFD')) return;
      const name = columnNames[column];
      // A second connection: better-sqlite3 runs nothing else on one that is iterating.
      checker ??= new Database(path, { readonly: true, fileMustExist: true });
      const bytes = checker
        .prepare(`SELECT CAST("${name.replace(/"/g, '""')}" AS BLOB) FROM (${sql}) LIMIT 1 OFFSET ?`)
        .pluck()
        .get(row - 1);
      if (bytes instanceof Uint8Array && !isUtf8Bytes(bytes, 0, bytes.length)) {
        throw new InputError(`${path} (${what}) row ${row}: column "${name}" is not valid UTF-8`, UTF8_HINT);
      }
    };
    let row = 0;
    try {
      for (const r of stmt.iterate() as Iterable<unknown[]>) {
        row++;
        checkText(r[ix.user], ix.user, row);
        checkText(r[ix.concept], ix.concept, row);
        checkText(r[ix.question], ix.question, row);
        sink.addValues(
          r[ix.user],
          r[ix.concept],
          r[ix.correct],
          ix.time >= 0 ? r[ix.time] : null,
          ix.order >= 0 ? r[ix.order] : null,
          ix.question >= 0 ? r[ix.question] : null,
          row,
          false,
          sink.classColumns.length > 0 ? sink.classColumns.map((c) => r[c.index]) : undefined,
          sink.extraIndex >= 0 ? r[sink.extraIndex] : null,
        );
      }
    } catch (error) {
      if (error instanceof InputError) throw error;
      throw new InputError(`${path}: reading the ${what} failed at row ${row + 1}: ${(error as Error).message}`, 'Check the database file');
    } finally {
      (checker as import('better-sqlite3').Database | null)?.close();
    }
    if (row === 0) throw new InputError(`${path}: the ${what} has no rows`, 'Give a table or query with at least one attempt');
    return sink;
  } finally {
    db.close();
  }
}
