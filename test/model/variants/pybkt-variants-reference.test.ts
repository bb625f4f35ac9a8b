import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttemptsTable } from '../../../src/data/attempts-table.js';
import { type ReadSummary, readAttempts } from '../../../src/data/read-attempts.js';
import { UsageError } from '../../../src/errors.js';
import { fitConcepts } from '../../../src/model/fit-concepts.js';
import type { ConceptFitResult, FitReport } from '../../../src/model/fit-types.js';
import { predictionMetrics } from '../../../src/model/metrics.js';
import { type BktParams, NO_BOUNDS } from '../../../src/model/params.js';
import { scoredRows } from '../../../src/model/predict.js';
import { type VariantModel, predictTableVariant, tableColumnSource } from '../../../src/model/variants/variant-model.js';
import type { VariantSpec } from '../../../src/model/variants/variant-spec.js';

/**
 * Checked against pyBKT's model variants on synthetic data with known truth
 * (fixtures/pybkt-variants/README.md): the released 1.4.2 build and the build with its E-step
 * fixed ("patched": each class uses its own parameters, the model pyBKT documents). Figures
 * nobody here wrote. pyBKT fits maximum likelihood without bounds, so these fits do too
 * (`--method mle`); the default method (map) is checked against the same figures on its own.
 */
type PybktParams = Record<string, Record<string, number>>;
interface ReferenceConfig {
  build: 'patched' | 'released';
  train_ll: number;
  train_ll_per_skill: Record<string, number>;
  test_auc: number | null;
  /** pyBKT's own `model.evaluate` AUC (sklearn), which the intended forward pass must reproduce. */
  evaluate_test_auc: number | null;
  params?: Record<string, PybktParams>;
  released?: { train_ll_intended: number; test_auc: number | null; params: Record<string, PybktParams> | null };
}
interface TruthSkill {
  skill_name: string;
  template_guess: Record<string, number>;
  template_slip: Record<string, number>;
  template_learn: Record<string, number>;
}
interface Reference {
  families: Record<string, { truth: TruthSkill[]; configs: Record<string, ReferenceConfig> }>;
}

const reference: Reference = JSON.parse(gunzipSync(readFileSync('fixtures/pybkt-variants/reference.json.gz')).toString('utf8'));
const FAMILIES = ['plain', 'gs', 'learn', 'prior'] as const;

const SPECS: Record<string, { variants?: VariantSpec; forgets?: boolean }> = {
  standard: {},
  forgets: { forgets: true },
  multigs: { variants: { multigs: true } },
  multilearn: { variants: { multilearn: true } },
  multigs_multilearn: { variants: { multigs: true, multilearn: true } },
  multiprior_user: { variants: { multiprior: 'user_id' } },
};

interface Data {
  train: AttemptsTable;
  trainSummary: ReadSummary;
  test: AttemptsTable;
  testSummary: ReadSummary;
}
const data = new Map<string, Data>();

beforeAll(async () => {
  for (const family of FAMILIES) {
    const classColumns = [{ name: 'template_id', required: false }];
    const train = await readAttempts({ input: `fixtures/pybkt-variants/${family}/train.csv.gz`, classColumns });
    const test = await readAttempts({ input: `fixtures/pybkt-variants/${family}/test.csv.gz`, classColumns });
    data.set(family, { train: train.table, trainSummary: train.summary, test: test.table, testSummary: test.summary });
  }
}, 60_000);

const fits = new Map<string, Promise<FitReport>>();
/** The fit of one family and config by one method, computed once for every test that needs it. */
function fitOf(family: string, config: string, method: 'mle' | 'map' = 'mle'): Promise<FitReport> {
  const key = `${family}/${config}/${method}`;
  let fit = fits.get(key);
  if (!fit) {
    const { train, trainSummary } = data.get(family)!;
    fit = fitConcepts(train, { ...SPECS[config], method, bounds: NO_BOUNDS, minAttempts: 1, minUsers: 1, workers: 1 }, { columns: trainSummary.columns });
    fits.set(key, fit);
  }
  return fit;
}

/** Per-row log-likelihood (chain rule of the one-step predictions) and AUC of a table under fits. */
function scoreTable(table: AttemptsTable, summary: ReadSummary, byConcept: Map<string, { params: BktParams; model?: VariantModel | null }>) {
  const entries = table.conceptIds.map((id) => byConcept.get(id));
  const { pCorrect } = predictTableVariant(table, entries, tableColumnSource(table, summary.columns));
  let logLikelihood = 0;
  for (let i = 0; i < table.length; i++) logLikelihood += Math.log(table.correct[i] ? pCorrect[i] : 1 - pCorrect[i]);
  const { predicted, label } = scoredRows(pCorrect, table.correct);
  return { logLikelihood, auc: predictionMetrics(predicted, label).auc!, scored: predicted.length };
}

