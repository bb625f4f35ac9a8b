import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BktError, StorageError } from '../../errors.js';
import { TABLES, quoteIdent, type EnumDef, type LiveTable, type TableDef } from '../schema.js';
import type { BulkReadOptions, ReservedConnection, Row, SqlDriver, SqlExecutor, SqlValue, TransactionExecutor } from '../sql.js';
import { SqlStore } from '../sql-store.js';
import type { DbTarget, OpenStoreOptions, Store } from '../store.js';
import { chooseChunkWorkers, readChunksShared } from './chunked-read.js';
import { sqliteDialect } from './sqlite-dialect.js';
import { introspectSqlite, sqliteEnumsPresent } from './sqlite-schema.js';
import type { SqliteDatabase, SqliteStatement } from './sqlite-types.js';

/** Rowids per chunk of a chunked read (about 0.8 MB of JSON for an attempts row). */
const ROWID_CHUNK = 8192;

/** How long a writer waits for another process's write lock before failing (ms). */
export const SQLITE_BUSY_TIMEOUT_MS = 30_000;

/**
 * SQLite driver over one better-sqlite3 connection. better-sqlite3 is synchronous; the async
 * surface keeps one Store interface for both backends. Transactions of one driver are queued
 * (a promise chain), because an async callback could otherwise interleave two on one connection.
 */
export class SqliteDriver implements SqlDriver {
  readonly dialect = sqliteDialect;
  private readonly statements = new Map<string, SqliteStatement>();
  private readonly rawStatements = new Map<string, SqliteStatement>();
  /**
   * Transactions queue per database file, shared by every driver of this process: better-sqlite3
   * is synchronous, so a second connection waiting in busy_timeout would block the very thread
   * that must finish the first transaction. Other processes wait in busy_timeout instead.
   */
  private static readonly queues = new Map<string, { tail: Promise<unknown> }>();
  private readonly queue: { tail: Promise<unknown> };

  constructor(
    private readonly db: SqliteDatabase,
    private readonly display: string,
    fileKey: string = display,
  ) {
    let queue = SqliteDriver.queues.get(fileKey);
    if (!queue) {
      queue = { tail: Promise.resolve() };
      SqliteDriver.queues.set(fileKey, queue);
    }
    this.queue = queue;
  }

