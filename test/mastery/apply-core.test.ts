import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyToState, type CoreAttempt } from '../../src/mastery/apply-core.js';
import { updateMastery } from '../../src/model/online-update.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const APP_DEFAULTS = { p_L0: 0.1, p_T: 0.1, p_S: 0.1, p_G: 0.25, p_F: 0 };
const T0 = Date.parse('2026-01-21T12:00:00.000Z');

function ledger() {
  const keys = new Set<string>();
  return { keys, record: (k: string) => (keys.has(k) ? false : (keys.add(k), true)) };
}
const at = (key: string, correct: boolean, answeredAt: number | null = null): CoreAttempt => ({ attemptKey: key, correct, questionId: null, answeredAt });

describe('applyToState', () => {
  it('starts a new state at L0: correct 0.1 -> 0.357143, wrong 0.1 -> 0.113139 (L0 .1, T .1, S .1, G .25)', async () => {
    // correct: P(C) = 0.1*0.9 + 0.9*0.25 = 0.315; post = 0.09/0.315 = 0.285714; next = 0.285714 + 0.714286*0.1 = 0.357143
    const c = await applyToState(null, [at('a', true)], APP_DEFAULTS, T0, ledger().record);
    expect(c.steps[0]).toMatchObject({ outcome: 'applied', pPrior: 0.1, nAttempts: 1 });
    expect(c.steps[0].pNew).toBeCloseTo(0.357143, 6);
    // wrong: post = 0.01/0.685 = 0.014599; next = 0.014599 + 0.985401*0.1 = 0.113139
    const w = await applyToState(null, [at('a', false)], APP_DEFAULTS, T0, ledger().record);
    expect(w.steps[0].pNew).toBeCloseTo(0.113139, 6);
    expect(w.state).toMatchObject({ nAttempts: 1, lastAttemptAt: T0 });
  });

  it('reports a key seen before as a duplicate and changes nothing', async () => {
    const l = ledger();
    const first = await applyToState(null, [at('a', true)], APP_DEFAULTS, T0, l.record);
    const again = await applyToState(first.state, [at('a', true), at('a', true)], APP_DEFAULTS, T0 + 5, l.record);
    expect(again.steps.map((s) => s.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(again.state).toEqual(first.state);
  });

  it('reports an attempt older than last_attempt_at as stale, and equal times as applied', async () => {
    const l = ledger();
    const r = await applyToState(null, [at('a', true, T0), at('b', true, T0 - 1), at('c', false, T0)], APP_DEFAULTS, T0 + 100, l.record);
    expect(r.steps.map((s) => s.outcome)).toEqual(['applied', 'stale', 'applied']);
    expect(r.state!.nAttempts).toBe(2);
  });

  it('stamps untimed attempts strictly after the last one even when the clock has not moved', async () => {
    const r = await applyToState(null, [at('a', true), at('b', true), at('c', true)], APP_DEFAULTS, T0, ledger().record);
    expect(r.steps.map((s) => s.answeredAt)).toEqual([T0, T0 + 1, T0 + 2]);
  });

  it('equals a sequential replay of the applied attempts, and keeps p in [0, 1]', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { maxLength: 40 }), async (spec) => {
        // Arrange: keys drawn from a small pool, so some repeat (duplicates)
        const attempts = spec.map(([correct, k]) => at(`k${k}`, correct));
        // Act
        const r = await applyToState(null, attempts, APP_DEFAULTS, T0, ledger().record);
        // Assert
        let p = 0.1;
        const firsts = new Set<string>();
        for (const a of attempts) if (!firsts.has(a.attemptKey)) (firsts.add(a.attemptKey), (p = updateMastery(p, a.correct, APP_DEFAULTS)));
        expect(r.state?.nAttempts ?? 0).toBe(firsts.size);
        if (r.state) expect(r.state.pMastery).toBe(p);
        for (const s of r.steps) expect(s.pNew >= 0 && s.pNew <= 1).toBe(true);
      }),
      { seed, numRuns: 100 },
    );
  });
});