/** pyBKT's `model.params()` of one skill as concept-level params plus a variant model. */
function fromPybkt(p: PybktParams, config: string): { params: BktParams; model: VariantModel | null } {
  const only = (values: Record<string, number>, key: string) => values[key] ?? values.default ?? values.Default;
  const mean = (values: Record<string, number>) => {
    const list = Object.values(values).filter((v) => typeof v === 'number');
    return list.reduce((a, b) => a + b, 0) / list.length;
  };
  const gs = config.includes('multigs');
  const learn = config.includes('multilearn');
  const prior = config === 'multiprior_user';
  const params: BktParams = {
    p_L0: prior ? mean(Object.fromEntries(Object.entries(p.learns).filter(([k]) => k !== 'Default' && k !== 'per_user_summary'))) : only(p.prior, 'default'),
    p_T: prior ? p.learns.Default : learn ? mean(p.learns) : only(p.learns, 'default'),
    p_F: prior ? p.forgets.Default : learn ? mean(p.forgets) : only(p.forgets, 'default'),
    p_G: gs ? mean(p.guesses) : only(p.guesses, 'default'),
    p_S: gs ? mean(p.slips) : only(p.slips, 'default'),
  };
  if (!gs && !learn && !prior) return { params, model: null };
  const model: VariantModel = { variants: [], columns: {} };
  if (gs) {
    model.variants.push('multigs');
    model.columns.multigs = 'template_id';
    model.gs = Object.keys(p.guesses).map((id) => ({ id, p_G: p.guesses[id], p_S: p.slips[id], n_attempts: 0 }));
  }
  if (learn) {
    model.variants.push('multilearn');
    model.columns.multilearn = 'template_id';
    model.learn = Object.keys(p.learns).map((id) => ({ id, p_T: p.learns[id], p_F: p.forgets[id], n_transitions: 0 }));
  }
  if (prior) {
    // pyBKT's phantom step: with prior 0, learns[user] is the user's prior; real steps use learns.Default.
    model.variants.push('multiprior');
    model.columns.multiprior = 'user_id';
    model.prior = Object.keys(p.learns)
      .filter((id) => id !== 'Default' && id !== 'per_user_summary')
      .map((id) => ({ id, p_L0: p.learns[id], n_sequences: 0 }));
  }
  return { params, model };
}

/** Mean absolute error of per-template estimates against the generating values. */
function recoveryError(truth: TruthSkill[], estimate: (skill: string, template: string) => number, key: 'template_guess' | 'template_slip' | 'template_learn'): number {
  let sum = 0;
  let n = 0;
  for (const skill of truth) {
    for (const [template, value] of Object.entries(skill[key])) {
      sum += Math.abs(estimate(skill.skill_name, template) - value);
      n++;
    }
  }
  return sum / n;
}

