import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tableFromIPC } from 'apache-arrow';
import { MASTERY_COLUMNS, PARAMS_COLUMNS, type ColumnSpec } from '../../src/export/columns.js';
import { writeRows, type Row } from '../../src/export/writers.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

async function collect(rows: Row[], columns: readonly ColumnSpec[], format: 'csv' | 'json' | 'ndjson' | 'arrow', chunkRows = 2) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  async function* gen() {
    yield* rows;
  }
  const count = await writeRows(gen(), columns, format, out, { chunkRows });
  out.end();
  await new Promise((r) => out.on('end', r));
  return { count, bytes: Buffer.concat(chunks) };
}

const u1 = '11111111-1111-4111-8111-111111111111';
const c1 = '22222222-2222-4222-8222-222222222222';
const masteryRow: Row = {
  user_id: u1,
  concept_id: c1,
  p_mastery: 0.357142857142857,
  n_attempts: 1,
  last_attempt_at: new Date('2026-01-21T12:00:00.000Z'),
  last_seen_question_id: null,
  is_mastered: 0,
  algo_version_id: null,
  created_at: '2026-01-21T12:00:00.000Z',
  updated_at: '2026-01-21T12:00:01.000Z',
};

describe('writeRows', () => {
  it('writes CSV with a header, ISO timestamps, empty nulls and true/false booleans', async () => {
    const { count, bytes } = await collect([masteryRow], MASTERY_COLUMNS, 'csv');
    expect(count).toBe(1);
    expect(bytes.toString()).toBe(
      'user_id,user_label,concept_id,concept_label,p_mastery,n_attempts,last_attempt_at,last_seen_question_id,is_mastered,algo_version_id,created_at,updated_at\n' +
        `${u1},,${c1},,0.357142857142857,1,2026-01-21T12:00:00.000Z,,false,,2026-01-21T12:00:00.000Z,2026-01-21T12:00:01.000Z\n`,
    );
  });

  it('quotes CSV fields holding commas and quotes (JSON columns)', async () => {
    const row = { concept_id: c1, p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0, constraints_applied: { L0_min: 0.001, T_max: 0.5 }, metrics: '{"auc":0.7}' };
    const { bytes } = await collect([row], PARAMS_COLUMNS, 'csv');
    const line = bytes.toString().split('\n')[1];
    expect(line).toContain('"{""L0_min"":0.001,""T_max"":0.5}","{""auc"":0.7}"');
  });

  it('streams a valid JSON array (empty, one and several rows)', async () => {
    for (const n of [0, 1, 5]) {
      const rows = Array.from({ length: n }, (_, i) => ({ ...masteryRow, n_attempts: i }));
      const { count, bytes } = await collect(rows, MASTERY_COLUMNS, 'json');
      const parsed = JSON.parse(bytes.toString());
      expect(count).toBe(n);
      expect(parsed.map((r: Row) => r.n_attempts)).toEqual(rows.map((r) => r.n_attempts));
      if (n > 0) expect(parsed[0].is_mastered).toBe(false);
    }
  });

  it('writes one JSON object per NDJSON line with nulls kept', async () => {
    const { bytes } = await collect([masteryRow, masteryRow], MASTERY_COLUMNS, 'ndjson');
    const lines = bytes.toString().trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    expect(lines[0].last_seen_question_id).toBeNull();
    expect(lines[0].last_attempt_at).toBe('2026-01-21T12:00:00.000Z');
  });

  it('writes Arrow IPC with Utf8, Float64, Int32, Bool and Timestamp(ms, UTC) that reads back', async () => {
    const rows = [masteryRow, { ...masteryRow, p_mastery: 0.96, is_mastered: true, n_attempts: 7 }, { ...masteryRow, last_attempt_at: null }];
    const { bytes } = await collect(rows, MASTERY_COLUMNS, 'arrow');
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(3);
    expect(table.batches.length).toBe(2); // chunkRows 2 -> two record batches
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toMatchObject({
      user_id: 'Utf8',
      p_mastery: 'Float64',
      n_attempts: 'Int32',
      is_mastered: 'Bool',
      last_attempt_at: 'Timestamp<MILLISECOND, UTC>',
    });
    expect(table.getChild('p_mastery')!.toArray()).toEqual(new Float64Array([0.357142857142857, 0.96, 0.357142857142857]));
    expect(table.getChild('is_mastered')!.get(1)).toBe(true);
    expect(table.getChild('last_attempt_at')!.get(0)).toBe(Date.parse('2026-01-21T12:00:00.000Z'));
    expect(table.getChild('last_attempt_at')!.get(2)).toBeNull();
  });

  it('writes an empty Arrow file that still carries the schema', async () => {
    const { bytes } = await collect([], MASTERY_COLUMNS, 'arrow');
    const table = tableFromIPC(bytes);
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => f.name)).toEqual(MASTERY_COLUMNS.map((c) => c.name));
  });

  it('round-trips any float and text through NDJSON and Arrow exactly', async () => {
    const columns: ColumnSpec[] = [
      { name: 'concept_id', type: 'text', nullable: true },
      { name: 'p', type: 'float', nullable: false },
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ concept_id: fc.option(fc.string(), { nil: null }), p: fc.double({ min: 0, max: 1, noNaN: true }) }), { maxLength: 20 }),
        async (rows) => {
          // Act
          const nd = await collect(rows, columns, 'ndjson', 3);
          const ar = await collect(rows, columns, 'arrow', 3);
          // Assert
          const back = nd.bytes.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l));
          expect(back).toEqual(rows.map((r) => ({ concept_id: r.concept_id, p: Object.is(r.p, -0) ? 0 : r.p })));
          const table = tableFromIPC(ar.bytes);
          expect(Array.from(table.getChild('p')!.toArray() as Float64Array)).toEqual(rows.map((r) => r.p));
          expect(Array.from({ length: rows.length }, (_, i) => table.getChild('concept_id')!.get(i))).toEqual(rows.map((r) => r.concept_id));
        },
      ),
      { seed, numRuns: 50 },
    );
  });
});
