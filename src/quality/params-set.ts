import type { BktParams, ParamBounds } from '../model/params.js';
import type { VariantModel } from '../model/variants/variant-model.js';

/**
 * One concept's parameters as the quality gates see them, whatever they were read from (a
 * `bkt fit --out` file or the store's active rows). `restarts` is the fit metadata the
 * identifiability check reads; absent when the source kept none.
 */
export interface ConceptParams {
  concept_id: string;
  params: BktParams;
  /** Per-restart outcomes of the fit, when recorded (params file `restarts`, or metrics JSON). */
  restarts?: ReadonlyArray<{ params: BktParams; log_likelihood: number }>;
  /** Class parameters of a model-variant fit (`params` then holds the concept-level values). */
  model?: VariantModel;
  /** The box the fit used, when the source recorded it (params file settings, constraints_applied). */
  bounds?: ParamBounds;
  /** The plausibility margin the fit used, when recorded. */
  plausibilityMargin?: number | null;
}

/**
 * The box recorded with a fit ({L0_min, L0_max, ...} keys, as constraints_applied and a params
 * file's settings.bounds hold them), or undefined when the record has not all eight keys.
 */
export function boundsFromRecord(record: unknown): ParamBounds | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as Record<string, unknown>;
  const keys = ['L0_min', 'L0_max', 'T_min', 'T_max', 'S_min', 'S_max', 'G_min', 'G_max'] as const;
  if (!keys.every((k) => typeof r[k] === 'number')) return undefined;
  const bounds = Object.fromEntries(keys.map((k) => [k, r[k] as number])) as Record<string, number>;
  return { ...bounds, F_min: typeof r.F_min === 'number' ? r.F_min : 0, F_max: typeof r.F_max === 'number' ? r.F_max : 1 } as ParamBounds;
}

/** Lookup by concept id. Later entries for the same concept replace earlier ones. */
export function paramsByConcept(entries: readonly ConceptParams[]): Map<string, ConceptParams> {
  const map = new Map<string, ConceptParams>();
  for (const entry of entries) map.set(entry.concept_id, entry);
  return map;
}
