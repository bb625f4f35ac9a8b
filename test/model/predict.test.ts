import { describe, expect, it } from 'vitest';
import { predictionMetrics } from '../../src/model/metrics.js';
import { predictTable, scoreConcept, scoredRows } from '../../src/model/predict.js';
import { simulateAttempts } from '../../src/model/simulate.js';

describe('predictTable and scoreConcept', () => {
  const params = [
    { p_L0: 0.2, p_T: 0.15, p_S: 0.1, p_G: 0.25, p_F: 0 },
    { p_L0: 0.5, p_T: 0.05, p_S: 0.2, p_G: 0.1, p_F: 0.02 },
  ];
  const table = simulateAttempts({ params, learners: 50, attemptsPerLearner: 8, seed: 5 });

  it('predicts the first attempt of every sequence from L0 alone', () => {
    const { pCorrect } = predictTable(table, params);
    for (let q = 0; q < table.sequenceStart.length - 1; q++) {
      const p = params[table.concept[table.sequenceStart[q]]];
      expect(pCorrect[table.sequenceStart[q]]).toBeCloseTo(p.p_L0 * (1 - p.p_S) + (1 - p.p_L0) * p.p_G, 14);
    }
  });

  it('leaves rows of concepts without parameters as NaN, never 0.5', () => {
    const { pCorrect } = predictTable(table, [params[0], undefined]);
    const secondStart = table.sequenceStart[table.conceptSequenceStart[1]];
    expect(Number.isNaN(pCorrect[secondStart])).toBe(true);
    expect(scoredRows(pCorrect, table.correct).label.length).toBe(50 * 8);
  });

  it('scores a concept exactly as predicting the table and computing metrics on its rows', () => {
    const { pCorrect } = predictTable(table, params);
    for (const c of [0, 1]) {
      const s0 = table.sequenceStart[table.conceptSequenceStart[c]];
      const s1 = table.sequenceStart[table.conceptSequenceStart[c + 1]];
      const { predicted, label } = scoredRows(pCorrect, table.correct, s0, s1);
      const expected = predictionMetrics(predicted, label);
      const actual = scoreConcept(table, c, params[c]);
      expect(actual.n).toBe(expected.n);
      expect(actual.auc).toBeCloseTo(expected.auc as number, 14);
      expect(actual.rmse).toBeCloseTo(expected.rmse, 14);
      expect(actual.log_loss).toBeCloseTo(expected.log_loss, 14);
      expect(actual.accuracy).toBe(expected.accuracy);
    }
  });
});
