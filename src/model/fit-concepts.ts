import { conceptFitStart } from './concept-fit-start.js';
import { z } from 'zod';
import type { AttemptsTable } from '../data/attempts-table.js';
import { UsageError } from '../errors.js';
import { type EmSettings, distinctSequences } from './em-trainer.js';
import { DEFAULT_FIT_METHOD, FIT_METHODS, METHOD_PRESETS } from './fit-methods.js';
import type { ConceptFitResult, FitConceptsExtras, FitReport, FitSummary, RestartResult, TrainerOptions } from './fit-types.js';
import { type FitTask, chooseWorkerCount, runFitTasks } from './fit-pool.js';
import { BOUND_KEYS, type BktParams, PARAM_NAMES } from './params.js';
import { scoreConcept } from './predict.js';
import { DEFAULT_QUALITY_THRESHOLDS, boundWarnings, checkParameterQuality } from './quality.js';
import { checkVariantSpec, hasVariants } from './variants/variant-spec.js';

/** Defaults of every trainer option (docs/algorithms.md explains each choice). */
export const TRAINER_DEFAULTS: Readonly<Omit<TrainerOptions, 'initialParams'>> = Object.freeze({
  method: DEFAULT_FIT_METHOD,
  ...METHOD_PRESETS[DEFAULT_FIT_METHOD],
  restarts: 5,
  seed: 42,
  maxIterations: 1000,
  tolerance: 1e-9,
  forgets: false,
  fixed: {},
  minAttempts: 10,
  minUsers: 3,
  workers: 0,
  quality: DEFAULT_QUALITY_THRESHOLDS,
});

const probability = z.number().min(0).max(1);

/** Validates trainer options coming from flags or files; issues name the option. */
export const trainerOptionsSchema = z
  .object({
    method: z.enum(FIT_METHODS),
    restarts: z.number().int().min(1).max(1000),
    seed: z.number().int().min(0).max(2 ** 32 - 1),
    maxIterations: z.number().int().min(1).max(1_000_000),
    tolerance: z.number().min(0).finite(),
    bounds: z.object({
      L0_min: probability, L0_max: probability, T_min: probability, T_max: probability,
      S_min: probability, S_max: probability, G_min: probability, G_max: probability,
      F_min: probability, F_max: probability,
    }),
    prior: z
      .object(
        Object.fromEntries(
          PARAM_NAMES.map((name) => [name, z.object({ mean: z.number().gt(0).lt(1), strength: z.number().min(0).max(1e9) }).strict().optional()]),
        ),
      )
      .strict()
      .nullable(),
    plausibilityMargin: z.number().min(0).lt(1).nullable(),
    masteryCap: z.number().gt(0).lt(1).nullable(),
    restartSelection: z.enum(['best', 'plausible']),
    forgets: z.boolean(),
    fixed: z.object({ p_L0: probability, p_T: probability, p_S: probability, p_G: probability, p_F: probability }).partial(),
    fixedByConcept: z
      .record(z.string(), z.object({ p_L0: probability, p_T: probability, p_S: probability, p_G: probability, p_F: probability }).partial())
      .optional(),
    minAttempts: z.number().int().min(1),
    minUsers: z.number().int().min(1),
    workers: z.number().int().min(0).max(64),
    quality: z.object({
      minLearn: z.number(),
      minDiscrimination: z.number(),
      minLearningGain: z.number(),
      minAnswersToMaster: z.number().int().min(1).default(DEFAULT_QUALITY_THRESHOLDS.minAnswersToMaster),
      masteryThreshold: z.number().gt(0).lt(1).default(DEFAULT_QUALITY_THRESHOLDS.masteryThreshold),
    }),
  })
  .superRefine((o, ctx) => {
    for (const name of PARAM_NAMES) {
      const [lo, hi] = BOUND_KEYS[name];
      if (o.bounds[lo] > o.bounds[hi]) {
        ctx.addIssue({ code: 'custom', path: ['bounds', lo], message: `${lo} ${o.bounds[lo]} is above ${hi} ${o.bounds[hi]}` });
      }
    }
  });

/**
 * Merge partial options over the defaults of their method (`map` unless given) and validate them;
 * a bad value is a UsageError.
 */
