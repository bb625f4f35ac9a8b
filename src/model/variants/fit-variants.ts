import { conceptFitStart } from '../concept-fit-start.js';
import type { AttemptsTable } from '../../data/attempts-table.js';
import type { EmSettings } from '../em-trainer.js';
import { drawRestartStarts } from '../restart-starts.js';
import { type FitTask, chooseWorkerCount, runFitTasks } from '../fit-pool.js';
import type { ConceptFitResult, FitConceptsExtras, FitReport, FitSummary, PredictionMetrics, RestartResult, TrainerOptions } from '../fit-types.js';
import { MetricsAccumulator } from '../metrics.js';
import type { BktParams } from '../params.js';
import { predictVariantSequence } from './variant-kernels.js';
import { checkVariantQuality } from './variant-quality.js';
import { boundWarnings } from '../quality.js';
import { variantModelFromTheta } from './variant-model.js';
import { type ConceptClasses, type RoleColumns, type VariantLayout, buildVariantLayout, resolveVariants } from './variant-spec.js';
import {
  type ThetaLayout,
  type VariantProblem,
  VariantWorkspace,
  conceptLevelParams,
  problemShape,
  problemStatisticsLayout,
  thetaFromParams,
  thetaLayout,
  variantExpectationStep,
} from './variant-trainer.js';

/**
 * `fitConcepts` for model variants (options.variants set): per concept, EM over the variant
 * model (every class with its own parameters) from `restarts` seeded starts, each start putting
 * every class at the standard trainer's start for that restart (the same Latin hypercube), best
 * log posterior wins (the log-likelihood without a prior; ties: lowest restart). Results carry
 * the concept-level parameters in `params` (pooled M-step values: what unseen classes fall back
 * to) and the class parameters in `model`. Bounds, fixed values, forgetting and the method's
 * prior (split over the classes, see class-prior.ts) apply to every class; `map`'s mastery cap
 * and plausible-restart selection do not (see docs/algorithms.md). Results do not depend on the
 * worker count.
 * @throws UsageError for an impossible variant combination or a missing column; InputError when
 *   the multiprior column is not constant per learner.
 */
