import type { AttemptsTable } from '../../data/attempts-table.js';
import type { BktParams } from '../params.js';
import { predictVariantSequence } from './variant-kernels.js';
import type { ThetaLayout } from './variant-trainer.js';
import type { ConceptClasses, ResolvedVariants, VariantName } from './variant-spec.js';

/**
 * The class parameters of one concept's variant fit, as written to parameter files (each
 * concept's `model`) and stored in the database under `bkt_skill_params.metrics.model`. The
 * concept's `params` (the base columns) hold the concept-level values every unseen class falls
 * back to. Keys are snake_case like every other JSON output.
 */
export interface VariantModel {
  /** The variants fitted, e.g. ["multigs", "multilearn"]. */
  variants: VariantName[];
  /** Source column of each variant. */
  columns: Partial<Record<VariantName, string>>;
  /** multiprior: prior per learner class; n_sequences = the class's sequences in the training data. */
  prior?: { id: string; p_L0: number; n_sequences: number }[];
  /** multilearn: learn and forget after answering an item of the class; n_transitions = rows followed by another attempt. */
  learn?: { id: string; p_T: number; p_F: number; n_transitions: number }[];
  /**
   * multipair: learn and forget after answering `current` right after `previous`; the entry with
   * both null is a sequence's first step (no previous item).
   */
  pair?: { previous: string | null; current: string | null; p_T: number; p_F: number; n_transitions: number }[];
  /** multigs: guess and slip per item class; n_attempts = the class's training rows. */
  gs?: { id: string; p_G: number; p_S: number; n_attempts: number }[];
}

/** The model object of a fitted vector (theta laid out by `layout`) for a concept's classes. */
export function variantModelFromTheta(theta: Float64Array, layout: ThetaLayout, classes: ConceptClasses, variants: ResolvedVariants): VariantModel {
  const model: VariantModel = { variants: [], columns: {} };
  if (variants.gs) {
    model.variants.push('multigs');
    model.columns.multigs = variants.gs.column;
    model.gs = classes.gsIds.map((id, g) => ({ id, p_G: theta[layout.guessAt + g], p_S: theta[layout.slipAt + g], n_attempts: classes.gsCounts[g] }));
  }
  if (variants.learn) {
    model.variants.push('multilearn');
    model.columns.multilearn = variants.learn.column;
    model.learn = classes.learnIds.map((id, r) => ({
      id: id as string,
      p_T: theta[layout.learnAt + r],
      p_F: theta[layout.forgetAt + r],
      n_transitions: classes.learnCounts[r],
    }));
  }
  if (variants.pair) {
    model.variants.push('multipair');
    model.columns.multipair = variants.pair.column;
    model.pair = classes.learnIds.map((id, r) => {
      const [previous, current] = id as [string | null, string | null];
      return { previous, current, p_T: theta[layout.learnAt + r], p_F: theta[layout.forgetAt + r], n_transitions: classes.learnCounts[r] };
    });
  }
  if (variants.prior) {
    model.variants.push('multiprior');
    model.columns.multiprior = variants.prior.column;
    model.prior = classes.priorIds.map((id, p) => ({ id, p_L0: theta[layout.priorAt + p], n_sequences: classes.priorCounts[p] }));
  }
  // Classes listed in natural order of their ids (items 9 before 10) for readers; lookups are by id.
  const byId = (a: { id: string }, b: { id: string }) => NATURAL.compare(a.id, b.id);
  model.gs?.sort(byId);
  model.learn?.sort(byId);
  model.prior?.sort(byId);
  model.pair?.sort((a, b) => NATURAL.compare(a.previous ?? '', b.previous ?? '') || NATURAL.compare(a.current ?? '', b.current ?? ''));
  return model;
}

const NATURAL = new Intl.Collator('en', { numeric: true });

/** Read back a `model` object (from a params file or the database); null when it is not one. */
export function parseVariantModel(value: unknown): VariantModel | null {
  if (value === null || typeof value !== 'object') return null;
  const model = value as VariantModel;
  if (!Array.isArray(model.variants) || model.variants.length === 0) return null;
  return model;
}

/**
 * The source columns a reader must carry to predict with these models (each optional: a column
 * the input lacks makes its rows use the concept-level values).
 */
export function classColumnsOfModels(models: Iterable<VariantModel | null | undefined>): { name: string; required: false }[] {
  const names = new Set<string>();
  for (const model of models) for (const column of Object.values(model?.columns ?? {})) if (column) names.add(column);
  return [...names].map((name) => ({ name, required: false }));
}

/**
 * Names under which a model may refer to the question column: the readers' defaults and the
 * database's `question_id` (a fit on the app's tables), whatever the scored file maps it from.
 */
const QUESTION_COLUMN_NAMES = ['question_id', 'problem_id', 'question'];

