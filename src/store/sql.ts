/**
 * The minimal SQL surface the shared store (sql-store.ts and the modules it composes) needs from
 * a backend. SQL text is written once with `?` placeholders; each driver translates what its
 * database needs. This layer imports no backend: the backends import it.
 */
import type { LiveTable, LogicalType, TableDef, EnumDef } from './schema.js';
import type { SnapshotConcepts } from './snapshot-concepts.js';

/**
 * The type of a selected column in a typed bulk read (BulkReadOptions.binaryTypes). 'key' is text
 * of few distinct values (ids): a backend may decode each distinct value once and return the same
 * string after (PostgreSQL's binary COPY decoder does); memory grows with the distinct values.
 */
export type BulkColumnType = 'bool' | 'int4' | 'float8' | 'uuid' | 'text' | 'key';

export type SqlValue = string | number | boolean | null | bigint | string[] | Buffer;
export type Row = Record<string, unknown>;

export interface BulkReadOptions {
  /**
   * Memory the database may give the read's hash joins, e.g. '64MB' (PostgreSQL's work_mem, set
   * for this read only; the default 4MB makes a join of 400 k answers spill to disk in batches).
   * SQLite has no such setting and ignores it.
   */
  joinMemory?: string;
  /**
   * PostgreSQL: plan the read's joins as merge joins of index scans (enable_hashjoin and
   * enable_sort off for this read only), so that rows flow from the start instead of after a
   * hash table of one side is built, and a part by key range scans only its range. Only for a
   * read whose every join is on the leading columns of a btree index on both sides (see
   * Dialect.leadingIndexSql): without one the planner would fall back to nested loops.
   */
  mergeJoin?: boolean;
  /**
   * PostgreSQL: the type of each selected column, to read the rows in COPY's binary format
   * (each expression must have exactly that type: cast it). SQLite ignores it.
   */
  binaryTypes?: readonly BulkColumnType[];
  /**
   * SQLite: read in ranges of a rowid table's rowids, each range fetched as one JSON array
   * (json_group_array) and parsed at once: 40% less time than stepping through the rows one
   * by one in better-sqlite3. `column` is the select-list alias of that table's rowid (not
   * returned); every other column needs a unique name. PostgreSQL ignores it.
   */
  rowidChunks?: {
    table: string;
    column: string;
    /** Threads reading chunks at once, this one included: 0 (default) chooses by size and cores, 1 = this thread only. */
    workers?: number;
    /** Rowids per chunk (default 8192, about 0.8 MB of JSON for an attempts row). */
    rowidsPerChunk?: number;
  };
}

/** Statements that run inside a transaction (or on the connection outside one). */
export interface SqlExecutor {
  /** Rows as objects keyed by column name. */
  query<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Rows as arrays in select-list order (faster for large reads). */
  queryArrays(sql: string, params?: readonly SqlValue[]): Promise<unknown[][]>;
  /** A statement without rows; returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /**
   * Insert many rows into one table. PostgreSQL: COPY FROM STDIN (pg-copy-streams); SQLite: one
   * prepared INSERT run per row (the caller's transaction makes it fast). Values as bkt writes
   * them: strings (uuid, ISO time, JSON text), numbers, booleans, null.
   */
  bulkInsert(table: string, columns: readonly string[], rows: Iterable<readonly SqlValue[]>): Promise<number>;
}

/** The statements of one transaction (SqlDriver.transaction). */
export interface TransactionExecutor extends SqlExecutor {
  /**
   * Queue a write whose result the transaction never reads, to run after every other statement of
   * the transaction, just before COMMIT; when it fails, the transaction fails and rolls back.
   * PostgreSQL sends the queued writes and COMMIT in one round trip (their parameters inlined as
   * literals of the text `pg` would have bound; a Buffer or text with a NUL character is bound
   * instead, each write then a round trip of its own); SQLite runs them before its COMMIT. Only
   * for writes no later statement of the same transaction depends on.
   */
  deferUntilCommit(sql: string, params?: readonly SqlValue[]): void;
  /**
   * Several statements in order, the rows of each. PostgreSQL sends them in one round trip (their
   * parameters inlined as in deferUntilCommit), each with its own snapshot as if sent alone; the
   * first that fails skips the rest and fails the call. SQLite runs them one by one.
   */
  queryBatch(statements: readonly { sql: string; params: readonly SqlValue[] }[]): Promise<Row[][]>;
}

