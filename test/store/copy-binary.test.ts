import fc from 'fast-check';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type BinaryColumnType, CopyBinaryDecoder } from '../../src/store/postgres/copy-binary.js';
import { PG_ADMIN_URL, postgresAvailable } from '../support/postgres.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

const TYPES: BinaryColumnType[] = ['uuid', 'bool', 'float8', 'int4', 'text', 'key'];

/** PostgreSQL's binary COPY encoding of rows (written from the format's documentation). */
function encode(rows: unknown[][], types: BinaryColumnType[]): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(types.length);
    parts.push(count);
    types.forEach((type, i) => {
      const v = row[i];
      let data: Buffer | null = null;
      if (v !== null) {
        if (type === 'uuid') data = Buffer.from(String(v).replace(/-/g, ''), 'hex');
        else if (type === 'bool') data = Buffer.from([v ? 1 : 0]);
        else if (type === 'float8') (data = Buffer.alloc(8)).writeDoubleBE(v as number);
        else if (type === 'int4') (data = Buffer.alloc(4)).writeInt32BE(v as number);
        else data = Buffer.from(String(v), 'utf8');
      }
      const length = Buffer.alloc(4);
      length.writeInt32BE(data === null ? -1 : data.length);
      parts.push(length);
      if (data) parts.push(data);
    });
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

const rowArb = fc.tuple(
  fc.option(fc.uuid().map((u) => u.toLowerCase()), { nil: null }),
  fc.option(fc.boolean(), { nil: null }),
  fc.option(fc.double({ noNaN: true }), { nil: null }),
  fc.option(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { nil: null }),
  fc.option(fc.string({ unit: 'binary', maxLength: 12 }), { nil: null }),
  fc.option(fc.constantFrom('', 'k', 'concept-7', 'ü-ключ', '0a1b2c3d-0000-4000-8000-00000000000f'), { nil: null }),
);

describe('CopyBinaryDecoder', () => {
  it('decodes rows split across chunks at any byte (property)', () => {
    fc.assert(
      fc.property(
        fc.array(rowArb, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 64 }),
        (rows, cuts, headBytes) => {
          // Arrange: the encoding, cut into chunks of the drawn sizes (the last takes the rest);
          // a small head makes a cut row need several tries to join.
          const bytes = encode(rows, TYPES);
          const decoder = new CopyBinaryDecoder(TYPES, headBytes);
          const out: unknown[][] = [];
          let at = 0;
          // Act
          for (const size of cuts) {
            if (at >= bytes.length) break;
            out.push(...decoder.push(bytes.subarray(at, at + size)));
            at += size;
          }
          if (at < bytes.length) out.push(...decoder.push(bytes.subarray(at)));
          decoder.finish();
          // Assert
          expect(out).toEqual(rows);
        },
      ),
    );
  });

  it('refuses a stream that ends inside a row or is not binary COPY', () => {
    const bytes = encode([['0a1b2c3d-0000-4000-8000-00000000000f', true, 1.5, 7, 'x', 'k']], TYPES);
    const cut = new CopyBinaryDecoder(TYPES);
    cut.push(bytes.subarray(0, bytes.length - 5));
    expect(() => cut.finish()).toThrow(/ended inside a row/);
    expect(() => new CopyBinaryDecoder(TYPES).push(Buffer.from('a\tb\nc\td\n0123456789abcdef'))).toThrow(/not in the binary format/);
    expect(() => new CopyBinaryDecoder(['int4']).push(bytes)).toThrow(/6 fields, expected 1/);
  });

  it('reads what PostgreSQL itself writes', async (context) => {
    if (!(await postgresAvailable())) return context.skip();
    const { to } = await import('pg-copy-streams');
    const client = new pg.Client({ connectionString: PG_ADMIN_URL });
    await client.connect();
    try {
      const sql = `SELECT * FROM (VALUES
        ('0a1b2c3d-0000-4000-8000-00000000000f'::uuid, true, 1.25::float8, 42::int4, 'héllo'::text, 'k'::text),
        ('0a1b2c3d-0000-4000-8000-00000000000f'::uuid, false, -0.5::float8, -7::int4, NULL::text, 'k'::text),
        (NULL::uuid, NULL::bool, NULL::float8, NULL::int4, '', NULL::text)) v`;
      const decoder = new CopyBinaryDecoder(TYPES);
      const rows: unknown[][] = [];
      for await (const chunk of client.query(to(`COPY (${sql}) TO STDOUT (FORMAT binary)`)) as AsyncIterable<Buffer>) rows.push(...decoder.push(chunk));
      decoder.finish();
      expect(rows).toEqual([
        ['0a1b2c3d-0000-4000-8000-00000000000f', true, 1.25, 42, 'héllo', 'k'],
        ['0a1b2c3d-0000-4000-8000-00000000000f', false, -0.5, -7, null, 'k'],
        [null, null, null, null, '', null],
      ]);
    } finally {
      await client.end();
    }
  });
});