/**
 * Per-row parameters of one concept's rows under a variant model: what `predict`, `evaluate`
 * and the report need. Each row gets its class's values; a class the model has not seen
 * (a new item, a new learner group, a new item pair) gets the concept-level `base` values.
 */
export interface ConceptRowParams {
  /** Prior per sequence of the concept (index q - firstSequence). */
  prior: Float64Array;
  learn: Float64Array;
  forget: Float64Array;
  guess: Float64Array;
  slip: Float64Array;
  /** Per-row indices into learn/forget and guess/slip (whole-table length; only the concept's rows are set). */
  learnClass: Uint32Array;
  gsClass: Uint32Array;
}

/** How the columns a model names are found in a table (its class columns, question, learner). */
export type ColumnSource = (column: string) => { ids: readonly string[]; values: Int32Array } | null;

/** The default column lookup: a carried class column, else the question or learner column by role name. */
export function tableColumnSource(table: AttemptsTable, roles: { question?: string | null; user?: string | null } = {}): ColumnSource {
  return (column) => {
    const carried = table.classColumns?.find((c) => c.name === column);
    if (carried) return carried;
    if (table.question && (column === roles.question || QUESTION_COLUMN_NAMES.includes(column))) {
      return { ids: table.questionIds, values: table.question };
    }
    if (column === roles.user) return { ids: table.learnerIds, values: Int32Array.from(table.learner) };
    return null;
  };
}

/**
 * Resolve per-row parameters of concept `c` under `model` with fallback `base` (see
 * ConceptRowParams). A column the model names but the table lacks makes every row use the
 * concept-level value of that parameter. Never throws on unseen classes.
 */
export function conceptRowParams(
  table: AttemptsTable,
  c: number,
  base: BktParams,
  model: VariantModel,
  columns: ColumnSource,
  out?: { learnClass: Uint32Array; gsClass: Uint32Array },
  alias?: (id: string) => string,
): ConceptRowParams {
  const firstSequence = table.conceptSequenceStart[c];
  const lastSequence = table.conceptSequenceStart[c + 1];
  const learnClass = out?.learnClass ?? new Uint32Array(table.length);
  const gsClass = out?.gsClass ?? new Uint32Array(table.length);
  const rowStart = table.sequenceStart[firstSequence];
  const rowEnd = table.sequenceStart[lastSequence];
  learnClass.fill(0, rowStart, rowEnd);
  gsClass.fill(0, rowStart, rowEnd);

  // Entry 0 of each array is the concept-level fallback; classes follow from 1. A class id is
  // matched as written, then in its alias form (a database fit's UUID for a file's raw id).
  const lookup = <T>(entries: T[] | undefined, key: (e: T) => string, column: string | undefined) => {
    const source = column ? columns(column) : null;
    const map = new Map<string, number>();
    entries?.forEach((e, k) => map.set(key(e), k + 1));
    const index = { get: (id: string) => map.get(id) ?? (alias && id !== '' ? map.get(alias(id)) : undefined) };
    return { source, index };
  };

  const gsEntries = model.gs ?? [];
  const guess = Float64Array.from([base.p_G, ...gsEntries.map((e) => e.p_G)]);
  const slip = Float64Array.from([base.p_S, ...gsEntries.map((e) => e.p_S)]);
  if (model.gs) {
    const { source, index } = lookup(model.gs, (e) => e.id, model.columns.multigs);
    if (source) {
      const byValue = new Int32Array(source.ids.length + 1).fill(-1);
      for (let row = rowStart; row < rowEnd; row++) {
        const v = source.values[row] + 1;
        if (byValue[v] < 0) byValue[v] = index.get(v === 0 ? '' : source.ids[v - 1]) ?? 0;
        gsClass[row] = byValue[v];
      }
    }
  }

  let learnValues = [base.p_T];
  let forgetValues = [base.p_F];
  if (model.learn) {
    learnValues = learnValues.concat(model.learn.map((e) => e.p_T));
    forgetValues = forgetValues.concat(model.learn.map((e) => e.p_F));
    const { source, index } = lookup(model.learn, (e) => e.id, model.columns.multilearn);
    if (source) {
      const byValue = new Int32Array(source.ids.length + 1).fill(-1);
      for (let row = rowStart; row < rowEnd; row++) {
        const v = source.values[row] + 1;
        if (byValue[v] < 0) byValue[v] = index.get(v === 0 ? '' : source.ids[v - 1]) ?? 0;
        learnClass[row] = byValue[v];
      }
    }
  } else if (model.pair) {
    learnValues = learnValues.concat(model.pair.map((e) => e.p_T));
    forgetValues = forgetValues.concat(model.pair.map((e) => e.p_F));
    const { source, index } = lookup(model.pair, (e) => JSON.stringify([e.previous, e.current]), model.columns.multipair);
    const first = index.get(JSON.stringify([null, null])) ?? 0;
    if (source) {
      const name = (v: number) => (v < 0 ? '' : source.ids[v]);
      for (let q = firstSequence; q < lastSequence; q++) {
        const start = table.sequenceStart[q];
        const end = table.sequenceStart[q + 1];
        learnClass[start] = first;
        for (let row = start + 1; row < end; row++) {
          const previous = name(source.values[row - 1]);
          const current = name(source.values[row]);
          learnClass[row] =
            index.get(JSON.stringify([previous, current])) ??
            (alias ? index.get(JSON.stringify([previous === '' ? '' : alias(previous), current === '' ? '' : alias(current)])) : undefined) ??
            0;
        }
      }
    }
  }

  const prior = new Float64Array(lastSequence - firstSequence).fill(base.p_L0);
  if (model.prior) {
    const { source, index } = lookup(model.prior, (e) => e.id, model.columns.multiprior);
    if (source) {
      for (let q = firstSequence; q < lastSequence; q++) {
        const v = source.values[table.sequenceStart[q]];
        const k = index.get(v < 0 ? '' : source.ids[v]);
        if (k !== undefined) prior[q - firstSequence] = model.prior[k - 1].p_L0;
      }
    }
  }
  return {
    prior,
    learn: Float64Array.from(learnValues),
    forget: Float64Array.from(forgetValues),
    guess,
    slip,
    learnClass,
    gsClass,
  };
}

