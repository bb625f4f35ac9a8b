/**
 * PostgreSQL statements sent several to a round trip carry their parameters inlined as literals
 * (copy-text.ts inlineBoundParameters). Every value must arrive exactly as the bound statement
 * would have received it, and a value without such a literal must be bound instead.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StorageError } from '../../src/errors.js';
import { boundLiteral, inlineBoundParameters, toNumberedPlaceholders, type PgLiteralTools } from '../../src/store/postgres/copy-text.js';
import type { SqlDriver, SqlValue } from '../../src/store/sql.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import { driverOf } from './backends.js';
import { createPostgresDatabase, postgresAvailable } from '../support/postgres.js';

const tools: PgLiteralTools = { prepareValue: (v) => (pg as unknown as { utils: PgLiteralTools }).utils.prepareValue(v), escapeLiteral: (t) => pg.escapeLiteral(t) };

describe('inlineBoundParameters', () => {
  it('quotes with pg.escapeLiteral the text pg.utils.prepareValue gives, NULL for null and undefined', () => {
    expect(boundLiteral(null, tools)).toBe('NULL');
    expect(boundLiteral(undefined, tools)).toBe('NULL');
    expect(boundLiteral(1.5, tools)).toBe("'1.5'");
    expect(boundLiteral(Number.NaN, tools)).toBe("'NaN'");
    expect(boundLiteral(true, tools)).toBe("'true'");
    expect(boundLiteral("a'b", tools)).toBe("'a''b'");
    expect(boundLiteral('a\\b', tools)).toBe(" E'a\\\\b'");
    expect(boundLiteral(['x', null], tools)).toBe(`'{"x",NULL}'`);
  });

  it('has no literal for a Buffer or text with a NUL character, nor for a statement whose placeholders and parameters differ in number', () => {
    expect(boundLiteral(Buffer.from('ab'), tools)).toBeNull();
    expect(boundLiteral('a\0b', tools)).toBeNull();
    expect(inlineBoundParameters('SELECT ?, ?', ['a'], tools)).toBeNull();
    expect(inlineBoundParameters('SELECT ?', ['a', 'b'], tools)).toBeNull();
    expect(inlineBoundParameters('SELECT ?', [Buffer.from('a')], tools)).toBeNull();
  });

  it('replaces only placeholders outside quotes, and never the text of an inlined value', () => {
    expect(inlineBoundParameters(`SELECT '?', "a?", $$?$$, '$1', ?, ?`, ['$2', '?'], tools)).toBe(`SELECT '?', "a?", $$?$$, '$1', '$2', '?'`);
    expect(inlineBoundParameters(`??$$ ? $$ ?'it''s ?'?`, [1, 2, 3, 4], tools)).toBe(`'1''2'$$ ? $$ '3''it''s ?''4'`);
    expect(inlineBoundParameters(`SELECT ? WHERE x = 'open ?`, ['a'], tools)).toBe(`SELECT 'a' WHERE x = 'open ?`);
    expect(toNumberedPlaceholders(`VALUES (?, ?), ("?", ?) $$?`)).toBe(`VALUES ($1, $2), ("?", $3) $$?`);
  });
});

describe('PostgreSQL: an inlined parameter arrives as the bound one', async () => {
  const pgOk = await postgresAvailable();
  let store: Store;
  let driver: SqlDriver;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    if (!pgOk) return;
    const created = await createPostgresDatabase();
    drop = created.drop;
    store = await openStore(created.db, { mode: 'migrate' });
    driver = driverOf(store);
    await driver.run('CREATE TABLE literal_probe (t text, b bytea)');
  });
  afterAll(async () => {
    await store?.close();
    await drop?.();
  });

  const cases: [string, SqlValue | Date][] = [
    ['text', null],
    ['text', ''],
    ['text', "it's \\ a ''key'' $1 ? E'x' \\x00 -- /* ;"],
    ['text', 'ünïcødé ☃ 𝄞\t\n\r'],
    ['float8', 0],
    ['float8', -1.5e-300],
    ['float8', Number.NaN],
    ['float8', Number.POSITIVE_INFINITY],
    ['float8', Number.NEGATIVE_INFINITY],
    ['numeric', 2n ** 70n],
    ['int8', -42],
    ['boolean', true],
    ['boolean', false],
    ['text[]', ['a', null as unknown as string, 'b"c\\d', "q'", '{x,y}']],
    ['timestamptz', new Date('2026-03-01T12:34:56.789Z')],
    ['uuid', '0000000A-0000-4000-8000-000000000001'],
  ];

  it.skipIf(!pgOk)('of every type bkt binds (text, numbers incl. NaN and Infinity, booleans, arrays, Dates)', async () => {
    for (const [type, value] of cases) {
      const statement = { sql: `SELECT (?::${type})::text AS v, ? AS untyped`, params: [value, value] as SqlValue[] };
      const bound = await driver.query(statement.sql, statement.params);
      // queryBatch inlines (two statements, one round trip).
      const [inlined] = await driver.transaction((tx) => tx.queryBatch([statement, { sql: 'SELECT 1', params: [] }]));
      expect(inlined, `${type} ${String(value)}`).toEqual(bound);
    }
  });

  it.skipIf(!pgOk)('a Buffer is bound instead, with the other deferred writes, before COMMIT', async () => {
    const bytes = Buffer.from([0, 1, 2, 0x27, 0x5c, 255]);
    await driver.transaction(async (tx) => {
      tx.deferUntilCommit('INSERT INTO literal_probe (t, b) VALUES (?, ?)', ['with bytes', bytes]);
      tx.deferUntilCommit('INSERT INTO literal_probe (t) VALUES (?)', ["plain 'text'"]);
      await tx.queryBatch([
        { sql: 'SELECT t FROM literal_probe WHERE b = ?', params: [bytes] },
        { sql: 'SELECT 1', params: [] },
      ]);
    });
    const rows = await driver.query<{ t: string; b: Buffer | null }>('SELECT t, b FROM literal_probe ORDER BY t DESC');
    expect(rows).toEqual([
      { t: 'with bytes', b: bytes },
      { t: "plain 'text'", b: null },
    ]);
  });

  it.skipIf(!pgOk)('text with a NUL character fails as bound (a StorageError), and the transaction rolls back', async () => {
    const before = await driver.query('SELECT count(*)::int AS n FROM literal_probe');
    await expect(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO literal_probe (t) VALUES (?)', ['kept only if committed']);
        tx.deferUntilCommit('INSERT INTO literal_probe (t) VALUES (?)', ['a\0b']);
      }),
    ).rejects.toBeInstanceOf(StorageError);
    expect(await driver.query('SELECT count(*)::int AS n FROM literal_probe')).toEqual(before);
  });
});
