import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { MASTERY_COLUMNS, type ColumnSpec } from '../../src/export/columns.js';
import { writeRows, type Row } from '../../src/export/writers.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

async function parquetBytes(rows: Row[], columns: readonly ColumnSpec[], chunkRows = 2): Promise<ArrayBuffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  async function* gen() {
    yield* rows;
  }
  const count = await writeRows(gen(), columns, 'parquet', out, { chunkRows });
  expect(count).toBe(rows.length);
  out.end();
  await new Promise((r) => out.on('end', r));
  const bytes = Buffer.concat(chunks);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const masteryRow: Row = {
  user_id: '11111111-1111-4111-8111-111111111111',
  concept_id: '22222222-2222-4222-8222-222222222222',
  p_mastery: 0.357142857142857,
  n_attempts: 1,
  last_attempt_at: new Date('2026-01-21T12:00:00.000Z'),
  last_seen_question_id: null,
  is_mastered: 0,
  algo_version_id: null,
  created_at: '2026-01-21T12:00:00.000Z',
  updated_at: '2026-01-21T12:00:01.000Z',
};

describe('writeRows: Parquet', () => {
  it('writes STRING, DOUBLE, INT32, BOOLEAN and TIMESTAMP_MILLIS columns, one row group per chunk, that read back', async () => {
    const rows = [masteryRow, { ...masteryRow, p_mastery: 0.96, is_mastered: true, n_attempts: 7 }, { ...masteryRow, last_attempt_at: null }];
    const file = await parquetBytes(rows, MASTERY_COLUMNS);
    const metadata = parquetMetadata(file);
    expect(metadata.row_groups.map((g) => Number(g.num_rows))).toEqual([2, 1]);
    const types = Object.fromEntries(parquetSchema(metadata).children.map((c) => [c.element.name, [c.element.type, c.element.converted_type ?? null, c.element.repetition_type]]));
    expect(types).toMatchObject({
      user_id: ['BYTE_ARRAY', 'UTF8', 'REQUIRED'],
      p_mastery: ['DOUBLE', null, 'REQUIRED'],
      n_attempts: ['INT32', null, 'REQUIRED'],
      is_mastered: ['BOOLEAN', null, 'REQUIRED'],
      last_attempt_at: ['INT64', 'TIMESTAMP_MILLIS', 'OPTIONAL'],
    });
    const back = await parquetReadObjects({ file });
    expect(back.map((r) => r.p_mastery)).toEqual([0.357142857142857, 0.96, 0.357142857142857]);
    expect(back.map((r) => r.is_mastered)).toEqual([false, true, false]);
    expect(back.map((r) => r.n_attempts)).toEqual([1, 7, 1]);
    expect((back[0].last_attempt_at as Date).toISOString()).toBe('2026-01-21T12:00:00.000Z');
    expect(back[2].last_attempt_at).toBeNull();
    expect((back[0].created_at as Date).toISOString()).toBe('2026-01-21T12:00:00.000Z');
  });

  it('writes an empty file that still carries the schema', async () => {
    const file = await parquetBytes([], MASTERY_COLUMNS);
    const metadata = parquetMetadata(file);
    expect(Number(metadata.num_rows)).toBe(0);
    expect(parquetSchema(metadata).children.map((c) => c.element.name)).toEqual(MASTERY_COLUMNS.map((c) => c.name));
  });

  it('round-trips any float and any text (or null) exactly', async () => {
    const columns: ColumnSpec[] = [
      { name: 'concept_id', type: 'text', nullable: true },
      { name: 'p', type: 'float', nullable: false },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ concept_id: fc.option(fc.string(), { nil: null }), p: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 20 }),
        async (rows) => {
          // Act
          const file = await parquetBytes(rows, columns, 3);
          // Assert
          const back = await parquetReadObjects({ file });
          expect(back.map((r) => r.p)).toEqual(rows.map((r) => r.p));
          expect(back.map((r) => r.concept_id)).toEqual(rows.map((r) => r.concept_id));
        },
      ),
      { seed, numRuns: 50 },
    );
  });
});
