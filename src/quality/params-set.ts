import type { BktParams } from '../model/params.js';
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
}

/** Lookup by concept id. Later entries for the same concept replace earlier ones. */
export function paramsByConcept(entries: readonly ConceptParams[]): Map<string, ConceptParams> {
  const map = new Map<string, ConceptParams>();
  for (const entry of entries) map.set(entry.concept_id, entry);
  return map;
}
