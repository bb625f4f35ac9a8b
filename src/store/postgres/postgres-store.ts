import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BktError, StorageError, redactConnectionString } from '../../errors.js';
import { TABLES, type EnumDef, type LiveTable, type TableDef } from '../schema.js';
import { CopyBinaryDecoder } from './copy-binary.js';
import { CopyOutQuery } from './copy-out.js';
import { CopyTextLines, copyText, inlineBoundParameters, toNumberedPlaceholders, type PgLiteralTools } from './copy-text.js';
import type { BulkReadOptions, ReservedConnection, Row, SqlDriver, SqlExecutor, SqlValue, TransactionExecutor } from '../sql.js';
import { SqlStore } from '../sql-store.js';
import type { DbTarget, OpenStoreOptions, Store } from '../store.js';
import { postgresDialect } from './postgres-dialect.js';
import { introspectPostgres, postgresEnumsPresent } from './postgres-schema.js';
import type { PgClient, PgPool, PgQueryable } from './postgres-types.js';

class PgExecutor implements SqlExecutor {
  constructor(
    protected readonly db: PgQueryable,
    protected readonly display: string,
  ) {}

  protected wrap(error: unknown): never {
    if (error instanceof BktError) throw error;
    const e = error as Error & { code?: string };
    throw new StorageError(`${this.display}: ${e.message}${e.code ? ` (SQLSTATE ${e.code})` : ''}`, undefined, error);
  }

  async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    try {
      return (await this.db.query(toNumberedPlaceholders(sql), params as unknown[])).rows as T[];
    } catch (e) {
      this.wrap(e);
    }
  }

  async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    try {
      return (await this.db.query({ text: toNumberedPlaceholders(sql), values: params, rowMode: 'array' })).rows;
    } catch (e) {
      this.wrap(e);
    }
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    try {
      return (await this.db.query(toNumberedPlaceholders(sql), params as unknown[])).rowCount ?? 0;
    } catch (e) {
      this.wrap(e);
    }
  }

  /** COPY ... FROM STDIN in text format (pg-copy-streams): ~1 M rows/s here (STACK.md). */
  async bulkInsert(table: string, columns: readonly string[], rows: Iterable<readonly SqlValue[]>): Promise<number> {
    const { from } = await import('pg-copy-streams');
    let n = 0;
    function* chunks() {
      let buffer = '';
      for (const row of rows) {
        buffer += row.map(copyText).join('\t') + '\n';
        n++;
        if (buffer.length > 1 << 16) {
          yield buffer;
          buffer = '';
        }
      }
      if (buffer) yield buffer;
    }
    try {
      const stream = this.db.query(from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
      await pipeline(Readable.from(chunks()), stream);
    } catch (e) {
      this.wrap(e);
    }
    return n;
  }
}

/**
 * One transaction on its client, in fewer round trips: each costs more than the statement itself
 * on a busy machine (the service, the server and the clients share the cores, so every wait for
 * an answer is a trip through the scheduler). BEGIN goes in one simple-protocol query with the
 * first statement, and the deferred writes go in one with COMMIT, their parameters inlined as
 * literals of the text `pg` would have bound (inlineBoundParameters, with pg's own prepareValue
 * and escapeLiteral); a statement with a parameter that has no such literal is bound and sent
 * alone instead. Statements of one simple query run in order, each with its own snapshot as if
 * sent alone, and the first that fails skips the rest.
 */
class PgTransaction extends PgExecutor implements TransactionExecutor {
  /** Whether BEGIN was sent: from then on, a failure needs a ROLLBACK. */
  begun = false;
  private readonly deferred: { sql: string; params: readonly SqlValue[] }[] = [];

  constructor(
    private readonly client: PgClient,
    display: string,
    private readonly literals: PgLiteralTools,
  ) {
    super(client, display);
  }

  private inline(sql: string, params: readonly SqlValue[]): string | null {
    return inlineBoundParameters(sql, params, this.literals);
  }

  /** The first statement with BEGIN in one round trip, its result; null when its parameters cannot be inlined (BEGIN was sent alone). */
  private async beginWith(sql: string, params: readonly SqlValue[]): Promise<{ rows: unknown[]; rowCount: number | null } | null> {
    const inlined = this.inline(sql, params);
    this.begun = true;
    try {
      if (inlined === null) {
        await this.client.query(postgresDialect.beginWrite);
        return null;
      }
      const results = await this.client.query(`${postgresDialect.beginWrite};\n${inlined}`);
      return results[1];
    } catch (e) {
      this.wrap(e);
    }
  }

  private async begin(): Promise<void> {
    if (this.begun) return;
    this.begun = true;
    try {
      await this.client.query(postgresDialect.beginWrite);
    } catch (e) {
      this.wrap(e);
    }
  }