  private statement(sql: string, raw = false): SqliteStatement {
    const cache = raw ? this.rawStatements : this.statements;
    let s = cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      if (raw) s.raw(true);
      cache.set(sql, s);
    }
    return s;
  }

  private wrap(error: unknown): never {
    if (error instanceof BktError) throw error;
    const message = (error as Error).message ?? String(error);
    if (/SQLITE_BUSY|database is locked/i.test(message) || (error as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StorageError(`${this.display}: database is locked by another process`, 'Retry when the other bkt command has finished', error);
    }
    throw new StorageError(`${this.display}: ${message}`, undefined, error);
  }

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      return this.statement(sql).all(...params) as T[];
    } catch (e) {
      this.wrap(e);
    }
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    try {
      return this.statement(sql, true).all(...params) as unknown[][];
    } catch (e) {
      this.wrap(e);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    try {
      return this.statement(sql).run(...params).changes;
    } catch (e) {
      this.wrap(e);
    }
  }

  async bulkInsert(table: string, columns: readonly string[], rows: Iterable<readonly SqlValue[]>): Promise<number> {
    try {
      const insert = this.db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      let n = 0;
      for (const row of rows) {
        insert.run(...row);
        n++;
      }
      return n;
    } catch (e) {
      this.wrap(e);
    }
  }

  async transaction<T>(fn: (tx: TransactionExecutor) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      try {
        this.db.exec(this.dialect.beginWrite);
      } catch (e) {
        this.wrap(e);
      }
      const deferred: [string, readonly SqlValue[]][] = [];
      const tx: TransactionExecutor = {
        query: (sql, params) => this.query(sql, params),
        queryArrays: (sql, params) => this.queryArrays(sql, params),
        run: (sql, params) => this.run(sql, params),
        bulkInsert: (table, columns, rows) => this.bulkInsert(table, columns, rows),
        deferUntilCommit: (sql, params = []) => void deferred.push([sql, params]),
        queryBatch: async (statements) => {
          const results: Row[][] = [];
          for (const s of statements) results.push(await this.query(s.sql, s.params));
          return results;
        },
      };
      try {
        const result = await fn(tx);
        for (const [sql, params] of deferred) await this.run(sql, params);
        this.db.exec('COMMIT');
        return result;
      } catch (e) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        throw e;
      }
    };
    const next = this.queue.tail.then(run, run);
    this.queue.tail = next.catch(() => undefined);
    return next;
  }

  async *iterate<T = Row>(sql: string, params: readonly SqlValue[] = []): AsyncIterable<T> {
    let it: IterableIterator<unknown>;
    try {
      it = this.db.prepare(sql).iterate(...params);
    } catch (e) {
      this.wrap(e);
    }
    for (const row of it) yield row as T;
  }

  async *iterateArrays(sql: string, params: readonly SqlValue[] = []): AsyncIterable<unknown[]> {
    let it: IterableIterator<unknown>;
    try {
      it = this.db.prepare(sql).raw(true).iterate(...params);
    } catch (e) {
      this.wrap(e);
    }
    for (const row of it) yield row as unknown[];
  }

  async *streamRows(sql: string, params: readonly SqlValue[], options: BulkReadOptions, onRow: (row: unknown[]) => void): AsyncIterable<number> {
    if (options.rowidChunks) {
      for await (const columns of this.iterateRowidChunks(sql, params, options.rowidChunks)) {
        const rows = columns[0].length;
        const row = new Array<unknown>(columns.length);
        for (let i = 0; i < rows; i++) {
          for (let c = 0; c < columns.length; c++) row[c] = columns[c][i];
          onRow(row);
        }
        yield rows;
      }
      return;
    }
    let it: IterableIterator<unknown>;
    try {
      it = this.db.prepare(sql).raw(true).iterate(...params);
    } catch (e) {
      this.wrap(e);
    }
    let count = 0;
    for (const row of it) {
      onRow(row as unknown[]);
      if (++count === 8192) {
        yield count;
        count = 0;
      }
    }
    if (count) yield count;
  }

  /**
   * See BulkReadOptions.rowidChunks. In this thread the chunks are read in one transaction (every
   * chunk sees the same database), taking its turn in this file's transaction queue so that no
   * write transaction of this process starts inside it. Large reads of a file, outside any
   * transaction, run the chunks on worker threads' read-only connections instead (each worker
   * one read transaction) while this thread parses.
   */
  private async *iterateRowidChunks(sql: string, params: readonly SqlValue[], chunks: NonNullable<BulkReadOptions['rowidChunks']>): AsyncIterable<unknown[][]> {
    let release!: () => void;
    const turn = this.queue.tail;
    this.queue.tail = turn.then(() => new Promise<void>((resolve) => (release = resolve)));
    await turn;
    const own = !this.db.inTransaction;
    try {
      let chunkSql: string;
      const ranges: [number, number][] = [];
      try {
        if (own) this.db.exec('BEGIN');
        const column = quoteIdent(chunks.column);
        const columns = this.db
          .prepare(sql)
          .columns()
          .map((c) => c.name)
          .filter((name) => name !== chunks.column);
        // One JSON array per column, not one per row: JSON.parse makes 5 arrays per chunk instead
        // of 8,192 (half the parse time, and less garbage), for a little more SQLite time, which
        // the worker threads share.
        chunkSql = `SELECT json_array(${columns.map((c) => `json_group_array(${quoteIdent(c)})`).join(', ')}) FROM (${sql}) WHERE ${column} >= ? AND ${column} < ?`;
        const [first, last] = this.db.prepare(`SELECT min(rowid), max(rowid) FROM ${chunks.table}`).raw(true).get() as [number | null, number];
        const step = chunks.rowidsPerChunk ?? ROWID_CHUNK;
        if (first !== null) for (let from = first; from <= last; from += step) ranges.push([from, from + step]);
      } catch (e) {
        this.wrap(e);
      }
      const file = this.db.name;
      // Workers read what is committed: not from inside a transaction, nor from a database without a file.
      const workers = own && file !== '' && file !== ':memory:' ? chooseChunkWorkers(chunks.workers ?? 0, ranges.length) : 0;
      const chunk = this.db.prepare(chunkSql).pluck();
      const readHere = ([from, to]: [number, number]) => chunk.get(...params, from, to) as string;
      try {
        for await (const json of readChunksShared(readHere, file, chunkSql, [...params], ranges, workers)) {
          const columns = JSON.parse(json) as unknown[][];
          if (columns[0].length) yield columns;
        }
      } catch (e) {
        this.wrap(e);
      }
    } finally {
      // Reads only: ending early (an abandoned loop, an error) loses nothing.
      if (own && this.db.inTransaction) this.db.exec('COMMIT');
      release();
    }
  }

  /** The one connection: SQLite keeps no session state bkt relies on, so there is nothing to hold apart. */
  async reserveConnection(): Promise<ReservedConnection> {
    return {
      query: (sql, params) => this.query(sql, params),
      queryArrays: (sql, params) => this.queryArrays(sql, params),
      run: (sql, params) => this.run(sql, params),
      bulkInsert: (table, columns, rows) => this.bulkInsert(table, columns, rows),
      release: async () => undefined,
    };
  }

  async introspect(tables: readonly TableDef[]): Promise<Map<string, LiveTable>> {
    return introspectSqlite(this.db, tables);
  }

  async enumsPresent(enums: readonly EnumDef[]): Promise<Set<string>> {
    return sqliteEnumsPresent(enums);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Page size of a new SQLite file (see openSqliteStore). */
export const SQLITE_PAGE_SIZE = 16_384;

/** Open (mode `migrate`: create) the SQLite file and return a Store over it. */
export async function openSqliteStore(target: DbTarget, options: OpenStoreOptions = {}): Promise<Store> {
  const mode = options.mode ?? 'use';
  const path = target.location;
  if (mode !== 'migrate' && path !== ':memory:' && !existsSync(path)) {
    throw new StorageError(`no database at ${path}`, `Run "bkt db migrate --db ${path}" to create it, or pass \`db\``);
  }
  let db: SqliteDatabase;
  try {
    const { default: Database } = await import('better-sqlite3');
    db = new Database(path) as unknown as SqliteDatabase;
    // A new file gets 16 KB pages (SQLite's default is 4 KB): the attempts read probes two
    // UUID-keyed indexes per answer, and shallower B-trees read 8-10% faster. An existing file
    // keeps its page size (this is a no-op once it has tables; it must come before WAL).
    db.pragma(`page_size = ${SQLITE_PAGE_SIZE}`);
    db.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    db.pragma('foreign_keys = ON');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Imports touch several random-key indexes at once; the 2 MB default cache thrashes on them.
    db.pragma('cache_size = -131072');
    // Reading attempts probes two random-key indexes per answer; memory-mapped pages cut ~25%.
    db.pragma('mmap_size = 1073741824');
  } catch (e) {
    throw new StorageError(`cannot open SQLite database ${path}: ${(e as Error).message}`, 'Check the `db` path and its permissions', e);
  }
  const driver = new SqliteDriver(db, path, path === ':memory:' ? `:memory:${Math.random()}` : resolve(path));
  if (mode === 'use') {
    const present = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name),
    );
    const missing = TABLES.filter((t) => !present.has(t.name)).map((t) => t.name);
    if (missing.length) {
      db.close();
      throw new StorageError(`${path}: missing table(s) ${missing.join(', ')}`, `Run "bkt db migrate --db ${path}" first`);
    }
  }
  return new SqlStore(driver, target.display);
}
