import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import type { AttemptsTable } from '../../src/data/attempts-table.js';
import { conceptRowRange } from '../../src/data/attempts-table.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

/** Rows of a table as readable tuples [concept, learner, correct, time]. */
function rowsOf(t: AttemptsTable): [string, string, number, number | null][] {
  const out: [string, string, number, number | null][] = [];
  for (let i = 0; i < t.length; i++) {
    out.push([t.conceptIds[t.concept[i]], t.learnerIds[t.learner[i]], t.correct[i], t.time ? t.time[i] : null]);
  }
  return out;
}

describe('AttemptsTableBuilder', () => {
  it('groups rows by concept then learner in first-appearance order and keeps file order without keys', () => {
    // Arrange: two concepts interleaved, learner b seen before a.
    const b = new AttemptsTableBuilder();
    b.add('b', 'c2', 1, NaN, NaN, null);
    b.add('a', 'c1', 0, NaN, NaN, null);
    b.add('b', 'c1', 1, NaN, NaN, null);
    b.add('a', 'c1', 1, NaN, NaN, null);
    b.add('b', 'c2', 0, NaN, NaN, null);
    // Act
    const t = b.build();
    // Assert: concepts c2 (first seen) then c1; learners b then a; file order inside.
    expect(t.conceptIds).toEqual(['c2', 'c1']);
    expect(t.learnerIds).toEqual(['b', 'a']);
    expect(rowsOf(t)).toEqual([
      ['c2', 'b', 1, null],
      ['c2', 'b', 0, null],
      ['c1', 'b', 1, null],
      ['c1', 'a', 0, null],
      ['c1', 'a', 1, null],
    ]);
    expect([...t.sequenceStart]).toEqual([0, 2, 3, 5]);
    expect([...t.conceptSequenceStart]).toEqual([0, 1, 3]);
    expect(conceptRowRange(t, 1)).toEqual([2, 5]);
    expect(t.time).toBeNull();
    expect(t.question).toBeNull();
    expect(b.buildStats?.orderedBy).toBe('file');
  });

  it('orders each sequence by time, ties keep file order, rows without a time go last', () => {
    const b = new AttemptsTableBuilder();
    // correct encodes the file position so the order is visible: 1,0,1,0,1
    b.add('u', 'c', 1, 300, NaN, null); // row 0
    b.add('u', 'c', 0, NaN, NaN, null); // row 1: no time -> last
    b.add('u', 'c', 1, 100, NaN, null); // row 2
    b.add('u', 'c', 0, 300, NaN, null); // row 3: ties row 0, comes after it
    b.add('u', 'c', 1, 200, NaN, null); // row 4
    const t = b.build();
    expect(Array.from(t.time!)).toEqual([100, 200, 300, 300, NaN]);
    expect(Array.from(t.correct)).toEqual([1, 1, 1, 0, 0]);
    expect(b.buildStats).toMatchObject({ orderedBy: 'time', sequencesSorted: 1 });
  });

  it('orders by the order column when no row has a time, and prefers time when both exist', () => {
    const byOrder = new AttemptsTableBuilder();
    byOrder.add('u', 'c', 1, NaN, 3, null);
    byOrder.add('u', 'c', 0, NaN, 1, null);
    byOrder.add('u', 'c', 0, NaN, 2, null);
    expect(Array.from(byOrder.build().correct)).toEqual([0, 0, 1]);
    expect(byOrder.buildStats?.orderedBy).toBe('order');

    const both = new AttemptsTableBuilder();
    both.add('u', 'c', 1, 10, 3, null);
    both.add('u', 'c', 0, 20, 1, null);
    expect(Array.from(both.build().correct)).toEqual([1, 0]);
    expect(both.buildStats?.orderedBy).toBe('time');
  });

  it('breaks ties in time by order (NaN last), then by file order', () => {
    const b = new AttemptsTableBuilder();
    // correct marks the rows whose place is checked: expected order is rows 3, 1, 2, 4, 0.
    b.add('u', 'c', 0, 50, 9, null); // row 0: latest time
    b.add('u', 'c', 1, 10, 2, null); // row 1
    b.add('u', 'c', 0, 10, NaN, null); // row 2: same time, no order -> after row 1
    b.add('u', 'c', 1, 10, 1, null); // row 3: same time, lowest order -> first
    b.add('u', 'c', 1, 10, NaN, null); // row 4: ties row 2 on both keys -> after it
    const t = b.build();
    expect(Array.from(t.correct)).toEqual([1, 1, 0, 1, 0]);
    expect(Array.from(t.time!)).toEqual([10, 10, 10, 10, 50]);
    expect(b.buildStats).toMatchObject({ orderedBy: 'time', sequencesSorted: 1 });
  });

  it('sorts the concept dictionary by id on request, whatever the arrival order', () => {
    const rows: [string, string, 0 | 1][] = [['u', 'c9', 1], ['v', 'c1', 0], ['u', 'c5', 1], ['u', 'c1', 1]];
    const build = (input: typeof rows) => {
      const b = new AttemptsTableBuilder();
      for (const [l, c, y] of input) b.add(l, c, y, NaN, NaN, null);
      return b.build({ conceptOrder: 'sorted' });
    };
    const t = build(rows);
    expect(t.conceptIds).toEqual(['c1', 'c5', 'c9']);
    expect(rowsOf(t).map(([c, l, y]) => `${c}${l}${y}`)).toEqual(['c1u1', 'c1v0', 'c5u1', 'c9u1']);
    expect(Array.from(t.conceptSequenceStart)).toEqual([0, 2, 3, 4]);
    expect(build([...rows].reverse()).conceptIds).toEqual(['c1', 'c5', 'c9']);
  });

  it('keeps question ids and -1 for rows without one', () => {
    const t = AttemptsTableBuilder.fromArrays({
      learner: ['u', 'u', 'v'],
      concept: ['c', 'c', 'c'],
      correct: [1, 0, 1],
      question: ['q1', null, 'q1'],
    });
    expect(t.questionIds).toEqual(['q1']);
    expect(Array.from(t.question!)).toEqual([0, -1, 0]);
  });

  it('drops sequences shorter than minAttemptsPerSequence and removes ids left without rows', () => {
    const t = AttemptsTableBuilder.fromArrays(
      {
        learner: ['a', 'b', 'a', 'c', 'c', 'b'],
        concept: ['x', 'y', 'x', 'y', 'y', 'z'],
        correct: [1, 0, 1, 0, 1, 1],
        question: ['q1', 'q2', 'q3', 'q4', 'q5', 'q6'],
      },
      { minAttemptsPerSequence: 2 },
    );
    // Sequences: (x,a)=2 kept, (y,b)=1 dropped, (y,c)=2 kept, (z,b)=1 dropped.
    expect(t.length).toBe(4);
    expect(t.conceptIds).toEqual(['x', 'y']);
    expect(t.learnerIds).toEqual(['a', 'c']);
    expect(t.questionIds).toEqual(['q1', 'q3', 'q4', 'q5']);
    expect(rowsOf(t).map((r) => r[0] + r[1])).toEqual(['xa', 'xa', 'yc', 'yc']);
    expect([...t.sequenceStart]).toEqual([0, 2, 4]);
    expect([...t.conceptSequenceStart]).toEqual([0, 1, 2]);
  });

  it('builds an empty table from no rows', () => {
    const t = new AttemptsTableBuilder().build();
    expect(t.length).toBe(0);
    expect([...t.sequenceStart]).toEqual([0]);
    expect([...t.conceptSequenceStart]).toEqual([0]);
  });

  it('rejects a correct value other than 0 or 1 and a second build', () => {
    const b = new AttemptsTableBuilder();
    expect(() => b.add('u', 'c', 2 as 0, NaN, NaN, null)).toThrow(RangeError);
    b.build();
    expect(() => b.build()).toThrow(/already/);
  });

  it('handles more rows than one chunk (65,536) with sequences crossing chunk borders', () => {
    const n = 200_000;
    const b = new AttemptsTableBuilder();
    for (let i = 0; i < n; i++) b.add(`u${i % 7}`, `c${i % 3}`, (i % 2) as 0 | 1, n - i, NaN, null);
    const t = b.build();
    expect(t.length).toBe(n);
    expect(t.sequenceStart.length - 1).toBe(21);
    let outOfOrder = 0;
    for (let s = 0; s < 21; s++) {
      for (let k = t.sequenceStart[s] + 1; k < t.sequenceStart[s + 1]; k++) if (!(t.time![k] > t.time![k - 1])) outOfOrder++;
    }
    expect(outOfOrder).toBe(0);
    expect(b.buildStats?.sequencesSorted).toBe(21);
  });

  const rowArb = fc.record({
    learner: fc.constantFrom('a', 'b', 'c', 'd'),
    concept: fc.constantFrom('x', 'y', 'z'),
    correct: fc.constantFrom<0 | 1>(0, 1),
    time: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
    order: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  });

  it('property: output is a permutation of the input, sorted, with consistent offsets', () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 60 }), fc.integer({ min: 1, max: 3 }), (rows, minPer) => {
        // Arrange
        const b = new AttemptsTableBuilder();
        rows.forEach((r, i) => b.add(r.learner, r.concept, r.correct, r.time ?? NaN, r.order ?? NaN, String(i)));
        // Act
        const t = b.build({ minAttemptsPerSequence: minPer });
        // Assert: the kept rows are exactly the input rows of sequences with >= minPer rows.
        const seqLen = new Map<string, number>();
        for (const r of rows) seqLen.set(r.concept + r.learner, (seqLen.get(r.concept + r.learner) ?? 0) + 1);
        const expected = rows.map((r, i) => ({ ...r, i })).filter((r) => seqLen.get(r.concept + r.learner)! >= minPer);
        expect(t.length).toBe(expected.length);
        const seen = new Set<number>();
        for (let k = 0; k < t.length; k++) {
          const i = Number(t.questionIds[t.question![k]]);
          expect(seen.has(i)).toBe(false);
          seen.add(i);
          const r = rows[i];
          expect([t.learnerIds[t.learner[k]], t.conceptIds[t.concept[k]], t.correct[k]]).toEqual([r.learner, r.concept, r.correct]);
        }
        // Sorted by concept, learner; offsets consistent.
        const S = t.sequenceStart.length - 1;
        expect(t.sequenceStart[0]).toBe(0);
        expect(t.sequenceStart[S]).toBe(t.length);
        expect(t.conceptSequenceStart[t.conceptIds.length]).toBe(S);
        // The key is chosen from all input rows (the input "has" a time column), kept or not.
        const hasTime = rows.some((r) => r.time !== null);
        const hasOrder = rows.some((r) => r.order !== null);
        for (let c = 0; c < t.conceptIds.length; c++) {
          expect(t.conceptSequenceStart[c + 1]).toBeGreaterThan(t.conceptSequenceStart[c]);
          for (let s = t.conceptSequenceStart[c]; s < t.conceptSequenceStart[c + 1]; s++) {
            const start = t.sequenceStart[s];
            const end = t.sequenceStart[s + 1];
            expect(end - start).toBeGreaterThanOrEqual(minPer);
            if (s > t.conceptSequenceStart[c]) expect(t.learner[start]).toBeGreaterThan(t.learner[t.sequenceStart[s - 1]]);
            for (let k = start; k < end; k++) {
              expect(t.concept[k]).toBe(c);
              expect(t.learner[k]).toBe(t.learner[start]);
              if (k > start) {
                // Key order, NaN last, ties in file order.
                const value = (v: number | null) => (v === null ? Infinity : v);
                const key = (j: number) => {
                  const r = rows[Number(t.questionIds[t.question![j]])];
                  return value(hasTime ? r.time : hasOrder ? r.order : 0);
                };
                // With times, order breaks ties in time.
                const tie = (j: number) => (hasTime && hasOrder ? value(rows[Number(t.questionIds[t.question![j]])].order) : 0);
                const file = (j: number) => Number(t.questionIds[t.question![j]]);
                expect(
                  key(k) > key(k - 1) ||
                    (key(k) === key(k - 1) && (tie(k) > tie(k - 1) || (tie(k) === tie(k - 1) && file(k) > file(k - 1)))),
                ).toBe(true);
              }
            }
          }
        }
      }),
    );
  });
});