export function resolveTrainerOptions(partial: Partial<TrainerOptions> = {}): TrainerOptions {
  const method = partial.method ?? TRAINER_DEFAULTS.method;
  const preset = METHOD_PRESETS[method] ?? METHOD_PRESETS.map;
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<TrainerOptions>;
  const merged = { ...TRAINER_DEFAULTS, ...preset, ...defined, method, bounds: { ...(defined.bounds ?? preset.bounds) } };
  const { initialParams, warmStarts, variants, ...checkable } = merged as TrainerOptions;
  const parsed = trainerOptionsSchema.safeParse(checkable);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`trainer option \`${issue.path.join('.')}\`: ${issue.message}`, 'See "bkt fit --help" for the allowed values');
  }
  if (hasVariants(variants)) checkVariantSpec(variants);
  return { ...(parsed.data as Omit<TrainerOptions, 'initialParams'>), initialParams, warmStarts, ...(hasVariants(variants) ? { variants } : {}) };
}

import { drawRestartStarts } from './restart-starts.js';

export { drawRestartStarts };

export type { FitConceptsExtras, FitProgress } from './fit-types.js';

/**
 * Fit BKT parameters per concept by EM (Baum-Welch, Rabiner 1989; SQUAREM-accelerated, bounds
 * projected at each M-step) from `restarts` seeded random starts, keeping the highest
 * log-likelihood (ties: the lowest restart). Concepts with fewer than `minAttempts` attempts or
 * `minUsers` learners are reported as skipped with the reason, never fitted. Each fitted concept
 * gets in-sample metrics (one-step-ahead predictions) and schema.md's quality verdict.
 * Results are bit-identical for the same table, options and seed whatever the worker count,
 * because each restart is a pure function of its own inputs.
 * Throws UsageError for invalid options.
 */
