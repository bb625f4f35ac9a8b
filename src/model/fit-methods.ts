import type { BetaPrior } from './em-trainer.js';
import type { TrainerOptions } from './fit-types.js';
import { DEFAULT_BOUNDS, NO_BOUNDS } from './params.js';

/**
 * The fitting methods (docs/algorithms.md compares them on the builder data):
 * - `map` (default): MAP-EM with weak Beta priors (DEFAULT_PRIOR) on the open unit interval, every
 *   M-step keeping one correct answer from L0 below mastery (DEFAULT_MASTERY_CAP), and the kept
 *   restart chosen among plausible optima;
 * - `box`: maximum likelihood projected onto the app's box (DEFAULT_BOUNDS, or the `--L0-min ...`
 *   flags, or the active algo_params row's constraints);
 * - `mle`: plain maximum likelihood on the open unit interval (as pyBKT).
 */
export const FIT_METHODS = ['map', 'box', 'mle'] as const;
export type FitMethod = (typeof FIT_METHODS)[number];

/** The method `bkt fit` uses when none is named. */
export const DEFAULT_FIT_METHOD: FitMethod = 'map';

/**
 * Weak Beta priors of the `map` method, in pseudo-observations: centred on typical BKT values
 * (L0 0.5, T 0.2, S 0.1, G 0.2, as in pyBKT's fork's measurements), worth 5 attempts each, and 10
 * learners for L0. Chosen by measurement (docs/algorithms.md): weaker priors leave boundary and
 * degenerate fits, stronger ones cost held-out accuracy.
 */
export const DEFAULT_PRIOR: Readonly<BetaPrior> = Object.freeze({
  p_L0: { mean: 0.5, strength: 10 },
  p_T: { mean: 0.2, strength: 5 },
  p_S: { mean: 0.1, strength: 5 },
  p_G: { mean: 0.2, strength: 5 },
});

/** `map`'s cap on the mastery after one correct answer from L0: the mastery threshold 0.95 less 0.005 of margin. */
export const DEFAULT_MASTERY_CAP = 0.945;

type MethodSettings = Pick<TrainerOptions, 'bounds' | 'prior' | 'plausibilityMargin' | 'masteryCap' | 'restartSelection'>;

/** What each method sets; explicit options given with it override these. */
export const METHOD_PRESETS: Readonly<Record<FitMethod, Readonly<MethodSettings>>> = Object.freeze({
  map: { bounds: NO_BOUNDS, prior: DEFAULT_PRIOR, plausibilityMargin: null, masteryCap: DEFAULT_MASTERY_CAP, restartSelection: 'plausible' },
  box: { bounds: DEFAULT_BOUNDS, prior: null, plausibilityMargin: null, masteryCap: null, restartSelection: 'best' },
  mle: { bounds: NO_BOUNDS, prior: null, plausibilityMargin: null, masteryCap: null, restartSelection: 'best' },
});

