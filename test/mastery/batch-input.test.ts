import { mkdtempSync, rmSync, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readBatchAttempts, formatOf } from '../../src/mastery/batch-input.js';
import { planBatches } from '../../src/mastery/batch-plan.js';
import { writeRows, csvField } from '../../src/export/writers.js';
import { csvRecords } from '../../src/mastery/csv-records.js';

const U = '11111111-1111-4111-8111-111111111111';
const C = 'cccccccc-0000-4000-8000-000000000001';
const read = (text: string, format: 'csv' | 'ndjson' = 'csv', failFast = false) =>
  readBatchAttempts({ input: `x.${format}`, format, failFast, stream: Readable.from([text]) });
const dir = mkdtempSync(join(tmpdir(), 'bkt-batch-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readBatchAttempts', () => {
  it('keeps line numbers (header = line 1), maps pyBKT names and integer ids, and keys timed rows by hash', async () => {
    const b = await read('user_id,skill_name,correct,timestamp,problem_id\n7,12,1,2026-01-21T12:00:00Z,3\n7,12,0,,3\n');
    expect(b.rejected).toEqual([]);
    expect(b.attempts.map((a) => a.line)).toEqual([2, 3]);
    expect(b.attempts[0]).toMatchObject({ userId: '00000000-0000-0000-0000-000000000007', conceptId: '00000000-0000-0000-0000-00000000000c', correct: true, answeredAt: Date.parse('2026-01-21T12:00:00Z') });
    expect(b.attempts[0].attemptKey).toMatch(/^h:[0-9a-f]{32}$/);
    expect(b.attempts[1].answeredAt).toBeNull();
  });

  it('gives identical untimed rows different keys, and the same keys when read again', async () => {
    const text = `user_id,concept_id,correct\n${U},${C},1\n${U},${C},1\n`;
    const a = await read(text);
    const b = await read(text);
    expect(a.attempts[0].attemptKey).not.toBe(a.attempts[1].attemptKey);
    expect(b.attempts.map((x) => x.attemptKey)).toEqual(a.attempts.map((x) => x.attemptKey));
  });

  it('uses an attempt_key column as is', async () => {
    const b = await read(`user_id,concept_id,correct,attempt_key\n${U},${C},true,k-1\n`);
    expect(b.attempts[0].attemptKey).toBe('k-1');
  });

  it('rejects bad rows by line, or throws at the first with failFast', async () => {
    const text = `user_id,concept_id,correct,answered_at\n${U},${C},2,\n${U},,1,\n${U},${C},1,yesterday\n`;
    const b = await read(text);
    expect(b.rejected.map((r) => r.line)).toEqual([2, 3, 4]);
    await expect(read(text, 'csv', true)).rejects.toThrow('x.csv line 2: column "correct" is "2"; expected 0, 1, true or false');
  });

  it('reads Arrow input through the shared reader', async () => {
    const file = join(dir, 'a.arrow');
    const out = createWriteStream(file);
    const columns = [
      { name: 'user_id', type: 'text', nullable: false },
      { name: 'concept_id', type: 'text', nullable: false },
      { name: 'correct', type: 'int', nullable: false },
      { name: 'answered_at', type: 'timestamp', nullable: true },
    ] as const;
    await writeRows([{ user_id: U, concept_id: C, correct: 1, answered_at: '2026-01-21T12:00:00.000Z' }, { user_id: U, concept_id: C, correct: 0, answered_at: '2026-01-21T12:01:00.000Z' }], columns, 'arrow', out);
    out.end();
    await finished(out);
    expect(formatOf(file)).toBe('arrow');
    const b = await readBatchAttempts({ input: file });
    expect(b.attempts.map((a) => [a.correct, a.answeredAt])).toEqual([
      [true, Date.parse('2026-01-21T12:00:00Z')],
      [false, Date.parse('2026-01-21T12:01:00Z')],
    ]);
  });
});

describe('planBatches', () => {
  it('orders each state by time (untimed last, file order kept) and states by (user, concept)', async () => {
    const b = await read(`user_id,concept_id,correct,answered_at\n2,1,1,2026-01-02\n1,1,1,\n1,1,0,2026-01-03\n1,1,1,2026-01-01\n`);
    const plan = planBatches(b.attempts, 1000);
    expect(plan).toHaveLength(1);
    expect(plan[0].map((s) => s.userId)).toEqual(['00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002']);
    expect(plan[0][0].attempts.map((a) => a.line)).toEqual([5, 4, 3]);
  });

  it('never puts more than batchSize attempts in a transaction, and keeps every attempt once', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (pairs, size) => {
        // Arrange
        const attempts = pairs.map(([u, c], i) => ({ line: i + 2, userId: `u${u}`, conceptId: `c${c}`, questionId: null, correct: true, answeredAt: null, attemptKey: `k${i}` }));
        // Act
        const plan = planBatches(attempts, size);
        // Assert
        for (const tx of plan) expect(tx.reduce((n, s) => n + s.attempts.length, 0)).toBeLessThanOrEqual(size);
        expect(plan.flatMap((tx) => tx.flatMap((s) => s.attempts.map((a) => a.line))).sort((a, b) => a - b)).toEqual(attempts.map((a) => a.line));
      }),
    );
  });
});

describe('csvRecords', () => {
  const collect = async (text: string) => {
    const out: { record: string[]; line: number }[] = [];
    for await (const r of csvRecords(Readable.from([text]), 'x.csv')) out.push(r);
    return out;
  };

  it('splits plain lines, unquotes RFC 4180 fields, joins a quoted newline, and numbers lines from 1', async () => {
    expect(await collect('a,b\n1,"x,""y"""\n\n"multi\nline",2\n')).toEqual([
      { record: ['a', 'b'], line: 1 },
      { record: ['1', 'x,"y"'], line: 2 },
      { record: ['multi\nline', '2'], line: 4 },
    ]);
  });

  it('names the line of a quote that never closes', async () => {
    await expect(collect('a\n"open\nstill\n')).rejects.toThrow('x.csv line 2: a quoted field is never closed');
  });

  it('gives the same records as csv-parse', async () => {
    const { parse } = await import('csv-parse/sync');
    const field = fc.stringMatching(/^[a-z0-9 ,"\n]{0,6}$/);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(field, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), async (rows) => {
        // Arrange: quote every field that needs it; skip records csv-parse would see as empty lines
        fc.pre(rows.every((r) => !(r.length === 1 && r[0] === '')));
        const text = rows.map((r) => r.map((f) => csvField(f)).join(',')).join('\n') + '\n';
        // Act
        const ours = (await collect(text)).map((r) => r.record);
        const theirs = parse(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
        // Assert
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 200 },
    );
  });
});