/** A connection of its own, held outside transactions until released (see SqlDriver.reserveConnection). */
export interface ReservedConnection extends SqlExecutor {
  release(): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: Dialect;
  /**
   * Run `fn` in one transaction begun with `dialect.beginWrite`; commit when it resolves, roll
   * back and rethrow when it throws. Transactions of one driver never interleave. PostgreSQL
   * sends BEGIN in the round trip of the transaction's first statement.
   */
  transaction<T>(fn: (tx: TransactionExecutor) => Promise<T>): Promise<T>;
  /** Stream rows in constant memory. The caller must finish or break the loop. */
  iterate<T = Row>(sql: string, params?: readonly SqlValue[]): AsyncIterable<T>;
  /** Like iterate, rows as arrays in select-list order. */
  iterateArrays(sql: string, params?: readonly SqlValue[]): AsyncIterable<unknown[]>;
  /**
   * The fastest bulk read, in constant memory: each row is passed to `onRow` as an array, which
   * may be reused for the next row (copy what you keep); the iterable yields the number of rows
   * of each batch (a few thousand), so that several reads can be interleaved and a loop can stop
   * early. PostgreSQL runs `COPY (sql) TO STDOUT` with the parameters inlined as quoted literals:
   * in the text format values arrive as text (`t`/`f` booleans, numbers as digits, NULL as
   * null), with `binaryTypes` as JS values; SQLite gives its own values. Parameters must be
   * bkt-validated values (UUIDs, ISO times, numbers).
   */
  streamRows(sql: string, params: readonly SqlValue[], options: BulkReadOptions, onRow: (row: unknown[]) => void): AsyncIterable<number>;
  /**
   * A connection lent to the caller alone until it calls release(): session state set on it (a
   * session-level lock) lives exactly as long. PostgreSQL: a client taken from the pool; SQLite:
   * the driver's one connection (it has no session-level state bkt uses).
   */
  reserveConnection(): Promise<ReservedConnection>;
  /** What the live database has for each of the named tables that exists. */
  introspect(tables: readonly TableDef[]): Promise<Map<string, LiveTable>>;
  /** Names of enum types present (empty where the database has no enum types). */
  enumsPresent(enums: readonly EnumDef[]): Promise<Set<string>>;
  close(): Promise<void>;
}

/**
 * Where SQLite and PostgreSQL differ, as named fields (kysely's dialect idea). The shared store
 * reads these and never asks which database it talks to.
 */
