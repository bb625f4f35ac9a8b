import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { writeColumnChunks, type ColumnChunk } from '../../src/export/column-writers.js';
import type { ColumnSpec, ExportFormat } from '../../src/export/columns.js';
import { writeRows, type Row } from '../../src/export/writers.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

async function capture(write: (out: PassThrough) => Promise<number>): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  await write(out);
  out.end();
  await new Promise((r) => out.on('end', r));
  return Buffer.concat(chunks);
}

function toChunks(rows: Row[], columns: readonly ColumnSpec[], size: number): ColumnChunk[] {
  const chunks: ColumnChunk[] = [];
  for (let from = 0; from < rows.length; from += size) {
    const part = rows.slice(from, from + size);
    chunks.push({ length: part.length, columns: columns.map((c) => part.map((r) => r[c.name])) });
  }
  return chunks;
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

const COLUMNS: ColumnSpec[] = [
  { name: 'id', type: 'text', nullable: true },
  { name: 'p', type: 'float', nullable: true },
  { name: 'n', type: 'int', nullable: true },
  { name: 'ok', type: 'bool', nullable: true },
  { name: 'at', type: 'timestamp', nullable: true },
];
const row = fc.record({
  id: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
  p: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
  n: fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: null }),
  ok: fc.option(fc.boolean(), { nil: null }),
  at: fc.option(fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms)), { nil: null }),
});

describe('writeColumnChunks', () => {
  it.each(['csv', 'ndjson', 'json'] as ExportFormat[])('writes %s byte for byte as writeRows does for the same rows', async (format) => {
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 30 }), fc.integer({ min: 1, max: 7 }), async (rows, size) => {
        // Act
        const expected = await capture((out) => writeRows(iterate(rows), COLUMNS, format, out));
        const actual = await capture((out) => writeColumnChunks(iterate(toChunks(rows, COLUMNS, size)), COLUMNS, format, out));
        // Assert
        expect(actual.toString()).toBe(expected.toString());
      }),
      { seed, numRuns: 60 },
    );
  });

  it('reads NaN in a float column (a Float64Array) as null in every format', async () => {
    const columns: ColumnSpec[] = [{ name: 'p', type: 'float', nullable: true }];
    const chunk = { length: 3, columns: [Float64Array.from([0.25, Number.NaN, 1])] };
    const text = async (format: ExportFormat) => (await capture((out) => writeColumnChunks(iterate([chunk]), columns, format, out))).toString();
    expect(await text('csv')).toBe('p\n0.25\n\n1\n');
    expect(await text('ndjson')).toBe('{"p":0.25}\n{"p":null}\n{"p":1}\n');
    const arrow = tableFromIPC(await capture((out) => writeColumnChunks(iterate([chunk]), columns, 'arrow', out)));
    expect([0, 1, 2].map((i) => arrow.getChild('p')!.get(i))).toEqual([0.25, null, 1]);
    const bytes = await capture((out) => writeColumnChunks(iterate([chunk]), columns, 'parquet', out));
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
    expect(rows.map((r) => r.p)).toEqual([0.25, null, 1]);
  });
});
