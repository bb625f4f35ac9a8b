/**
 * BKT parameters, their bounds and defaults. Field names map one to one onto the schema's
 * columns (`p_L0`, `p_T`, `p_S`, `p_G`) and `p_F` for the forgetting variant (0 in standard BKT).
 * Transition and emission probabilities are derived from these, never stored beside them.
 */
export interface BktParams {
  /** P(L1): prior probability the concept is known before the first attempt. */
  p_L0: number;
  /** P(T): probability of moving from unknown to known after an attempt (learn). */
  p_T: number;
  /** P(S): probability of a wrong answer when known (slip). */
  p_S: number;
  /** P(G): probability of a correct answer when unknown (guess). */
  p_G: number;
  /** P(F): probability of moving from known to unknown (forget); 0 in standard BKT. */
  p_F: number;
}

/** The parameter names, as in the schema and every JSON output. */
export const PARAM_NAMES = ['p_L0', 'p_T', 'p_S', 'p_G', 'p_F'] as const;
/** One of PARAM_NAMES. */
export type ParamName = (typeof PARAM_NAMES)[number];

/**
 * Box constraints, keyed as the seed's CLI flags and `constraints_applied` JSON
 * (`L0_min`, `L0_max`, ...). `F_min`/`F_max` only matter with forgetting.
 */
export interface ParamBounds {
  L0_min: number;
  L0_max: number;
  T_min: number;
  T_max: number;
  S_min: number;
  S_max: number;
  G_min: number;
  G_max: number;
  F_min: number;
  F_max: number;
}

/** schema.md "Parameter quality": L0 and T in [0.001, 0.5], S and G in [0.001, 0.4]. */
export const DEFAULT_BOUNDS: Readonly<ParamBounds> = Object.freeze({
  L0_min: 0.001,
  L0_max: 0.5,
  T_min: 0.001,
  T_max: 0.5,
  S_min: 0.001,
  S_max: 0.4,
  G_min: 0.001,
  G_max: 0.4,
  F_min: 0,
  F_max: 0.5,
});

/**
 * `--no-bounds`: the open unit interval, kept 1e-10 away from 0 and 1 (the online update's clamp)
 * so that an M-step that would land on exactly 0 or 1 cannot make a later answer impossible
 * (log 0). The forget parameter may be exactly 0, which is the standard model.
 */
export const NO_BOUNDS: Readonly<ParamBounds> = Object.freeze({
  L0_min: 1e-10,
  L0_max: 1 - 1e-10,
  T_min: 1e-10,
  T_max: 1 - 1e-10,
  S_min: 1e-10,
  S_max: 1 - 1e-10,
  G_min: 1e-10,
  G_max: 1 - 1e-10,
  F_min: 0,
  F_max: 1 - 1e-10,
});

/** Built-in parameters when neither a fit nor the algo_params row gives any (schema.md, step 3). */
export const BUILTIN_DEFAULT_PARAMS: Readonly<BktParams> = Object.freeze({
  p_L0: 0.1,
  p_T: 0.2,
  p_S: 0.1,
  p_G: 0.2,
  p_F: 0,
});

/** Mastery threshold: a state is mastered at p_mastery >= 0.95 (schema.md). */
export const DEFAULT_MASTERY_THRESHOLD = 0.95;

/** Which bound keys belong to which parameter. */
export const BOUND_KEYS: Record<ParamName, readonly [keyof ParamBounds, keyof ParamBounds]> = {
  p_L0: ['L0_min', 'L0_max'],
  p_T: ['T_min', 'T_max'],
  p_S: ['S_min', 'S_max'],
  p_G: ['G_min', 'G_max'],
  p_F: ['F_min', 'F_max'],
};

/** Clamp each parameter into its box. Used by the trainer's projected M-step. */
export function projectOntoBounds(params: BktParams, bounds: ParamBounds): BktParams {
  const out = { ...params };
  for (const name of PARAM_NAMES) {
    const [lo, hi] = BOUND_KEYS[name];
    out[name] = Math.min(bounds[hi], Math.max(bounds[lo], out[name]));
  }
  return out;
}
