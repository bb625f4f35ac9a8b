import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;

describe('AttemptsTableBuilder keepInputRow', () => {
  it('is absent unless asked for', () => {
    const table = AttemptsTableBuilder.fromArrays({ learner: ['a'], concept: ['c'], correct: [1] });
    expect(table.inputRow).toBeUndefined();
  });

  it('maps every table row to the input row it came from, distinct rows, after sorting and dropping short sequences', () => {
    const row = fc.record({
      learner: fc.constantFrom('a', 'b', 'c'),
      concept: fc.constantFrom('x', 'y'),
      correct: fc.integer({ min: 0, max: 1 }),
      order: fc.option(fc.integer({ min: 0, max: 20 }), { nil: Number.NaN }),
    });
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), (rows, minPerSequence) => {
        // Arrange
        const builder = new AttemptsTableBuilder();
        for (const r of rows) builder.add(r.learner, r.concept, r.correct as 0 | 1, Number.NaN, r.order, null);
        // Act
        const table = builder.build({ keepInputRow: true, minAttemptsPerSequence: minPerSequence });
        // Assert
        const inputRow = table.inputRow!;
        expect(inputRow).toHaveLength(table.length);
        expect(new Set(inputRow).size).toBe(table.length);
        for (let k = 0; k < table.length; k++) {
          const source = rows[inputRow[k]];
          expect(table.learnerIds[table.learner[k]]).toBe(source.learner);
          expect(table.conceptIds[table.concept[k]]).toBe(source.concept);
          expect(table.correct[k]).toBe(source.correct);
        }
      }),
      { seed, numRuns: 200 },
    );
  });
});
