import { describe, expect, it } from 'vitest';
import { trainerOptionsFromFlags } from '../../src/cli/flags.js';
import { DEFAULT_PRIOR } from '../../src/model/fit-methods.js';
import { DEFAULT_BOUNDS, NO_BOUNDS, type ParamBounds } from '../../src/model/params.js';

const flags = { restarts: 5, seed: 42, 'max-iterations': 1000, tolerance: 1e-9, forgets: false, 'no-bounds': false, 'min-attempts': 10, 'min-users': 3, workers: 0 };
const appBox: ParamBounds = { ...DEFAULT_BOUNDS, G_max: 0.3 };

describe('trainerOptionsFromFlags', () => {
  it('defaults to the map method on the open unit interval, or on a base box (the algo_params constraints) when given', () => {
    expect(trainerOptionsFromFlags(flags, undefined)).toMatchObject({ method: 'map', bounds: NO_BOUNDS });
    expect(trainerOptionsFromFlags(flags, undefined, appBox)).toMatchObject({ method: 'map', bounds: appBox });
  });

  it('an explicit --method or --no-bounds ignores the base box; bound flags apply over any box', () => {
    expect(trainerOptionsFromFlags({ ...flags, method: 'box' }, undefined, appBox).bounds).toEqual(DEFAULT_BOUNDS);
    expect(trainerOptionsFromFlags({ ...flags, 'no-bounds': true }, undefined, appBox)).toMatchObject({ method: 'mle', bounds: NO_BOUNDS });
    expect(trainerOptionsFromFlags({ ...flags, 'G-max': 0.25 }, undefined, appBox).bounds).toEqual({ ...appBox, G_max: 0.25 });
  });

  it('--prior-strength scales the map priors, 0 removes them, and other methods refuse it', () => {
    const doubled = trainerOptionsFromFlags({ ...flags, 'prior-strength': 2 }, undefined);
    expect(doubled.prior).toEqual({
      p_L0: { mean: 0.5, strength: 2 * DEFAULT_PRIOR.p_L0!.strength },
      p_T: { mean: 0.2, strength: 2 * DEFAULT_PRIOR.p_T!.strength },
      p_S: { mean: 0.1, strength: 2 * DEFAULT_PRIOR.p_S!.strength },
      p_G: { mean: 0.2, strength: 2 * DEFAULT_PRIOR.p_G!.strength },
    });
    expect(trainerOptionsFromFlags({ ...flags, 'prior-strength': 0 }, undefined).prior).toBeNull();
    expect(() => trainerOptionsFromFlags({ ...flags, method: 'box', 'prior-strength': 1 }, undefined)).toThrow(/--prior-strength needs --method map/);
    expect(trainerOptionsFromFlags({ ...flags, 'plausibility-margin': 0.1 }, undefined).plausibilityMargin).toBe(0.1);
  });
});