export async function fitVariantConcepts(
  table: AttemptsTable,
  options: TrainerOptions,
  extras: FitConceptsExtras & { columns?: RoleColumns },
  started: number,
): Promise<FitReport> {
  const variants = resolveVariants(table, options.variants!, extras.columns ?? {});
  const layout = buildVariantLayout(table, variants);
  const settings: EmSettings = {
    maxIterations: options.maxIterations,
    tolerance: options.tolerance,
    bounds: options.bounds,
    forgets: options.forgets,
    fixed: options.fixed,
    prior: options.prior,
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
    const classes = layout.concepts[c];
    const shape = thetaLayout(classes.priorIds.length, classes.learnIds.length, classes.gsIds.length);
    const starts = drawRestartStarts(options.seed, conceptId, options.restarts, options.bounds, options.forgets);
    // --fix-from: this concept's own fixed values over the global --fix ones, in every class.
    const conceptFixed = options.fixedByConcept?.[conceptId];
    const conceptSettings = conceptFixed ? { ...settings, fixed: { ...settings.fixed, ...conceptFixed } } : settings;
    for (let restart = 0; restart < options.restarts; restart++) {
      const initial = options.initialParams?.(conceptId, restart) ?? starts[restart];
      taskConcept.push(c);
      taskRestart.push(restart);
      tasks.push({
        id: tasks.length,
        firstSequence,
        lastSequence,
        initial,
        settings: conceptSettings,
        attempts: nAttempts,
        variant: {
          priorClasses: shape.priorClasses,
          learnClasses: shape.learnClasses,
          gsClasses: shape.gsClasses,
          initialTheta: Array.from(thetaFromParams(initial, shape)),
        },
      });
    }
  }

  const totalWork = tasks.reduce((sum, t) => sum + t.attempts, 0);
  const workers = chooseWorkerCount(options.workers, totalWork, tasks.length);
  let done = 0;
  const outcomes = await runFitTasks(
    table.correct,
    table.sequenceStart,
    tasks,
    workers,
    () => {
      done++;
      extras.onProgress?.({ restartsDone: done, restartsTotal: tasks.length });
    },
    layout,
  );

  const workspace = new VariantWorkspace();
  const byConcept = new Map<number, { restarts: RestartResult[]; thetas: Float64Array[]; errors: string[] }>();
  outcomes.forEach((outcome, id) => {
    const c = taskConcept[id];
    const entry = byConcept.get(c) ?? { restarts: [], thetas: [], errors: [] };
    byConcept.set(c, entry);
    const restart = taskRestart[id];
    if (outcome.error !== undefined || !Number.isFinite(outcome.result.logLikelihood) || !outcome.theta) {
      entry.errors.push(outcome.error ?? `restart ${restart}: log-likelihood is not finite`);
      return;
    }
    const theta = Float64Array.from(outcome.theta);
    const problem = problemOf(table, layout, c);
    const shape = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
    entry.thetas.push(theta);
    entry.restarts.push({
      restart,
      initial: tasks[id].initial,
      params: conceptLevelAt(theta, shape, problem, tasks[id].settings, tasks[id].initial, workspace),
      log_likelihood: outcome.result.logLikelihood,
      log_posterior: outcome.result.logPosterior,
      iterations: outcome.result.iterations,
      converged: outcome.result.converged,
    });
  });

  for (const [c, { restarts, thetas, errors }] of byConcept) {
    const base = results.get(c)!;
    if (restarts.length === 0) {
      results.set(c, { ...base, status: 'failed', reason: `EM failed on every restart: ${errors[0]}` });
      continue;
    }
    let best = 0;
    for (let k = 1; k < restarts.length; k++) if (restarts[k].log_posterior > restarts[best].log_posterior) best = k;
    const chosen = restarts[best];
    const problem = problemOf(table, layout, c);
    const shape = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
    const model = variantModelFromTheta(thetas[best], shape, layout.concepts[c], variants);
    const verdict = checkVariantQuality(chosen.params, model, options.quality);
    results.set(c, {
      ...base,
      status: 'fitted',
      params: chosen.params,
      log_likelihood: chosen.log_likelihood,
      iterations: chosen.iterations,
      converged: chosen.converged,
      valid: verdict.valid,
      degenerate: verdict.degenerate,
      violations: verdict.findings,
      warnings: boundWarnings(chosen.params, options.bounds, options),
      restarts,
      metrics: scoreVariantConcept(problem, thetas[best], shape),
      model,
    });
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
  const { initialParams, ...settingsUsed } = options;
  return { concepts, summary, settings: settingsUsed };
}

/** The variant problem of concept c. */
export function problemOf(table: AttemptsTable, layout: VariantLayout, c: number): VariantProblem {
  const classes: ConceptClasses = layout.concepts[c];
  return {
    correct: table.correct,
    sequenceStart: table.sequenceStart,
    firstSequence: table.conceptSequenceStart[c],
    lastSequence: table.conceptSequenceStart[c + 1],
    learnClass: layout.learnClass,
    gsClass: layout.gsClass,
    priorClass: layout.priorClass,
    priorClasses: classes.priorIds.length,
    learnClasses: classes.learnIds.length,
    gsClasses: classes.gsIds.length,
  };
}

/** The concept-level parameters at theta (one E-step for the pooled counts). */
function conceptLevelAt(theta: Float64Array, shape: ThetaLayout, problem: VariantProblem, settings: EmSettings, fallback: BktParams, workspace: VariantWorkspace): BktParams {
  const statsLayout = problemStatisticsLayout(problem);
  workspace.ensure(problemShape(problem).longest, statsLayout.length);
  variantExpectationStep(theta, shape, problem, statsLayout, workspace);
  return conceptLevelParams(workspace.stats, statsLayout, settings, fallback);
}

/** In-sample metrics of one concept under its variant fit, each row predicted before its answer. */
function scoreVariantConcept(problem: VariantProblem, theta: Float64Array, shape: ThetaLayout): PredictionMetrics {
  const { correct, sequenceStart, firstSequence, lastSequence } = problem;
  const rowStart = sequenceStart[firstSequence];
  const rowEnd = sequenceStart[lastSequence];
  let correctCount = 0;
  for (let i = rowStart; i < rowEnd; i++) correctCount += correct[i];
  const metrics = new MetricsAccumulator(correctCount, rowEnd - rowStart - correctCount);
  const buffer = new Float64Array(problemShape(problem).longest);
  const learn = theta.subarray(shape.learnAt, shape.forgetAt);
  const forget = theta.subarray(shape.forgetAt, shape.guessAt);
  const guess = theta.subarray(shape.guessAt, shape.slipAt);
  const slip = theta.subarray(shape.slipAt, shape.length);
  for (let q = firstSequence; q < lastSequence; q++) {
    const start = sequenceStart[q];
    const end = sequenceStart[q + 1];
    predictVariantSequence(
      theta[shape.priorAt + problem.priorClass[q]],
      learn,
      forget,
      guess,
      slip,
      problem.learnClass,
      problem.gsClass,
      correct,
      start,
      end,
      buffer,
      undefined,
      undefined,
      start,
    );
    for (let i = start; i < end; i++) metrics.add(buffer[i - start], correct[i]);
  }
  return metrics.result();
}

