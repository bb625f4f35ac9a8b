/**
 * What a fitted concept becomes in the store: its constraints_applied and metrics JSON, and
 * whether the quality gate refuses to activate it. Shared by the fit-and-persist job and
 * persistFitReport, kept apart from both so that neither imports the other to get them.
 */
import type { ConceptFitResult, FitReport } from '../model/fit-types.js';
import type { ParamBounds } from '../model/params.js';

/** constraints_applied: the bounds the trainer projected onto, keyed as the seed's CLI ({L0_min, ...}). */
export function constraintsFromBounds(bounds: ParamBounds, forgets: boolean): Record<string, number> {
  const { F_min, F_max, ...four } = bounds;
  return forgets ? { ...four, F_min, F_max } : { ...four };
}

/**
 * constraints_applied of a fit: the box ({L0_min, ...}); for a method other than `box` also the
 * method and what it adds (the priors, the mastery cap, the plausibility margin); and, when the box
 * came from the active algo_params row, `bounds_source: "algo_params"` with that row's id.
 */
export function constraintsApplied(settings: FitReport['settings'], boundsSource: 'algo_params' | null, algoParamsId: string | null): Record<string, unknown> {
  const constraints: Record<string, unknown> = constraintsFromBounds(settings.bounds, settings.forgets);
  if (settings.method !== 'box') {
    constraints.method = settings.method;
    if (settings.prior) constraints.prior = settings.prior;
    if (settings.masteryCap != null && !settings.forgets) constraints.mastery_cap = settings.masteryCap;
    if (settings.plausibilityMargin != null) constraints.plausibility_margin = settings.plausibilityMargin;
  }
  if (boundsSource) {
    constraints.bounds_source = boundsSource;
    constraints.algo_params_id = algoParamsId;
  }
  return constraints;
}

/**
 * The metrics JSON stored with a fitted concept: the seed's keys (training_samples, unique_users,
 * avg_sequence_length), in-sample prediction metrics, the fit itself, the trainer settings, every
 * restart, and `model: {p_F}` when forgetting was fitted; a variant fit's class parameters
 * (VariantModel) under `model` as well.
 */
export function metricsForConcept(concept: ConceptFitResult, report: FitReport, dataSummary: Record<string, unknown>): Record<string, unknown> {
  const { settings } = report;
  const metrics: Record<string, unknown> = {
    training_samples: concept.n_attempts,
    unique_users: concept.n_users,
    avg_sequence_length: concept.n_users > 0 ? concept.n_attempts / concept.n_users : null,
    auc: concept.metrics?.auc ?? null,
    rmse: concept.metrics?.rmse ?? null,
    log_loss: concept.metrics?.log_loss ?? null,
    accuracy: concept.metrics?.accuracy ?? null,
    metrics_scope: 'in_sample',
    log_likelihood: concept.log_likelihood,
    iterations: concept.iterations,
    converged: concept.converged,
    valid: concept.valid,
    degenerate: concept.degenerate,
    violations: concept.violations,
    data: dataSummary,
    warnings: concept.warnings,
    warm_start: concept.warm_start,
    trainer: {
      method: settings.method,
      prior: settings.prior,
      mastery_cap: settings.masteryCap,
      plausibility_margin: settings.plausibilityMargin,
      restart_selection: settings.restartSelection,
      restarts: settings.restarts,
      seed: settings.seed,
      max_iterations: settings.maxIterations,
      tolerance: settings.tolerance,
      bounds: settings.bounds,
      forgets: settings.forgets,
      fixed: { ...settings.fixed, ...settings.fixedByConcept?.[concept.concept_id] },
      min_attempts: settings.minAttempts,
      min_users: settings.minUsers,
      quality: settings.quality,
    },
    restarts: concept.restarts.map((r) => ({
      restart: r.restart,
      initial: r.initial,
      params: r.params,
      log_likelihood: r.log_likelihood,
      log_posterior: r.log_posterior,
      iterations: r.iterations,
      converged: r.converged,
      ...(r.warm_start ? { warm_start: true } : {}),
    })),
  };
  if (concept.cv) Object.assign(metrics, concept.cv);
  // A variant fit's class parameters go under model too (schema.md); the base columns hold its concept-level values.
  if ((settings.forgets && concept.params) || concept.model) {
    metrics.model = { ...(settings.forgets && concept.params ? { p_F: concept.params.p_F } : {}), ...(concept.model ?? {}) };
  }
  return metrics;
}

/** Why the quality gate refuses to activate a fitted concept, or null when it passes. */
export function qualityRefusal(concept: ConceptFitResult): string | null {
  if (concept.valid !== false && concept.degenerate !== true) return null;
  const kind = concept.valid === false ? 'invalid' : 'degenerate';
  return `${kind}: ${concept.violations.map((v) => v.message).join('; ')}`;
}