/** Per-row predictions of a whole table (NaN for rows of concepts without parameters). */
export interface VariantTablePredictions {
  /** P(correct) before each answer (pyBKT's correct_predictions). */
  pCorrect: Float64Array;
  /** P(known) before each answer (state_predictions). */
  pMastery: Float64Array;
  /** P(known) after each answer (before the transition). */
  pPosterior: Float64Array;
}

/**
 * Predict every row of `table` before its answer is seen, under each concept's parameters and
 * variant model (a concept without a model is standard BKT). `byConcept[c]` is concept index c's
 * entry, or undefined (its rows stay NaN). Unseen classes use the concept-level values. `alias`
 * maps a value of the table to the id form the model may hold instead (src/store/ids.ts
 * `toUuid` for models fitted on the database).
 */
export function predictTableVariant(
  table: AttemptsTable,
  byConcept: ({ params: BktParams; model?: VariantModel | null } | undefined)[],
  columns: ColumnSource = tableColumnSource(table),
  alias?: (id: string) => string,
): VariantTablePredictions {
  const pCorrect = new Float64Array(table.length).fill(Number.NaN);
  const pMastery = new Float64Array(table.length).fill(Number.NaN);
  const pPosterior = new Float64Array(table.length).fill(Number.NaN);
  const scratch = { learnClass: new Uint32Array(table.length), gsClass: new Uint32Array(table.length) };
  const standard: VariantModel = { variants: [], columns: {} };
  for (let c = 0; c < table.conceptIds.length; c++) {
    const entry = byConcept[c];
    if (!entry) continue;
    const rows = conceptRowParams(table, c, entry.params, entry.model ?? standard, columns, scratch, alias);
    const firstSequence = table.conceptSequenceStart[c];
    for (let q = firstSequence; q < table.conceptSequenceStart[c + 1]; q++) {
      predictVariantSequence(
        rows.prior[q - firstSequence],
        rows.learn,
        rows.forget,
        rows.guess,
        rows.slip,
        rows.learnClass,
        rows.gsClass,
        table.correct,
        table.sequenceStart[q],
        table.sequenceStart[q + 1],
        pCorrect,
        pMastery,
        pPosterior,
      );
    }
  }
  return { pCorrect, pMastery, pPosterior };
}


/**
 * The parameters the online update uses for an answer to `questionId` under a variant model: the
 * item's own guess and slip (multigs) and learn and forget (multilearn) when the model has that
 * question as a class, else the concept-level `base` values. `normalise` maps a class id to the
 * form question ids take in the caller (the database's UUIDs); both forms are matched.
 * Returns undefined when the model has no per-item parameters (the update then uses `base`).
 */
export function itemParamsResolver(
  base: BktParams,
  model: VariantModel,
  normalise: (id: string) => string = (id) => id,
): ((questionId: string | null) => BktParams) | undefined {
  if (!model.gs && !model.learn) return undefined;
  const byItem = new Map<string, BktParams>();
  const entry = (id: string) => {
    let params = byItem.get(id);
    if (!params) {
      params = { ...base };
      byItem.set(id, params);
      const normal = normalise(id);
      if (normal !== id) byItem.set(normal, params);
    }
    return params;
  };
  for (const e of model.gs ?? []) Object.assign(entry(e.id), { p_G: e.p_G, p_S: e.p_S });
  for (const e of model.learn ?? []) Object.assign(entry(e.id), { p_T: e.p_T, p_F: e.p_F });
  return (questionId) => (questionId === null ? base : (byItem.get(questionId) ?? byItem.get(questionId.toLowerCase()) ?? base));
}
