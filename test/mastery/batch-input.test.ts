import { mkdtempSync, mkdirSync, rmSync, createWriteStream, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readBatchAttempts, formatOf } from '../../src/mastery/batch-input.js';
import { planBatches } from '../../src/mastery/batch-plan.js';
import { writeRows, csvField } from '../../src/export/writers.js';
import { readAttempts } from '../../src/data/read-attempts.js';
import { toUuid } from '../../src/store/ids.js';

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

describe('readBatchAttempts reads through the shared readers', () => {
  const fileWith = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  /** The error readAttempts (what `bkt fit` reads with) throws for `input`, or null. */
  const fitError = (input: string) => readAttempts({ input }).then(() => null, (e: Error) => e);

  it('unquotes RFC 4180 fields, joins a quoted newline, and numbers lines as fit does', async () => {
    const b = await read(`user_id,concept_id,correct,question_id\n7,12,1,"q,""1"""\n7,12,"0","multi\nline"\n\n7,12,true,\n`);
    expect(b.rejected).toEqual([]);
    expect(b.attempts.map((a) => [a.line, a.correct])).toEqual([[2, true], [4, false], [6, true]]);
    expect(b.attempts[0].questionId).not.toBe(b.attempts[1].questionId);
  });

  it('reads the same question ids as csv-parse for any quoting', async () => {
    const { parse } = await import('csv-parse/sync');
    const field = fc.stringMatching(/^[a-z0-9 ,"\n]{1,6}$/).filter((f) => f.trim() !== '');
    await fc.assert(
      fc.asyncProperty(fc.array(field, { minLength: 1, maxLength: 8 }), async (questions) => {
        // Arrange: one attempt per question, quoted where needed
        const text = `user_id,concept_id,correct,question_id\n${questions.map((q) => `1,2,1,${csvField(q)}`).join('\n')}\n`;
        // Act
        const ours = (await read(text)).attempts.map((a) => a.questionId);
        const theirs = (parse(text, { columns: true }) as { question_id: string }[]).map((r) => toUuid(r.question_id.trim()));
        // Assert
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 100 },
    );
  });

  it('names the line of a quote that never closes', async () => {
    await expect(read('user_id,concept_id,correct\n1,2,"open\nstill\n')).rejects.toThrow(/^x\.csv line \d+: .*quote/i);
  });

  it('reads a gzipped CSV', async () => {
    const file = fileWith('batch.csv.gz', gzipSync(`user_id,concept_id,correct\n${U},${C},1\n`));
    const b = await readBatchAttempts({ input: file });
    expect(b.attempts.map((a) => [a.line, a.userId, a.conceptId, a.correct])).toEqual([[2, U, C, true]]);
  });

  it('fails like fit for a missing path, a directory and a header without attempts (exit 3)', async () => {
    const headerOnly = fileWith('header.csv', 'user_id,concept_id,correct\n');
    const folder = join(dir, 'folder.csv');
    mkdirSync(folder, { recursive: true });
    for (const input of [join(dir, 'missing.csv'), folder, headerOnly]) {
      const expected = await fitError(input);
      expect(expected).not.toBeNull();
      const error = await readBatchAttempts({ input }).then(() => null, (e: Error & { exitCode?: number }) => e);
      expect(error?.message).toBe(expected!.message);
      expect((error as { exitCode?: number }).exitCode).toBe(3);
    }
  });

  it('rejects bad NDJSON lines one by one (after the first object), with their line numbers', async () => {
    const text = [`{"user_id":"${U}","concept_id":"${C}","correct":1}`, 'not json', '[1]', `{"user_id":"${U}","correct":0}`, `{"user_id":"${U}","concept_id":"${C}","correct":"yes"}`, `{"user_id":"${U}","concept_id":"${C}","correct":false}`].join('\n');
    const b = await read(text, 'ndjson');
    expect(b.attempts.map((a) => a.line)).toEqual([1, 6]);
    expect(b.rejected.map((r) => r.line)).toEqual([2, 3, 4, 5]);
    expect(b.rejected[2].reason).toBe('no "concept_id" field');
    expect(b.rejected[3].reason).toBe('column "correct" is "yes"; expected 0, 1, true or false');
  });

  it('rejects a bad Arrow row by its row number instead of stopping', async () => {
    const file = join(dir, 'bad.arrow');
    const out = createWriteStream(file);
    const columns = [
      { name: 'user_id', type: 'text', nullable: false },
      { name: 'concept_id', type: 'text', nullable: true },
      { name: 'correct', type: 'int', nullable: false },
    ] as const;
    await writeRows([{ user_id: U, concept_id: C, correct: 1 }, { user_id: U, concept_id: null, correct: 0 }, { user_id: U, concept_id: C, correct: 0 }], columns, 'arrow', out);
    out.end();
    await finished(out);
    const b = await readBatchAttempts({ input: file });
    expect(b.attempts.map((a) => [a.line, a.correct])).toEqual([[1, true], [3, false]]);
    expect(b.rejected).toEqual([{ line: 2, reason: 'column "concept_id" is empty; every attempt needs a concept id' }]);
  });

  it('takes the attempt key from --col-key, and names a key column that is not there', async () => {
    const text = `user_id,concept_id,correct,k\n${U},${C},1,key-7\n`;
    const b = await readBatchAttempts({ input: 'x.csv', stream: Readable.from([text]), columns: { key: 'k' } });
    expect(b.attempts[0].attemptKey).toBe('key-7');
    await expect(readBatchAttempts({ input: 'x.csv', stream: Readable.from([text]), columns: { key: 'nope' } })).rejects.toThrow('x.csv line 1 (header): no column "nope" (given with `columns.key`)');
  });
});
