import type { AttemptsTable } from '../data/attempts-table.js';
import type { BktParams } from '../model/params.js';
import { type ColumnSource, type ConceptRowParams, type VariantModel, conceptRowParams } from '../model/variants/variant-model.js';

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

/**
 * A model-variant fit (`bkt fit --multigs ...`): each row gets its class's guess, slip, learn
 * and forget, each sequence its learner class's prior; a class the fit has not seen gets the
 * concept-level values (src/model/variants/variant-model.ts `conceptRowParams`). `entries[c]` is
 * concept index c's parameters and model (undefined = none; no model = standard BKT).
 * `alias` matches the table's ids to a database fit's UUIDs.
 */
export function variantRowParameters(
  table: AttemptsTable,
  entries: readonly ({ params: BktParams; model?: VariantModel | null } | undefined)[],
  columns: ColumnSource,
  alias?: (id: string) => string,
): RowParameters {
  // Class indices of the concept being filled, resolved once per concept (sequences come concept by concept).
  const scratch = { learnClass: new Uint32Array(table.length), gsClass: new Uint32Array(table.length) };
  const standard: VariantModel = { variants: [], columns: {} };
  let current = -1;
  let rows: ConceptRowParams | null = null;
  let sequence = 0;
  return {
    hasConcept: (concept) => entries[concept] !== undefined,
    fillSequence(concept, start, end, into) {
      const entry = entries[concept]!;
      if (concept !== current) {
        rows = conceptRowParams(table, concept, entry.params, entry.model ?? standard, columns, scratch, alias);
        current = concept;
        sequence = table.conceptSequenceStart[concept];
      }
      const r = rows!;
      if (table.sequenceStart[sequence] > start) sequence = table.conceptSequenceStart[concept];
      while (table.sequenceStart[sequence] !== start) sequence++;
      for (let i = start; i < end; i++) {
        const g = r.gsClass[i];
        const l = r.learnClass[i];
        into.guess[i - start] = r.guess[g];
        into.slip[i - start] = r.slip[g];
        into.learn[i - start] = r.learn[l];
        into.forget[i - start] = r.forget[l];
      }
      return r.prior[sequence - table.conceptSequenceStart[concept]];
    },
  };
}
