import type { BetaPrior } from '../em-trainer.js';
import type { ParamName } from '../params.js';

/**
 * The `map` method's Beta prior (DEFAULT_PRIOR: mean m, strength s pseudo-observations) on a
 * variant's class parameters. The prior describes the concept, so splitting the concept's data
 * into classes must not multiply it: class c of a parameter gets the share w_c of the s
 * pseudo-observations that it has of the parameter's observations (its rows for guess and slip,
 * its transitions for learn and forget, its sequences for the prior), centred on the same mean:
 * Beta(1 + w_c s m, 1 + w_c s (1 - m)). The pseudo-counts summed over classes are the standard
 * model's, each class is shrunk by the same factor s / (N + s) as the concept would be, and a
 * variant with one class of each kind is exactly the standard `map` fit. Measured on the
 * synthetic reference data (docs/algorithms.md), a full s per class changes per-item recovery by
 * at most 0.0001 (classes there have thousands of rows) but pulls one-sequence classes (a prior
 * per learner) hard toward m, at a cost of thousands of nats of training likelihood.
 */
export interface ClassPriorGroup {
  name: ParamName;
  /** Entries [from, to) of the parameter vector holding this parameter's classes. */
  from: number;
  to: number;
  mean: number;
  /** Pseudo-observations of each entry, indexed like the vector: w_c s. */
  strengths: Float64Array;
}

/** One parameter's entries and each class's observations (rows, transitions or sequences). */
export interface ClassEvidence {
  name: ParamName;
  from: number;
  to: number;
  observations: ArrayLike<number>;
}

/** The prior groups of a vector: one per free parameter that has a prior entry and observations. */
export function classPriorGroups(
  prior: BetaPrior | null | undefined,
  evidence: readonly ClassEvidence[],
  isFree: (name: ParamName) => boolean,
): ClassPriorGroup[] {
  if (!prior) return [];
  const groups: ClassPriorGroup[] = [];
  for (const { name, from, to, observations } of evidence) {
    const entry = prior[name];
    if (!entry || entry.strength <= 0 || to <= from || !isFree(name)) continue;
    let total = 0;
    for (let k = 0; k < to - from; k++) total += observations[k];
    if (total <= 0) continue;
    const strengths = new Float64Array(to - from);
    for (let k = 0; k < to - from; k++) strengths[k] = (entry.strength * observations[k]) / total;
    groups.push({ name, from, to, mean: entry.mean, strengths });
  }
  return groups;
}

/** log prior density of theta (up to a constant): sum over classes of w_c s [m log theta_c + (1 - m) log(1 - theta_c)]. */
export function classLogPrior(theta: Float64Array, groups: readonly ClassPriorGroup[]): number {
  let sum = 0;
  for (const { from, to, mean, strengths } of groups) {
    for (let i = from; i < to; i++) {
      const s = strengths[i - from];
      if (s > 0) sum += s * (mean * Math.log(theta[i]) + (1 - mean) * Math.log1p(-theta[i]));
    }
  }
  return sum;
}
