import type { BktParams } from '../model/params.js';
import { itemParamsResolver } from '../model/variants/variant-model.js';
import { toUuid } from '../store/ids.js';
import type { ResolvedParams } from '../store/store.js';

/**
 * The per-question parameters of a model-variant fit for the online update (the answered item's
 * own guess and slip, and learn with multilearn; the concept-level values for other questions),
 * or undefined for a standard fit. Class ids are matched as given and as `bkt import` maps them
 * to UUIDs, since update question ids are UUIDs.
 */
export function questionParams(resolved: ResolvedParams): ((questionId: string | null) => BktParams) | undefined {
  return resolved.model ? itemParamsResolver(resolved.params, resolved.model, toUuid) : undefined;
}
