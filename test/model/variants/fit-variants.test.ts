import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AttemptsTableBuilder } from '../../../src/data/attempts-table-builder.js';
import type { AttemptsTable } from '../../../src/data/attempts-table.js';
import { InputError, UsageError } from '../../../src/errors.js';
import { fitConcepts } from '../../../src/model/fit-concepts.js';
import { DEFAULT_PRIOR } from '../../../src/model/fit-methods.js';
import { DEFAULT_BOUNDS, NO_BOUNDS } from '../../../src/model/params.js';
import { seededRandom } from '../../../src/model/random.js';
import { classLogPrior, classPriorGroups } from '../../../src/model/variants/class-prior.js';
import { problemOf } from '../../../src/model/variants/fit-variants.js';
import { predictTableVariant } from '../../../src/model/variants/variant-model.js';
import { buildVariantLayout, resolveVariants } from '../../../src/model/variants/variant-spec.js';
import {
  VariantWorkspace,
  problemShape,
  problemStatisticsLayout,
  thetaFromParams,
  priorGroupsOf,
  thetaLayout,
  variantExpectationStep,
  variantMaximizationStep,
} from '../../../src/model/variants/variant-trainer.js';

interface Generator {
  learners: number;
  attempts: number;
  items: string[];
  prior: (learner: number) => number;
  cohort?: (learner: number) => string;
  guess: (item: string) => number;
  slip: (item: string) => number;
  /** Learn after answering `item` right after `previous` (null on a sequence's first step). */
  learn: (item: string, previous: string | null) => number;
  seed: number;
}

/** Draw one concept's attempts from a variant BKT model (forget 0), items uniform per attempt. */
function simulate(g: Generator): AttemptsTable {
  const random = seededRandom(g.seed, 'variants-test');
  const learner: string[] = [];
  const concept: string[] = [];
  const correct: number[] = [];
  const item: string[] = [];
  const cohort: string[] = [];
  for (let u = 0; u < g.learners; u++) {
    let known = random() < g.prior(u);
    let previous: string | null = null;
    for (let k = 0; k < g.attempts; k++) {
      const it = g.items[Math.floor(random() * g.items.length)];
      learner.push(`u${u}`);
      concept.push('c');
      item.push(it);
      cohort.push(g.cohort?.(u) ?? '');
      correct.push((known ? random() >= g.slip(it) : random() < g.guess(it)) ? 1 : 0);
      if (!known) known = random() < g.learn(it, previous);
      previous = it;
    }
  }
  return AttemptsTableBuilder.fromArrays({ learner, concept, correct, classes: { item, cohort } });
}

/** Learners whose items differ in guess, slip and learn and whose cohorts differ in prior: every variant has classes to tell apart. */
function classVaryingTable(learners: number, attempts: number, seed: number) {
  return simulate({
    learners,
    attempts,
    items: ['a', 'b', 'c'],
    prior: (u) => (u % 3 === 0 ? 0.6 : 0.2),
    cohort: (u) => `k${u % 3}`,
    guess: (i) => (i === 'a' ? 0.1 : 0.3),
    slip: (i) => (i === 'b' ? 0.2 : 0.05),
    learn: (i) => (i === 'c' ? 0.3 : 0.1),
    seed,
  });
}

