/**
 * The random starts of EM restarts, shared by the standard and the variant fits (kept apart from
 * both so that neither imports the other for it).
 */
import { BOUND_KEYS, type BktParams, type ParamBounds } from './params.js';
import { seededRandom } from './random.js';

/** pyBKT's initial ranges (prior U(0,1), learn U(0,0.4), guess U(0,0.4), slip U(0,0.3)), cut to the box. */
const INITIAL_CAPS: Record<keyof BktParams, number> = { p_L0: 1, p_T: 0.4, p_S: 0.3, p_G: 0.4, p_F: 0.2 };

/**
 * The seeded random starts of all `restarts` restarts of one concept. They form a Latin
 * hypercube over the box: each parameter's range is cut into `restarts` equal strata and every
 * restart draws from a different stratum (a seeded permutation per parameter), so five restarts
 * always span each range instead of clustering by chance as independent draws can. Restart k
 * draws its position inside its strata from its own stream (seed, concept, k).
 */
export function drawRestartStarts(seed: number, conceptId: string, restarts: number, bounds: ParamBounds, forgets: boolean): BktParams[] {
  const names = forgets ? (['p_L0', 'p_T', 'p_G', 'p_S', 'p_F'] as const) : (['p_L0', 'p_T', 'p_G', 'p_S'] as const);
  const strata = new Map<keyof BktParams, number[]>();
  for (const name of names) {
    const random = seededRandom(seed, 'strata', conceptId, name);
    const order = Array.from({ length: restarts }, (_, i) => i);
    for (let i = restarts - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    strata.set(name, order);
  }
  return Array.from({ length: restarts }, (_, restart) => {
    const random = seededRandom(seed, 'restart', conceptId, restart);
    const params: BktParams = { p_L0: 0, p_T: 0, p_S: 0, p_G: 0, p_F: 0 };
    for (const name of names) {
      const [loKey, hiKey] = BOUND_KEYS[name];
      const lo = Math.max(bounds[loKey], 0);
      const hi = Math.min(bounds[hiKey], INITIAL_CAPS[name]);
      params[name] = hi > lo ? lo + ((hi - lo) / restarts) * (strata.get(name)![restart] + random()) : Math.min(bounds[hiKey], Math.max(lo, INITIAL_CAPS[name] / 2));
    }
    return params;
  });
}