describe.each(FAMILIES)('pyBKT variant references, family %s', (family) => {
  const fam = () => reference.families[family];

  it.each(['multigs', 'multilearn', 'multigs_multilearn', 'standard', 'forgets'])(
    'reproduces the log-likelihood and test AUC of the reference build\'s own parameters (%s)',
    (config) => {
      // The forward pass and per-row class lookup, independent of fitting: pyBKT's parameters in, its figures out.
      const ref = fam().configs[config];
      const { train, trainSummary, test, testSummary } = data.get(family)!;
      const byConcept = new Map(Object.entries(ref.params!).map(([skill, p]) => [skill, fromPybkt(p, config)]));
      const onTrain = scoreTable(train, trainSummary, byConcept);
      const onTest = scoreTable(test, testSummary, byConcept);
      // Summation order differs (rows vs. pyBKT's per-skill sums): 1e-9 relative.
      expect(Math.abs(onTrain.logLikelihood - ref.train_ll)).toBeLessThan(1e-9 * Math.abs(ref.train_ll));
      expect(onTest.auc).toBeCloseTo(ref.evaluate_test_auc!, 12);
    },
  );

  if (family === 'prior') {
    it('reproduces the patched build\'s log-likelihood of its per-learner priors (multiprior on user_id)', () => {
      const ref = fam().configs.multiprior_user;
      const { train, trainSummary } = data.get(family)!;
      const byConcept = new Map(Object.entries(ref.params!).map(([skill, p]) => [skill, fromPybkt(p, 'multiprior_user')]));
      const onTrain = scoreTable(train, trainSummary, byConcept);
      expect(Math.abs(onTrain.logLikelihood - ref.train_ll)).toBeLessThan(1e-9 * Math.abs(ref.train_ll));
    });
  }

  it.each(Object.keys(SPECS))(
    'fits %s at least as well as the reference: train log-likelihood >= it, test AUC >= it - 0.001, no crash on new learners',
    async (config) => {
      // Arrange
      const ref = fam().configs[config];
      const { train, trainSummary, test, testSummary } = data.get(family)!;
      // Act
      const report = await fitOf(family, config);
      // Assert: the intended model's likelihood (pyBKT's own figure for the patched build).
      expect(report.summary.fitted).toBe(4);
      expect(report.summary.total_log_likelihood).toBeGreaterThanOrEqual(ref.train_ll);
      const fitted = new Map(report.concepts.map((c: ConceptFitResult) => [c.concept_id, { params: c.params!, model: c.model }]));
      const onTest = scoreTable(test, testSummary, fitted);
      // Every test row is predicted, learners never seen in training included (their class falls back).
      expect(onTest.scored).toBe(test.length);
      if (ref.test_auc !== null) {
        expect(onTest.auc).toBeGreaterThanOrEqual(ref.test_auc - 0.001);
      } else {
        // pyBKT cannot evaluate multiprior on new learners (ValueError). Here every test learner is
        // new, so each must be predicted exactly by the concept-level parameters (the fallback).
        const conceptLevel = new Map([...fitted].map(([id, f]) => [id, { params: f.params, model: null }]));
        expect(onTest.auc).toBe(scoreTable(test, testSummary, conceptLevel).auc);
        expect(onTest.auc).toBeGreaterThan(0.79);
      }
      // And the variant's own in-sample likelihood equals the chain rule of its predictions on the training rows.
      const onTrain = scoreTable(train, trainSummary, fitted);
      expect(onTrain.logLikelihood).toBeCloseTo(report.summary.total_log_likelihood, 5);
    },
    120_000,
  );

  it.each(['multigs', 'multilearn', 'multigs_multilearn'])(
    'fits %s with the default method (map) at least as well as the reference too: train log-likelihood >= it, test AUC >= it - 0.001',
    async (config) => {
      // map's Beta priors are split over the classes in proportion to their data (class-prior.ts):
      // on classes of thousands of rows they cost a tenth of a nat.
      const ref = fam().configs[config];
      const { test, testSummary } = data.get(family)!;
      const report = await fitOf(family, config, 'map');
      expect(report.summary.total_log_likelihood).toBeGreaterThanOrEqual(ref.train_ll);
      const fitted = new Map(report.concepts.map((c: ConceptFitResult) => [c.concept_id, { params: c.params!, model: c.model }]));
      expect(scoreTable(test, testSummary, fitted).auc).toBeGreaterThanOrEqual(ref.test_auc! - 0.001);
    },
    120_000,
  );

  it('refuses pyBKT\'s default multiprior column "correct": it picks the prior with the answer being predicted', async () => {
    const { train, trainSummary } = data.get(family)!;
    await expect(fitConcepts(train, { variants: { multiprior: 'correct' }, workers: 1 }, { columns: trainSummary.columns })).rejects.toThrow(UsageError);
  });
});

describe.each([
  ['gs', 'multigs', 'template_guess'],
  ['gs', 'multigs', 'template_slip'],
  ['gs', 'multigs_multilearn', 'template_guess'],
  ['gs', 'multigs_multilearn', 'template_slip'],
  ['learn', 'multilearn', 'template_learn'],
  ['learn', 'multigs_multilearn', 'template_learn'],
] as const)('recovery of the generating parameters, family %s, %s, %s', (family, config, key) => {
  it('is far better than pyBKT 1.4.2 and within estimation noise of the patched build', async () => {
    const ref = reference.families[family].configs[config];
    const truth = reference.families[family].truth;
    const report = await fitOf(family, config);
    const byConcept = new Map(report.concepts.map((c) => [c.concept_id, c.model!]));
    const field = key === 'template_guess' ? 'p_G' : key === 'template_slip' ? 'p_S' : 'p_T';
    const pyField = key === 'template_guess' ? 'guesses' : key === 'template_slip' ? 'slips' : 'learns';
    const ours = recoveryError(
      truth,
      (skill, template) => {
        const model = byConcept.get(skill)!;
        const entry = field === 'p_T' ? model.learn!.find((e) => e.id === template)! : model.gs!.find((e) => e.id === template)!;
        return (entry as unknown as Record<string, number>)[field];
      },
      key,
    );
    const patched = recoveryError(truth, (skill, template) => ref.params![skill][pyField][template], key);
    const released = recoveryError(truth, (skill, template) => ref.released!.params![skill][pyField][template], key);
    // Both builds of the intended model sit at the same likelihood maximum (ours converges to it:
    // higher log-likelihood above); what separates their errors is a shift shared by a skill's
    // items along the flat prior/guess ridge, where the patched build's integer stopping rule
    // happens to halt. On 16 more datasets from the same generator that early stop was no better
    // on average and each figure a near coin toss (docs/algorithms.md), so an exact "<=" would
    // test luck; 5% is the allowance. The gap to 1.4.2's collapsed E-step is 2-7x.
    expect(ours).toBeLessThanOrEqual(patched * 1.05);
    expect(ours).toBeLessThan(released);
  }, 120_000);
});
