import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { areaUnderCurve, predictionMetrics } from '../../src/model/metrics.js';

/** AUC by its definition: every (correct, wrong) pair, ties one half. */
function pairwiseAuc(p: number[], y: number[]): number | null {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < p.length; i++) {
    if (!y[i]) continue;
    for (let j = 0; j < p.length; j++) {
      if (y[j]) continue;
      pairs++;
      wins += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
    }
  }
  return pairs === 0 ? null : wins / pairs;
}

describe('areaUnderCurve', () => {
  it('is 0.75 for scores 0.1, 0.4, 0.35, 0.8 with labels 0, 0, 1, 1 (scikit-learn doc example)', () => {
    expect(areaUnderCurve(Float64Array.from([0.1, 0.4, 0.35, 0.8]), Uint8Array.from([0, 0, 1, 1]))).toBe(0.75);
  });

  it('counts ties as one half', () => {
    expect(areaUnderCurve(Float64Array.from([0.5, 0.5]), Uint8Array.from([1, 0]))).toBe(0.5);
  });

  it('is null when only one class is present', () => {
    expect(areaUnderCurve(Float64Array.from([0.2, 0.3]), Uint8Array.from([1, 1]))).toBeNull();
  });

  it('equals the pairwise definition on any input, ties included', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }).map((k) => k / 20), fc.integer({ min: 0, max: 1 })), { minLength: 1, maxLength: 60 }),
        (rows) => {
          const p = rows.map((r) => r[0]);
          const y = rows.map((r) => r[1]);
          const fast = areaUnderCurve(Float64Array.from(p), Uint8Array.from(y));
          const slow = pairwiseAuc(p, y);
          return slow === null ? fast === null : Math.abs((fast as number) - slow) < 1e-12;
        },
      ),
    );
  });
});

describe('predictionMetrics', () => {
  it('computes RMSE, log loss and accuracy by hand for three rows', () => {
    const m = predictionMetrics(Float64Array.from([0.8, 0.3, 0.5]), Uint8Array.from([1, 0, 0]));
    // errors 0.2, -0.3, -0.5 -> mean square (0.04 + 0.09 + 0.25)/3
    expect(m.rmse).toBeCloseTo(Math.sqrt(0.38 / 3), 14);
    expect(m.log_loss).toBeCloseTo(-(Math.log(0.8) + Math.log(0.7) + Math.log(0.5)) / 3, 14);
    // p >= 0.5 predicts correct: hit, hit, miss
    expect(m.accuracy).toBeCloseTo(2 / 3, 14);
    expect(m.n).toBe(3);
  });
});
