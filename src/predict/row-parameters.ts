import type { BktParams } from '../model/params.js';

/**
 * Scratch buffers one sequence's per-row parameters are written into (index = row - start), so
 * the prediction kernel reads plain typed arrays whatever model produced them.
 */
export interface SequenceParameterBuffers {
  /** P(correct | unknown) of each row. */
  guess: Float64Array;
  /** P(wrong | known) of each row. */
  slip: Float64Array;
  /** P(unknown -> known) applied after each row (pyBKT indexes learning by the row just answered). */
  learn: Float64Array;
  /** P(known -> unknown) applied after each row. */
  forget: Float64Array;
}

/**
 * Where `predict` gets each row's parameters: the one interface a model goes through to be
 * predicted with. Standard BKT gives every row of a concept the concept's values
 * (`conceptRowParameters`); a model with item or learner classes fills each row from its class,
 * falling back to the concept's values for a class it has not seen.
 */
export interface RowParameters {
  /** True when concept index `concept` has parameters; rows of other concepts get no prediction. */
  hasConcept(concept: number): boolean;
  /**
   * Fill `into` for the rows [start, end) of one (concept, learner) sequence of the table this
   * source was made for, and return P(known) before its first attempt.
   */
  fillSequence(concept: number, start: number, end: number, into: SequenceParameterBuffers): number;
}

/** Buffers for sequences of up to `length` rows. */
export function sequenceParameterBuffers(length: number): SequenceParameterBuffers {
  return {
    guess: new Float64Array(length),
    slip: new Float64Array(length),
    learn: new Float64Array(length),
    forget: new Float64Array(length),
  };
}

/** Standard BKT: concept index c's parameters on every row of c (undefined = no parameters). */
export function conceptRowParameters(paramsByConcept: readonly (BktParams | undefined)[]): RowParameters {
  return {
    hasConcept: (concept) => paramsByConcept[concept] !== undefined,
    fillSequence(concept, start, end, into) {
      const params = paramsByConcept[concept]!;
      const n = end - start;
      into.guess.fill(params.p_G, 0, n);
      into.slip.fill(params.p_S, 0, n);
      into.learn.fill(params.p_T, 0, n);
      into.forget.fill(params.p_F, 0, n);
      return params.p_L0;
    },
  };
}
