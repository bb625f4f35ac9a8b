import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../src/data/attempts-table-builder.js';
import { decideActivation, heldOutMetrics, holdoutSplit, MIN_COMPARISON_ROWS } from '../../src/jobs/activation.js';
import type { PredictionMetrics } from '../../src/model/fit-types.js';

const metrics = (rmse: number, n = 200): PredictionMetrics => ({ auc: 0.7, rmse, log_loss: 0.6, accuracy: 0.7, n });
const options = { margin: 0.005, force: false, activeParamsId: 'a1', holdout: 'test split' };

describe('decideActivation', () => {
  it('activates a new fit that is not worse by more than the margin', () => {
    // 0.4040 - 0.4000 = 0.0040 <= 0.005
    expect(decideActivation(metrics(0.404), metrics(0.4), options).decision).toBe('activate');
    expect(decideActivation(metrics(0.39), metrics(0.4), options).decision).toBe('activate');
  });

  it('keeps the active set when the new fit is worse by more than the margin, recording both sides', () => {
    // 0.4060 - 0.4000 = 0.0060 > 0.005
    const decision = decideActivation(metrics(0.406), metrics(0.4), options);
    expect(decision).toMatchObject({ decision: 'keep_active', active_params_id: 'a1', margin: 0.005, candidate: { rmse: 0.406 }, active: { rmse: 0.4 } });
    expect(decision.reason).toMatch(/worse by 0\.00600 > margin 0\.005; the active set stays/);
  });

  it('--force activates a worse fit, and too few held-out attempts activate without comparing', () => {
    expect(decideActivation(metrics(0.5), metrics(0.4), { ...options, force: true }).decision).toBe('force');
    const few = decideActivation(metrics(0.5, MIN_COMPARISON_ROWS - 1), metrics(0.4, MIN_COMPARISON_ROWS - 1), options);
    expect(few.decision).toBe('activate_uncompared');
    expect(decideActivation(null, null, options).decision).toBe('activate_uncompared');
  });
});

describe('holdoutSplit and heldOutMetrics', () => {
  // Two learners on one concept: u1 answers 1,0 at t = 1, 2 days; u2 answers 1 at t = 3 days.
  const day = 86_400_000;
  const builder = new AttemptsTableBuilder();
  builder.add('u1', 'c', 1, 1 * day, 0, null);
  builder.add('u1', 'c', 0, 2 * day, 1, null);
  builder.add('u2', 'c', 1, 3 * day, 2, null);
  const table = builder.build();
  const params = { p_L0: 0.5, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 };

  it('--holdout-from trains on earlier attempts and scores later ones from the whole history', () => {
    const split = holdoutSplit(table, { kind: 'from', date: '1970-01-02T12:00:00Z', ms: 1.5 * day });
    expect(split.train.length).toBe(1);
    // Held out: u1's second answer and u2's answer. u1: P(C1) = 0.5*0.9 + 0.5*0.2 = 0.55; after a correct
    // answer posterior 0.45/0.55 = 0.818182, next 0.818182 + 0.181818*0.2 = 0.854545, so
    // P(C2) = 0.854545*0.9 + 0.145455*0.2 = 0.798182, answered wrong. u2: P = 0.55, answered right.
    const m = heldOutMetrics(table, 0, params, split.heldOut)!;
    expect(m.n).toBe(2);
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.798182 ** 2 + 0.45 ** 2) / 2), 5);
  });

  it('the learner split holds out whole learners and trains on the rest', () => {
    const split = holdoutSplit(table, { kind: 'learners', fraction: 0.5, seed: 1 });
    const heldRows = [0, 1, 2].filter((row) => split.heldOut(row));
    // One of the two learners is held out, with all its rows.
    expect(heldRows.length === 2 || heldRows.length === 1).toBe(true);
    expect(split.train.length + heldRows.length).toBe(3);
  });
});
