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
    // A U+FFFD may also be real text, so only a value holding one is re-read as bytes and checked;
    // every column of the row is (the query returns them all, read or not).
    let checker: import('better-sqlite3').Database | null = null;
    const textError = (value: unknown, column: number, row: number): InputError | null => {
      if (typeof value !== 'string' || !value.includes('\uFFFD')) return null;
      const name = columnNames[column];
      // A second connection: better-sqlite3 runs nothing else on one that is iterating.
      checker ??= new Database(path, { readonly: true, fileMustExist: true });
      const bytes = checker
        .prepare(`SELECT CAST("${name.replace(/"/g, '""')}" AS BLOB) FROM (${sql}) LIMIT 1 OFFSET ?`)
        .pluck()
        .get(row - 1);
      return bytes instanceof Uint8Array && !isUtf8Bytes(bytes, 0, bytes.length)
        ? new InputError(`${path} (${what}) row ${row}: column "${name}" is not valid UTF-8`, UTF8_HINT)
        : null;
    };
    /** The error for the first text value of the row that is not UTF-8, or null. */
    const rowTextError = (r: unknown[], row: number): InputError | null => {
      for (let column = 0; column < r.length; column++) {
        const error = textError(r[column], column, row);
        if (error !== null) return error;
      }
      return null;
    };
    let row = 0;
    try {
      for (const r of stmt.iterate() as Iterable<unknown[]>) {
        row++;
        const invalid = rowTextError(r, row);
        if (invalid !== null) {
          // A bad row: the sink throws, or rejects this row on its own.
          sink.rowsRead++;
          sink.badRow(invalid, row);
          continue;
        }
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