describe('fitVariantConcepts', () => {
  it('recovers per-item guess and slip (multigs) from 3,000 learners x 20 attempts', async () => {
    const guess: Record<string, number> = { a: 0.05, b: 0.2, c: 0.35 };
    const slip: Record<string, number> = { a: 0.2, b: 0.05, c: 0.1 };
    const table = simulate({ learners: 3000, attempts: 20, items: ['a', 'b', 'c'], prior: () => 0.3, guess: (i) => guess[i], slip: (i) => slip[i], learn: () => 0.15, seed: 1 });
    const report = await fitConcepts(table, { variants: { multigs: 'item' }, workers: 1 });
    const model = report.concepts[0].model!;
    expect(model.variants).toEqual(['multigs']);
    // 20,000 answers per item: standard errors ~0.01; 0.03 is three of them.
    for (const entry of model.gs!) {
      expect(Math.abs(entry.p_G - guess[entry.id])).toBeLessThan(0.03);
      expect(Math.abs(entry.p_S - slip[entry.id])).toBeLessThan(0.03);
    }
    // The concept-level guess is the pooled estimate: between the items' values.
    expect(report.concepts[0].params!.p_G).toBeGreaterThan(0.05);
    expect(report.concepts[0].params!.p_G).toBeLessThan(0.35);
  });

  it('recovers learn rates per ordered item pair (multipair) and per learner cohort prior (multiprior)', async () => {
    const pairLearn = (item: string, previous: string | null) => (previous === null ? 0.1 : previous === item ? 0.05 : 0.3);
    const table = simulate({
      learners: 4000,
      attempts: 12,
      items: ['a', 'b'],
      prior: (u) => (u % 2 === 0 ? 0.1 : 0.6),
      cohort: (u) => (u % 2 === 0 ? 'novice' : 'expert'),
      guess: () => 0.2,
      slip: () => 0.1,
      learn: pairLearn,
      seed: 2,
    });
    const pair = await fitConcepts(table, { variants: { multipair: 'item' }, workers: 1, bounds: NO_BOUNDS });
    const pairs = pair.concepts[0].model!.pair!;
    // The generator's learn after (previous, item) applies after the row answering `item`; pyBKT's
    // multipair keys the transition after row i by (item i-1, item i), the same pair.
    expect(pairs.length).toBe(5); // the first step, and aa, ab, ba, bb
    for (const e of pairs) {
      if (e.previous === null) continue;
      expect(Math.abs(e.p_T - pairLearn(e.current!, e.previous))).toBeLessThan(0.04);
    }
    const prior = await fitConcepts(table, { variants: { multiprior: 'cohort' }, workers: 1, bounds: NO_BOUNDS });
    const priors = new Map(prior.concepts[0].model!.prior!.map((e) => [e.id, e.p_L0]));
    expect(Math.abs(priors.get('novice')! - 0.1)).toBeLessThan(0.04);
    expect(Math.abs(priors.get('expert')! - 0.6)).toBeLessThan(0.04);
    expect(prior.concepts[0].model!.prior!.map((e) => e.n_sequences)).toEqual([2000, 2000]);
  });

  it('never lowers the log-likelihood from one plain EM step to the next, for every variant combination', () => {
    const combos = [{ multigs: 'item' }, { multilearn: 'item' }, { multigs: 'item', multipair: 'item' }, { multigs: 'item', multiprior: 'cohort' }] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...combos), fc.boolean(), fc.boolean(), (seed, spec, bounded, forgets) => {
        // Arrange
        const table = classVaryingTable(60, 10, seed);
        const variants = resolveVariants(table, spec);
        const layout = buildVariantLayout(table, variants);
        const problem = problemOf(table, layout, 0);
        const shape = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
        const statsLayout = problemStatisticsLayout(problem);
        const workspace = new VariantWorkspace();
        workspace.ensure(problemShape(problem).longest, statsLayout.length);
        const settings = { maxIterations: 1, tolerance: 0, bounds: bounded ? DEFAULT_BOUNDS : NO_BOUNDS, forgets, fixed: {} };
        let theta = thetaFromParams({ p_L0: 0.3, p_T: 0.2, p_S: 0.1, p_G: 0.25, p_F: forgets ? 0.05 : 0 }, shape);
        let previous = Number.NEGATIVE_INFINITY;
        // Act / Assert: 12 plain EM steps
        for (let i = 0; i < 12; i++) {
          const ll = variantExpectationStep(theta, shape, problem, statsLayout, workspace);
          if (ll < previous - 1e-9 * Math.abs(previous)) return false;
          previous = ll;
          theta = variantMaximizationStep(theta, shape, workspace.stats, statsLayout, settings);
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });

  it('under map never lowers the log posterior from one plain EM step to the next', () => {
    const combos = [{ multigs: 'item' }, { multilearn: 'item' }, { multigs: 'item', multipair: 'item' }, { multigs: 'item', multiprior: 'cohort' }] as const;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(...combos), fc.boolean(), (seed, spec, forgets) => {
        const table = classVaryingTable(40, 8, seed);
        const layout = buildVariantLayout(table, resolveVariants(table, spec));
        const problem = problemOf(table, layout, 0);
        const shape = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
        const statsLayout = problemStatisticsLayout(problem);
        const workspace = new VariantWorkspace();
        workspace.ensure(problemShape(problem).longest, statsLayout.length);
        // A strong prior (strength 40) so that the prior term is large against the likelihood.
        const prior = Object.fromEntries(Object.entries(DEFAULT_PRIOR).map(([k, v]) => [k, { mean: v.mean, strength: 40 }]));
        const settings = { maxIterations: 1, tolerance: 0, bounds: NO_BOUNDS, forgets, fixed: {}, prior };
        let theta = thetaFromParams({ p_L0: 0.3, p_T: 0.2, p_S: 0.1, p_G: 0.25, p_F: forgets ? 0.05 : 0 }, shape);
        let previous = Number.NEGATIVE_INFINITY;
        for (let i = 0; i < 12; i++) {
          const ll = variantExpectationStep(theta, shape, problem, statsLayout, workspace);
          const groups = priorGroupsOf(shape, workspace.stats, statsLayout, settings);
          const posterior = ll + classLogPrior(theta, groups);
          if (posterior < previous - 1e-9 * Math.abs(previous)) return false;
          previous = posterior;
          theta = variantMaximizationStep(theta, shape, workspace.stats, statsLayout, settings, undefined, groups);
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });

  it('under map gives each class its share of the concept\'s prior: strengths sum to the standard ones, in proportion to observations', () => {
    const groups = classPriorGroups(
      { p_G: { mean: 0.2, strength: 5 }, p_L0: { mean: 0.5, strength: 10 } },
      [
        { name: 'p_G', from: 3, to: 6, observations: [100, 0, 300] },
        { name: 'p_S', from: 6, to: 9, observations: [100, 0, 300] },
        { name: 'p_L0', from: 0, to: 1, observations: [50] },
        { name: 'p_T', from: 1, to: 3, observations: [7, 7] },
      ],
      (name) => name !== 'p_T',
    );
    // p_S has no prior entry and p_T is not free: no group.
    expect(groups.map((g) => g.name)).toEqual(['p_G', 'p_L0']);
    expect(Array.from(groups[0].strengths)).toEqual([1.25, 0, 3.75]);
    expect(Array.from(groups[1].strengths)).toEqual([10]);
  });

  it('with one class of each kind, map is the standard map fit without the cap (the prior is the same)', async () => {
    const table = simulate({ learners: 300, attempts: 10, items: ['a'], prior: () => 0.4, guess: () => 0.2, slip: () => 0.1, learn: () => 0.15, seed: 7 });
    const standard = await fitConcepts(table, { method: 'map', masteryCap: null, restartSelection: 'best', workers: 1, tolerance: 1e-12 });
    const variant = await fitConcepts(table, { method: 'map', variants: { multigs: 'item', multilearn: 'item' }, workers: 1, tolerance: 1e-12 });
    const s = standard.concepts[0];
    const v = variant.concepts[0];
    expect(v.model!.gs!.length).toBe(1);
    for (const name of ['p_L0', 'p_T', 'p_S', 'p_G'] as const) expect(v.params![name]).toBeCloseTo(s.params![name], 5);
    expect(v.restarts[0].log_posterior).toBeCloseTo(s.restarts.find((r) => r.restart === v.restarts[0].restart)!.log_posterior, 3);
    // and the prior is really on: the mle fit lands elsewhere.
    const mle = await fitConcepts(table, { method: 'mle', variants: { multigs: 'item', multilearn: 'item' }, workers: 1, tolerance: 1e-12 });
    expect(Math.abs(mle.concepts[0].params!.p_L0 - v.params!.p_L0)).toBeGreaterThan(1e-4);
  });

  it('under map keeps one-sequence classes (a prior per learner) off 0 and 1, where mle puts them', async () => {
    const table = simulate({ learners: 200, attempts: 10, items: ['a'], prior: (u) => (u % 2 ? 0.9 : 0.1), cohort: (u) => `u${u}`, guess: () => 0.2, slip: () => 0.1, learn: () => 0.15, seed: 8 });
    const extremes = async (method: 'map' | 'mle') => {
      const report = await fitConcepts(table, { method, variants: { multiprior: 'cohort' }, workers: 1 });
      const priors = report.concepts[0].model!.prior!.map((e) => e.p_L0);
      return Math.min(...priors.map((p) => Math.min(p, 1 - p)));
    };
    expect(await extremes('mle')).toBeLessThan(1e-6);
    expect(await extremes('map')).toBeGreaterThan(1e-4);
  });

  it('holds --fix values and the bounds in every class', async () => {
    const table = simulate({ learners: 300, attempts: 10, items: ['a', 'b', 'c'], prior: () => 0.3, guess: (i) => (i === 'a' ? 0.5 : 0.1), slip: () => 0.1, learn: () => 0.2, seed: 3 });
    const report = await fitConcepts(table, { variants: { multigs: 'item', multilearn: 'item' }, fixed: { p_S: 0.07 }, bounds: { ...DEFAULT_BOUNDS, G_max: 0.3 }, workers: 1 });
    const { model, params } = report.concepts[0];
    expect(params!.p_S).toBe(0.07);
    for (const e of model!.gs!) {
      expect(e.p_S).toBe(0.07);
      expect(e.p_G).toBeLessThanOrEqual(0.3);
    }
    for (const e of model!.learn!) expect(e.p_F).toBe(0);
    // Per-concept fixed values (--fix-from) hold in every class too.
    const perConcept = await fitConcepts(table, { variants: { multigs: 'item' }, fixedByConcept: { c: { p_G: 0.2 } }, workers: 1 });
    expect(perConcept.concepts[0].params!.p_G).toBe(0.2);
    for (const e of perConcept.concepts[0].model!.gs!) expect(e.p_G).toBe(0.2);
  });

  it('gives the same fits whatever the number of workers', async () => {
    const table = simulate({ learners: 400, attempts: 12, items: ['a', 'b', 'c', 'd'], prior: () => 0.3, guess: () => 0.2, slip: () => 0.1, learn: (i) => (i === 'a' ? 0.4 : 0.1), seed: 4 });
    const one = await fitConcepts(table, { variants: { multilearn: 'item' }, workers: 1 });
    const two = await fitConcepts(table, { variants: { multilearn: 'item' }, workers: 2 });
    expect(two.summary.workers).toBe(2);
    expect(two.concepts).toEqual(one.concepts);
  });

  it('refuses a multiprior column that changes within a learner (exit 3) and the answer column (exit 2)', async () => {
    const table = simulate({ learners: 20, attempts: 5, items: ['a', 'b'], prior: () => 0.3, guess: () => 0.2, slip: () => 0.1, learn: () => 0.2, seed: 5 });
    await expect(fitConcepts(table, { variants: { multiprior: 'item' }, workers: 1 })).rejects.toThrow(InputError);
    await expect(fitConcepts(table, { variants: { multiprior: 'correct' }, workers: 1 })).rejects.toThrow(UsageError);
    await expect(fitConcepts(table, { variants: { multilearn: 'item', multipair: 'item' }, workers: 1 })).rejects.toThrow(UsageError);
    await expect(fitConcepts(table, { variants: { multigs: 'nope' }, workers: 1 })).rejects.toThrow(UsageError);
  });
});

describe('predictTableVariant', () => {
  it('predicts an unseen item with the concept-level guess and slip, and a seen one with its own', async () => {
    const train = simulate({ learners: 500, attempts: 10, items: ['a', 'b'], prior: () => 0.3, guess: (i) => (i === 'a' ? 0.05 : 0.35), slip: () => 0.1, learn: () => 0.2, seed: 6 });
    const report = await fitConcepts(train, { variants: { multigs: 'item' }, workers: 1 });
    const { params, model } = report.concepts[0];
    const test = AttemptsTableBuilder.fromArrays({ learner: ['x', 'y'], concept: ['c', 'c'], correct: [1, 1], classes: { item: ['new', 'a'] } });
    const { pCorrect, pMastery } = predictTableVariant(test, [{ params: params!, model }]);
    const a = model!.gs!.find((e) => e.id === 'a')!;
    expect(pMastery[0]).toBe(params!.p_L0);
    expect(pCorrect[0]).toBeCloseTo(params!.p_L0 * (1 - params!.p_S) + (1 - params!.p_L0) * params!.p_G, 15);
    expect(pCorrect[1]).toBeCloseTo(params!.p_L0 * (1 - a.p_S) + (1 - params!.p_L0) * a.p_G, 15);
  });
});
