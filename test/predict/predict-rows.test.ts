import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import { predictSequence } from '../../src/model/em-kernels.js';
import type { BktParams } from '../../src/model/params.js';
import { predictRows, predictSequenceRows } from '../../src/predict/predict-rows.js';
import { conceptRowParameters, sequenceParameterBuffers, type RowParameters } from '../../src/predict/row-parameters.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const probability = fc.double({ min: 0.001, max: 0.999, noNaN: true });
const params = fc.record({ p_L0: probability, p_T: probability, p_S: fc.double({ min: 0.001, max: 0.49, noNaN: true }), p_G: fc.double({ min: 0.001, max: 0.49, noNaN: true }), p_F: fc.double({ min: 0, max: 0.3, noNaN: true }) });

function outputs(n: number) {
  return { correct: new Float64Array(n), stateBefore: new Float64Array(n), stateAfter: new Float64Array(n) };
}

describe('predictSequenceRows', () => {
  it('works a two-answer sequence by hand (L0 0.1, T 0.1, S 0.1, G 0.25, F 0)', () => {
    const buffers = sequenceParameterBuffers(2);
    buffers.guess.fill(0.25);
    buffers.slip.fill(0.1);
    buffers.learn.fill(0.1);
    buffers.forget.fill(0);
    const out = outputs(2);
    predictSequenceRows(0.1, buffers, Uint8Array.from([1, 0]), 0, 2, null, out);
    // Row 1: P(correct) = 0.1 * 0.9 + 0.9 * 0.25 = 0.315; posterior = 0.09 / 0.315 = 0.285714...
    expect(out.correct[0]).toBeCloseTo(0.315, 15);
    expect(out.stateBefore[0]).toBe(0.1);
    expect(out.stateAfter[0]).toBeCloseTo(0.09 / 0.315, 15);
    // Row 2: K = 0.285714 + 0.714286 * 0.1 = 0.357143; P(correct) = 0.357143 * 0.9 + 0.642857 * 0.25.
    const k = 0.09 / 0.315 + (1 - 0.09 / 0.315) * 0.1;
    expect(out.stateBefore[1]).toBeCloseTo(k, 15);
    expect(out.correct[1]).toBeCloseTo(k * 0.9 + (1 - k) * 0.25, 15);
    // A wrong answer: posterior = K S / (K S + (1 - K)(1 - G)).
    expect(out.stateAfter[1]).toBeCloseTo((k * 0.1) / (k * 0.1 + (1 - k) * 0.75), 15);
  });

  it('uses each row its own guess, slip, learn and forget (the hook item-level models plug into)', () => {
    const buffers = sequenceParameterBuffers(2);
    buffers.guess.set([0.2, 0.4]);
    buffers.slip.set([0.1, 0.3]);
    buffers.learn.set([0.5, 0.9]);
    buffers.forget.set([0, 0]);
    const out = outputs(2);
    predictSequenceRows(0, buffers, Uint8Array.from([0, 1]), 0, 2, null, out);
    // Unknown at first: P(correct) = G of row 1; after it the learner learns with row 1's T = 0.5.
    expect(out.correct[0]).toBe(0.2);
    expect(out.stateAfter[0]).toBe(0);
    expect(out.stateBefore[1]).toBe(0.5);
    expect(out.correct[1]).toBeCloseTo(0.5 * 0.7 + 0.5 * 0.4, 15);
  });

  it('agrees with the standard kernel predictSequence for scalar parameters, and stays in [0, 1]', () => {
    fc.assert(
      fc.property(params, fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 1, maxLength: 40 }), (p, answers) => {
        // Arrange
        const n = answers.length;
        const correct = Uint8Array.from(answers);
        const buffers = sequenceParameterBuffers(n);
        conceptRowParameters([p]).fillSequence(0, 0, n, buffers);
        const out = outputs(n);
        const expectedCorrect = new Float64Array(n);
        const expectedState = new Float64Array(n);
        // Act
        predictSequenceRows(p.p_L0, buffers, correct, 0, n, null, out);
        predictSequence(p.p_L0, p.p_T, p.p_F, p.p_S, p.p_G, correct, 0, n, expectedCorrect, expectedState);
        // Assert
        for (let i = 0; i < n; i++) {
          expect(Math.abs(out.correct[i] - expectedCorrect[i])).toBeLessThan(1e-12);
          expect(Math.abs(out.stateBefore[i] - expectedState[i])).toBeLessThan(1e-12);
          expect(out.stateAfter[i]).toBeGreaterThanOrEqual(0);
          expect(out.stateAfter[i]).toBeLessThanOrEqual(1);
        }
      }),
      { seed, numRuns: 200 },
    );
  });
});

describe('predictRows', () => {
  it('puts results back in input order through inputRow, each sequence restarting from L0', () => {
    // Input order interleaves learners and concepts; the table sorts by (concept, learner, order).
    const builder = new AttemptsTableBuilder();
    const input: [string, string, 0 | 1, number][] = [
      ['u2', 'b', 1, 3],
      ['u1', 'a', 0, 2],
      ['u1', 'a', 1, 1],
      ['u2', 'a', 1, 4],
    ];
    for (const [u, c, k, order] of input) builder.add(u, c, k, Number.NaN, order, null);
    const table = builder.build({ keepInputRow: true });
    const p: BktParams = { p_L0: 0.2, p_T: 0.3, p_S: 0.1, p_G: 0.2, p_F: 0 };
    const out = predictRows(table, conceptRowParameters(table.conceptIds.map((id) => (id === 'a' ? p : undefined))), 4);
    // Concept b has no parameters: its row stays NaN.
    expect(out.correct[0]).toBeNaN();
    // u1 at a: order 1 (input row 2) comes first and starts from L0; order 2 (input row 1) follows it.
    expect(out.stateBefore[2]).toBe(0.2);
    expect(out.stateBefore[1]).toBeCloseTo(out.stateAfter[2] + (1 - out.stateAfter[2]) * 0.3, 15);
    // u2 at a starts again from L0.
    expect(out.stateBefore[3]).toBe(0.2);
  });

  it('asks the row-parameter source once per sequence, with its own row range', () => {
    const table = AttemptsTableBuilder.fromArrays({ learner: ['x', 'y', 'x'], concept: ['c', 'c', 'c'], correct: [1, 1, 0] });
    const calls: [number, number, number][] = [];
    const source: RowParameters = {
      hasConcept: () => true,
      fillSequence(concept, start, end, into) {
        calls.push([concept, start, end]);
        return conceptRowParameters([{ p_L0: 0.5, p_T: 0.1, p_S: 0.1, p_G: 0.1, p_F: 0 }]).fillSequence(0, start, end, into);
      },
    };
    const out = predictRows(table, source);
    expect(calls).toEqual([
      [0, 0, 2],
      [0, 2, 3],
    ]);
    expect(out.correct[2]).toBeCloseTo(0.5 * 0.9 + 0.5 * 0.1, 15);
  });
});
