import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import type { CsvParserChoice } from '../../src/data/read-csv.js';
import { InputError } from '../../src/errors.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** Feed `text` as stdin in chunks cut at the given byte positions. */
function stdinOf(text: string | Buffer, cuts: number[] = []): Readable {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) chunks.push(buf.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < buf.length) chunks.push(buf.subarray(prev));
  return Readable.from(chunks);
}

type Outcome = { ok: true; table: unknown; parser: string | null } | { ok: false; error: string };

async function readWith(text: string, csvParser: CsvParserChoice, cuts: number[] = []): Promise<Outcome> {
  try {
    const { table, summary } = await readAttempts({ input: '-', csvParser }, { stdin: stdinOf(text, cuts) });
    return { ok: true, table, parser: summary.parser };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return { ok: false, error: error.toLine() };
  }
}

function withoutParser(o: Outcome): unknown {
  return o.ok ? o.table : o.error;
}

describe('CSV fast path and csv-parse', () => {
  it('read a simple file to the same table, the fast path without csv-parse', async () => {
    const text = 'user_id,concept_id,correct,answered_at\nu1,c1,1,2024-01-01T00:00:02Z\nu1,c1,0,2024-01-01T00:00:01Z\nu2,c2,true,\n';
    const fast = await readWith(text, 'auto');
    const slow = await readWith(text, 'csv-parse');
    expect(fast.ok && fast.parser).toBe('fast');
    expect(slow.ok && slow.parser).toBe('csv-parse');
    expect(withoutParser(fast)).toEqual(withoutParser(slow));
  });

  it('agree on CRLF, a missing final newline, empty lines and a BOM', async () => {
    const text = '\ufeffuser_id,skill_name,correct\r\n\r\n7,82,0\r\n\n7,82,1\r\n8,82,1';
    const fast = await readWith(text, 'auto', [5, 17, 30]);
    const slow = await readWith(text, 'csv-parse');
    expect(fast.ok && fast.parser).toBe('fast');
    expect(withoutParser(fast)).toEqual(withoutParser(slow));
    expect(fast.ok && (fast.table as { length: number }).length).toBe(3);
  });

  it('hand over to csv-parse from the first quoted line and still agree', async () => {
    const text = 'user_id,concept_id,correct\nu1,c1,1\nu2,"c,2",0\n"u3",c1,1\n';
    const auto = await readWith(text, 'auto');
    const slow = await readWith(text, 'csv-parse');
    expect(auto.ok && auto.parser).toBe('fast+csv-parse');
    expect(withoutParser(auto)).toEqual(withoutParser(slow));
    expect(auto.ok && (auto.table as { conceptIds: string[] }).conceptIds).toEqual(['c1', 'c,2']);
  });

  it('report a broken quote with its line number', async () => {
    const text = 'user_id,concept_id,correct\nu1,c1,1\nu2,"c1,0\n';
    const auto = await readWith(text, 'auto');
    expect(auto.ok).toBe(false);
    expect(!auto.ok && auto.error).toMatch(/^stdin line 3: /);
  });

  const id = fc.constantFrom('u1', 'u2', 'ü3', ' 4', 'c-7', '82', 'x y');
  const correct = fc.constantFrom('0', '1', 'true', 'FALSE', ' 1', 'yes', '', '2');
  const time = fc.constantFrom(
    '',
    '2024-01-01',
    '1700000000',
    '2024-01-01T10:00:00Z',
    '2024-01-01T09:00:00+01:00',
    '1700000000000',
    'soon',
    // The 24-byte form the fast path parses without scanning: valid, impossible, a ',' fraction
    // (an extra field), a space after it, lower-case z.
    '2024-01-01T00:00:01.250Z',
    '2023-02-29T00:00:01.000Z',
    '2024-01-01T00:00:01,000Z',
    '2024-01-01T00:00:01.000Z ',
    '2024-01-01T00:00:01.000z',
  );
  const order = fc.constantFrom('', '1', '2', '10', '2.5', 'x');
  const row = fc.tuple(id, id, correct, time, order, fc.constantFrom('', 'q1', 'q2'), fc.integer({ min: 0, max: 40 }));

  it('property: both paths give identical tables (or the identical error) on unquoted input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { maxLength: 25 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 6 }),
        // Header, and the position of each of (user, concept, correct, time, order, question) in it.
        fc.constantFrom(
          { header: 'user_id,concept_id,correct,answered_at,order_id,question_id', at: [0, 1, 2, 3, 4, 5] },
          { header: 'user_id,skill_name,correct,ts,order_id,problem_id', at: [0, 1, 2, 3, 4, 5] },
          { header: 'question_id,order_id,correct,concept_id,answered_at,user_id', at: [5, 3, 2, 4, 1, 0] },
          { header: 'correct,user_id,concept_id,answered_at', at: [1, 2, 0, 3] },
        ),
        async (rows, eol, finalNewline, cuts, { header, at }) => {
          // Arrange: rows, a few with an extra field, some empty lines.
          const lines: string[] = [header];
          for (const [u, c, k, t, o, q, extra] of rows) {
            if (extra === 0) lines.push('');
            const fields: string[] = [];
            [u, c, k, t, o, q].forEach((v, role) => {
              if (role < at.length) fields[at[role]] = v;
            });
            lines.push(fields.join(',') + (extra === 1 ? ',z' : ''));
          }
          const text = lines.join(eol) + (finalNewline ? eol : '');
          // Act
          const fast = await readWith(text, 'auto', cuts);
          const slow = await readWith(text, 'csv-parse');
          // Assert
          if (fast.ok) expect(fast.parser).toBe('fast');
          expect(withoutParser(fast)).toEqual(withoutParser(slow));
        },
      ),
      { numRuns: 150 },
    );
  });
});