export async function fitConcepts(
  table: AttemptsTable,
  partialOptions: Partial<TrainerOptions> = {},
  extras: FitConceptsExtras = {},
): Promise<FitReport> {
  const started = performance.now();
  const options = resolveTrainerOptions(partialOptions);
  if (hasVariants(options.variants)) {
    const { fitVariantConcepts } = await import('./variants/fit-variants.js');
    return fitVariantConcepts(table, options, extras, started);
  }
  const settings: EmSettings = {
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
    bounds: options.bounds,
    forgets: options.forgets,
    fixed: options.fixed,
    prior: options.prior,
    plausibilityMargin: options.plausibilityMargin,
    masteryCap: options.masteryCap,
  };
  const conceptIndices = extras.conceptIndices ?? table.conceptIds.map((_, c) => c);

  const results = new Map<number, ConceptFitResult>();
  const tasks: FitTask[] = [];
  const taskConcept: number[] = [];
  const taskRestart: number[] = [];
  for (const c of conceptIndices) {
    const base = conceptFitStart(table, c, options.minAttempts, options.minUsers);
    results.set(c, base);
    if (base.status === 'skipped') continue;
    const firstSequence = table.conceptSequenceStart[c];
    const lastSequence = table.conceptSequenceStart[c + 1];
    const conceptId = base.concept_id;
    const nAttempts = base.n_attempts;
    // Identical sequences are computed once per E-step when that saves at least 5% of the work.
    const distinct = distinctSequences(table.correct, table.sequenceStart, firstSequence, lastSequence);
    let distinctAttempts = 0;
    for (const q of distinct.sequences) distinctAttempts += table.sequenceStart[q + 1] - table.sequenceStart[q];
    const useDistinct = distinctAttempts <= 0.95 * nAttempts;
    const starts = drawRestartStarts(options.seed, conceptId, options.restarts, options.bounds, options.forgets);
    const conceptFixed = options.fixedByConcept?.[conceptId];
    const conceptSettings = conceptFixed ? { ...settings, fixed: { ...settings.fixed, ...conceptFixed } } : settings;
    const warm = options.warmStarts?.(conceptId);
    if (warm) results.set(c, { ...base, warm_start: warm });
    for (let restart = 0; restart < options.restarts + (warm ? 1 : 0); restart++) {
      const initial = restart === options.restarts ? warm! : (options.initialParams?.(conceptId, restart) ?? starts[restart]);
      taskConcept.push(c);
      taskRestart.push(restart);
      tasks.push({
        id: tasks.length,
        firstSequence,
        lastSequence,
        initial,
        settings: conceptSettings,
        distinct: useDistinct ? distinct : undefined,
        attempts: useDistinct ? distinctAttempts : nAttempts,
      });
    }
  }

  const totalWork = tasks.reduce((sum, t) => sum + t.attempts, 0);
  const workers = chooseWorkerCount(options.workers, totalWork, tasks.length);
  let done = 0;
  const outcomes = await runFitTasks(table.correct, table.sequenceStart, tasks, workers, () => {
    done++;
    extras.onProgress?.({ restartsDone: done, restartsTotal: tasks.length });
  });

  const restartsByConcept = new Map<number, { restarts: RestartResult[]; errors: string[] }>();
  outcomes.forEach((outcome, id) => {
    const c = taskConcept[id];
    const entry = restartsByConcept.get(c) ?? { restarts: [], errors: [] };
    restartsByConcept.set(c, entry);
    const restart = taskRestart[id];
    if (outcome.error !== undefined || !Number.isFinite(outcome.result.logLikelihood)) {
      entry.errors.push(outcome.error ?? `restart ${restart}: log-likelihood is not finite`);
      return;
    }
    entry.restarts.push({
      restart,
      initial: tasks[id].initial,
      params: outcome.result.params,
      log_likelihood: outcome.result.logLikelihood,
      log_posterior: outcome.result.logPosterior,
      iterations: outcome.result.iterations,
      converged: outcome.result.converged,
      ...(restart === options.restarts ? { warm_start: true } : {}),
    });
  });

  const bestParams: (BktParams | undefined)[] = [];
  for (const [c, { restarts, errors }] of restartsByConcept) {
    const base = results.get(c)!;
    if (restarts.length === 0) {
      results.set(c, { ...base, status: 'failed', reason: `EM failed on every restart: ${errors[0]}` });
      continue;
    }
    const best = chooseRestart(restarts, options);
    bestParams[c] = best.params;
    const verdict = checkParameterQuality(best.params, options.quality);
    const warnings = boundWarnings(best.params, options.bounds, options);
    results.set(c, {
      ...base,
      status: 'fitted',
      params: best.params,
      log_likelihood: best.log_likelihood,
      iterations: best.iterations,
      converged: best.converged,
      valid: verdict.valid,
      degenerate: verdict.degenerate,
      violations: verdict.findings,
      warnings,
      restarts,
    });
  }

  for (const [c, result] of results) {
    if (result.status === 'fitted') result.metrics = scoreConcept(table, c, bestParams[c]!);
  }

  const concepts = conceptIndices.map((c) => results.get(c)!);
  const fitted = concepts.filter((r) => r.status === 'fitted');
  const summary: FitSummary = {
    concepts_total: concepts.length,
    fitted: fitted.length,
    skipped: concepts.filter((r) => r.status === 'skipped').length,
    failed: concepts.filter((r) => r.status === 'failed').length,
    invalid: fitted.filter((r) => r.valid === false).length,
    degenerate: fitted.filter((r) => r.degenerate === true).length,
    at_bound: fitted.filter((r) => r.warnings.length > 0).length,
    n_attempts: concepts.reduce((sum, r) => sum + r.n_attempts, 0),
    total_log_likelihood: fitted.reduce((sum, r) => sum + (r.log_likelihood ?? 0), 0),
    seconds: (performance.now() - started) / 1000,
    workers,
  };
  const { initialParams, warmStarts, ...settingsUsed } = options;
  return { concepts, summary, settings: settingsUsed };
}

/**
 * The restart a concept keeps: the highest log posterior (ties: the lowest restart index); with
 * `restartSelection: 'plausible'`, the highest among those that are valid, not degenerate and on
 * no bound, when there is one.
 */
export function chooseRestart(restarts: RestartResult[], options: Pick<TrainerOptions, 'restartSelection' | 'quality' | 'bounds' | 'fixed' | 'forgets' | 'plausibilityMargin'>): RestartResult {
  const highest = (list: RestartResult[]) => list.reduce((best, r) => (r.log_posterior > best.log_posterior ? r : best));
  if (options.restartSelection === 'plausible') {
    const plausible = restarts.filter((r) => {
      const verdict = checkParameterQuality(r.params, options.quality);
      return verdict.valid && !verdict.degenerate && boundWarnings(r.params, options.bounds, options).length === 0;
    });
    if (plausible.length) return highest(plausible);
  }
  return highest(restarts);
}