  override async query<T = Row>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    if (!this.begun) {
      const first = await this.beginWith(sql, params);
      if (first) return first.rows as T[];
    }
    return super.query(sql, params);
  }

  override async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
    if (!this.begun) {
      const first = await this.beginWith(sql, params);
      if (first) return first.rowCount ?? 0;
    }
    return super.run(sql, params);
  }

  override async queryArrays(sql: string, params: readonly SqlValue[] = []): Promise<unknown[][]> {
    await this.begin();
    return super.queryArrays(sql, params);
  }

  override async bulkInsert(table: string, columns: readonly string[], rows: Iterable<readonly SqlValue[]>): Promise<number> {
    await this.begin();
    return super.bulkInsert(table, columns, rows);
  }

  async queryBatch(statements: readonly { sql: string; params: readonly SqlValue[] }[]): Promise<Row[][]> {
    const inlined = statements.map((s) => this.inline(s.sql, s.params));
    if (statements.length < 2 || inlined.includes(null)) {
      const results: Row[][] = [];
      for (const s of statements) results.push(await this.query(s.sql, s.params));
      return results;
    }
    const prefix = this.begun ? [] : [postgresDialect.beginWrite];
    this.begun = true;
    try {
      const results = (await this.client.query([...prefix, ...inlined].join(';\n'))) as { rows: Row[] }[];
      return results.slice(prefix.length).map((r) => r.rows);
    } catch (e) {
      this.wrap(e);
    }
  }

  deferUntilCommit(sql: string, params: readonly SqlValue[] = []): void {
    this.deferred.push({ sql, params });
  }

  /**
   * The deferred writes and COMMIT (and BEGIN, when no statement ran yet) in one round trip;
   * nothing when the transaction ran nothing. When a deferred write cannot be inlined, each is
   * bound and run in turn, then COMMIT.
   */
  async commit(): Promise<void> {
    if (!this.begun && this.deferred.length === 0) return;
    const deferred = this.deferred.splice(0);
    const inlined = deferred.map((s) => this.inline(s.sql, s.params));
    if (inlined.includes(null)) {
      for (const s of deferred) await this.run(s.sql, s.params);
      inlined.length = 0;
    }
    const statements = [...(this.begun ? [] : [postgresDialect.beginWrite]), ...inlined, 'COMMIT'];
    this.begun = true;
    try {
      await this.client.query(statements.join(';\n'));
    } catch (e) {
      this.wrap(e);
    }
  }
}

/** PostgreSQL driver over a `pg` pool; a transaction holds one client from BEGIN to COMMIT. */
export class PostgresDriver extends PgExecutor implements SqlDriver {
  readonly dialect = postgresDialect;

  constructor(
    private readonly pool: PgPool,
    display: string,
    private readonly literals: PgLiteralTools,
  ) {
    super(pool, display);
  }

