/** The part of better-sqlite3 bkt uses (kysely's SqliteDatabase idea: type the surface, not the driver). */
export interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  columns(): { name: string }[];
  pluck(toggle?: boolean): SqliteStatement;
  run(...params: unknown[]): { changes: number };
  iterate(...params: unknown[]): IterableIterator<unknown>;
  raw(toggle?: boolean): SqliteStatement;
}
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
  pragma(sql: string): unknown;
  close(): unknown;
  readonly inTransaction: boolean;
  /** The file ('' for a temporary database, ':memory:' for an in-memory one). */
  readonly name: string;
}