export interface Dialect {
  readonly name: 'sqlite' | 'postgres';
  /** Statement that begins a write transaction. */
  readonly beginWrite: string;
  /** Suffix that locks selected rows until commit (empty where the transaction already holds the only write lock). */
  readonly forUpdate: string;
  /**
   * Statement taking a lock on a text key (one `?`) until the transaction ends: activation locks
   * its concept, migration the schema. Null where `beginWrite` already serialises writers.
   */
  readonly advisoryLockSql: string | null;
  /** Column type as written in CREATE TABLE. */
  columnType(type: LogicalType): string;
  /** Column type as the live catalogue reports it (what `check()` compares). */
  liveType(type: LogicalType): string;
  /** DEFAULT clause expression, or null when the database cannot express it (client generates). */
  defaultExpression(column: TableDef['columns'][number]): string | null;
  /** Statements creating the enum when missing (none where enums are CHECK constraints). */
  createEnum(def: EnumDef): string[];
  /** CHECK clause for a column of an enum type (SQLite), or null (PostgreSQL uses the type). */
  enumCheck(column: string, def: EnumDef): string | null;
  /** SQL text of a JSON column's text member: `snapshot_json->>'concept_id'`. */
  jsonText(column: string, key: string): string;
  /** SQL of a JSON column's member as JSON (array), decoded by `decodeJson`. */
  jsonMember(column: string, key: string): string;
  /**
   * A boolean SQL condition "expr is one of the n values", with its placeholders, and how to
   * bind the values (PostgreSQL binds one array; SQLite one placeholder each).
   */
  inList(expr: string, values: readonly string[]): { sql: string; params: SqlValue[] };
  /**
   * Condition "(a, b) is one of the pairs" over two UUID columns, with its placeholders.
   * PostgreSQL binds two arrays (one statement shape whatever the count) and unnests them;
   * SQLite compares row values with a VALUES list (one placeholder per id).
   */
  uuidPairIn(a: string, b: string, pairs: readonly (readonly [string, string])[]): { sql: string; params: SqlValue[] };
  /** Condition "the JSON array member holds one of the values, compared in lower case" (the values are lower-case). */
  jsonArrayContainsAny(column: string, key: string, values: readonly string[]): { sql: string; params: SqlValue[] };
  /**
   * SQL reading a timestamp column for bulk reads: epoch milliseconds (PostgreSQL, avoiding a
   * Date per row) or the stored ISO text (SQLite); `timestampMs` (src/data/parse-values.ts) decodes either.
   */
  epochMs(expr: string): string;
  /** `expr` with the type a binary read declares for it (PostgreSQL casts; SQLite has no such types). */
  typed(expr: string, type: BulkColumnType): string;
  /**
   * How many parts (by session id, each its own read on its own connection) the attempts read
   * is split into: PostgreSQL runs each part's join in its own server process; SQLite, 1 (its
   * rowid chunks already spread the work over threads).
   */
  readonly readPartitions: number;
  /**
   * SQL counting the valid btree indexes of table `?` whose first two columns are `?` and `?`,
   * in that order (BulkReadOptions.mergeJoin needs one on each side of the join), or null where
   * bulk reads take no join plan (SQLite).
   */
  readonly leadingIndexSql: string | null;
  /** Whether bulk reads go faster in rowid chunks (BulkReadOptions.rowidChunks): SQLite. */
  readonly rowidChunks: boolean;
  /** How readAttempts selects and decodes snapshot_json's concepts (src/store/snapshot-concepts.ts). */
  snapshotConcepts(column: string): SnapshotConcepts;
  /** A JSON column as its text (SQLite stores text; PostgreSQL casts jsonb to text, skipping a parse per row in the driver). */
  jsonAsText(expr: string): string;
  /**
   * Statement refreshing planner statistics after a bulk load, or null. PostgreSQL plans the
   * attempts join badly (nested loops over 400 k index probes) until the tables are analysed;
   * SQLite's planner needs no statistics for it.
   */
  analyzeSql(tables: readonly string[]): string | null;
  /** A bound boolean as the database stores it (SQLite 0/1). */
  bool(value: boolean): SqlValue;
  /**
   * Whether locking a state row that does not exist yet takes a placeholder row (inserted, then
   * locked, deleted before commit when nothing was written to it). PostgreSQL: yes, SELECT ... FOR
   * UPDATE locks only rows that exist, so two writers creating one state would both see none.
   * SQLite: no, BEGIN IMMEDIATE already holds the database's single write lock.
   */
  readonly placeholderLocks: boolean;
  /**
   * Statements run on the connection before reads that visit each row once (an export), or none.
   * SQLite: a small page cache and no memory map (the store opens with 128 MB of cache and a 1 GB
   * map for the repeated reads of fitting, whose touched pages count as this process's memory).
   */
  readonly singlePassReadSettings: readonly string[];
  /**
   * How a run's owner proves it is alive, where the database can: a lock that a session holds
   * until it releases it or its connection ends, so a killed process frees it at once. `acquire`
   * and `release` run on a reserved connection, `tryInTransaction` inside a write transaction
   * (true when free, and then held until the transaction ends); each takes the run's lock key (a
   * signed 64-bit integer as text). PostgreSQL: session advisory locks. Null for SQLite, which has
   * no lock that outlives a statement in another process: its runs record the owner's pid and host.
   */
  readonly runOwnerLock: { acquire: string; release: string; tryInTransaction: string } | null;
}

/** What every module of the shared store works with: the backend's driver, its dialect, and the `--db` to name in messages. */
export interface SqlContext {
  readonly driver: SqlDriver;
  readonly dialect: Dialect;
  /** The --db target with any password redacted. */
  readonly display: string;
}