  async transaction<T>(fn: (tx: TransactionExecutor) => Promise<T>): Promise<T> {
    let client: PgClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.wrap(e);
    }
    let broken = false;
    const tx = new PgTransaction(client, this.display, this.literals);
    try {
      const result = await fn(tx);
      await tx.commit();
      return result;
    } catch (e) {
      try {
        if (tx.begun) await client.query('ROLLBACK');
      } catch {
        broken = true;
      }
      // A failed BEGIN or COMMIT is a StorageError too (a BktError from fn passes unchanged).
      this.wrap(e);
    } finally {
      client.release(broken);
    }
  }

  iterate<T = Row>(sql: string, params: readonly SqlValue[] = []): AsyncIterable<T> {
    return this.stream(sql, params, undefined) as AsyncIterable<T>;
  }

  iterateArrays(sql: string, params: readonly SqlValue[] = []): AsyncIterable<unknown[]> {
    return this.stream(sql, params, 'array') as AsyncIterable<unknown[]>;
  }

  /** pg-query-stream over a cursor on a dedicated client: constant memory, released when the loop ends. */
  private async *stream(sql: string, params: readonly SqlValue[], rowMode: 'array' | undefined): AsyncIterable<unknown> {
    const { default: QueryStream } = await import('pg-query-stream');
    let client: PgClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.wrap(e);
    }
    const query = new QueryStream(toNumberedPlaceholders(sql), params as unknown[], { batchSize: 5000, rowMode } as never);
    const stream = client.query(query);
    let completed = false;
    try {
      for await (const row of stream as AsyncIterable<unknown>) yield row;
      completed = true;
    } catch (e) {
      this.wrap(e);
    } finally {
      stream.destroy?.();
      // A loop left early leaves the cursor open on this connection: discard it, not back to the pool.
      client.release(!completed);
    }
  }

  /**
   * COPY (query) TO STDOUT read off the socket (CopyOutQuery), in the binary format with
   * `binaryTypes`, else parsed line by line: about twice as fast as a cursor (STACK.md).
   */
  async *streamRows(sql: string, params: readonly SqlValue[], options: BulkReadOptions, onRow: (row: unknown[]) => void): AsyncIterable<number> {
    const memory = options.joinMemory;
    if (memory !== undefined && !/^\d+(kB|MB|GB)$/.test(memory)) throw new Error(`joinMemory "${memory}" is not a PostgreSQL memory size`);
    // COPY takes no parameters: they are inlined as the literals of what `pg` would have bound.
    const inlined = inlineBoundParameters(sql, params, this.literals);
    if (inlined === null) throw new Error('a COPY read cannot take a binary parameter or text with a NUL character');
    let client: PgClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.wrap(e);
    }
    const settings = [
      ...(memory !== undefined ? [`SET LOCAL work_mem = '${memory}'`] : []),
      ...(options.mergeJoin ? ['SET LOCAL enable_hashjoin = off', 'SET LOCAL enable_sort = off'] : []),
    ];
    if (memory !== undefined || options.mergeJoin) {
      try {
        // SET LOCAL: the settings end with this read's transaction, not with the pooled
        // connection. One round trip (the simple protocol takes several statements).
        await client.query(['BEGIN READ ONLY', ...settings].join('; '));
      } catch (e) {
        client.release(true);
        this.wrap(e);
      }
    }
    const binary = options.binaryTypes ? new CopyBinaryDecoder(options.binaryTypes) : null;
    if (binary) binary.onRow = onRow;
    const text = binary ? null : new CopyTextLines(onRow);
    const query = new CopyOutQuery(`COPY (${inlined}) TO STDOUT${binary ? ' (FORMAT binary)' : ''}`, binary ?? text!);
    let completed = false;
    try {
      client.query(query);
      for (let rows = await query.next(); rows !== null; rows = await query.next()) yield rows;
      if (binary) binary.finish();
      else {
        const last = text!.finish();
        if (last) yield last;
      }
      if (settings.length) await client.query('COMMIT');
      completed = true;
    } catch (e) {
      this.wrap(e);
    } finally {
      // A COPY abandoned midway leaves the connection in COPY state: discard it.
      if (!completed) query.abort();
      client.release(!completed);
    }
  }

  /** A client of the pool, kept out of it until released: a session lock on it lasts that long (or until this process dies). */
  async reserveConnection(): Promise<ReservedConnection> {
    let client: PgClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      this.wrap(e);
    }
    // A server that drops the connection while it is held must not crash the process.
    client.on('error', () => undefined);
    const executor = new PgExecutor(client, this.display);
    let released = false;
    return {
      query: (sql, params) => executor.query(sql, params),
      queryArrays: (sql, params) => executor.queryArrays(sql, params),
      run: (sql, params) => executor.run(sql, params),
      bulkInsert: (table, columns, rows) => executor.bulkInsert(table, columns, rows),
      release: async () => {
        if (released) return;
        released = true;
        client.release();
      },
    };
  }

  async introspect(tables: readonly TableDef[]): Promise<Map<string, LiveTable>> {
    try {
      return await introspectPostgres(this.pool, tables);
    } catch (e) {
      this.wrap(e);
    }
  }

  async enumsPresent(enums: readonly EnumDef[]): Promise<Set<string>> {
    try {
      return await postgresEnumsPresent(this.pool, enums);
    } catch (e) {
      this.wrap(e);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** host:port/database of a URL, for messages (never the password). */
export function describePostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch {
    return redactConnectionString(url);
  }
}

/**
 * Connect to the URL (user `postgres` when it names none: `$USER` is unset on these machines)
 * and check the connection with one round trip. StorageError (exit 5) when it fails.
 */
export async function openPostgresStore(target: DbTarget, options: OpenStoreOptions = {}): Promise<Store> {
  const { default: pg } = await import('pg');
  let connectionString = target.location;
  try {
    const u = new URL(connectionString);
    if (!u.username) {
      u.username = 'postgres';
      connectionString = u.toString();
    }
    if (!u.username) process.env.PGUSER ??= 'postgres';
  } catch {
    // pg reports an unparsable URL itself below.
  }
  const where = describePostgresUrl(target.location);
  let pool: PgPool;
  try {
    pool = new pg.Pool({ connectionString, max: options.poolSize ?? 4, connectionTimeoutMillis: 10_000 }) as unknown as PgPool;
  } catch (e) {
    throw new StorageError(`cannot use postgres URL ${target.display}: ${(e as Error).message}`, 'Check `db` or DATABASE_URL', e);
  }
  pool.on('error', () => {
    // An idle client lost its server; the next query reports it.
  });
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new StorageError(
      `cannot connect to postgres at ${where} (password hidden): ${(e as Error).message}`,
      'Check `db` or DATABASE_URL and that the server is running',
      e,
    );
  }
  const pgUtils = (pg as unknown as { utils: Pick<PgLiteralTools, 'prepareValue'> }).utils;
  const driver = new PostgresDriver(pool, target.display, { prepareValue: (v) => pgUtils.prepareValue(v), escapeLiteral: (t) => pg.escapeLiteral(t) });
  if ((options.mode ?? 'use') === 'use') {
    const present = await pool.query(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ANY($1)',
      [TABLES.map((t) => t.name)],
    );
    const have = new Set(present.rows.map((r: { table_name: string }) => r.table_name));
    const missing = TABLES.filter((t) => !have.has(t.name)).map((t) => t.name);
    if (missing.length) {
      await pool.end();
      throw new StorageError(`${where}: missing table(s) ${missing.join(', ')}`, `Run "bkt db migrate --db <url>" first`);
    }
  }
  return new SqlStore(driver, target.display);
}
