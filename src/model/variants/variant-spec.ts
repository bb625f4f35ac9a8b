import type { AttemptsTable } from '../../data/attempts-table.js';
import { classColumn } from '../../data/attempts-table.js';
import { InputError, UsageError } from '../../errors.js';

/**
 * Which model variants to fit and from which source columns, as pyBKT's `fit(multigs=...,
 * multilearn=..., multiprior=..., multipair=...)`. `true` means the default column: the
 * question column when the input has one, else `template_id` (pyBKT's name).
 * - multigs: guess and slip per class of the row (an item);
 * - multilearn: learn (and forget) per class of the row just answered;
 * - multiprior: prior per class of the learner (a learner attribute, never a per-attempt column);
 * - multipair: learn (and forget) per ordered pair (previous item, item just answered).
 * At most one of multilearn, multiprior and multipair (as pyBKT); multigs combines with each.
 */
export interface VariantSpec {
  multigs?: string | true;
  multilearn?: string | true;
  multiprior?: string;
  multipair?: string | true;
}

export const VARIANT_NAMES = ['multigs', 'multilearn', 'multiprior', 'multipair'] as const;
export type VariantName = (typeof VARIANT_NAMES)[number];

/** The column pyBKT uses when none is named and the input has no question column. */
export const DEFAULT_CLASS_COLUMN = 'template_id';

/** True when the spec asks for at least one variant. */
export function hasVariants(spec: VariantSpec | undefined): spec is VariantSpec {
  return spec !== undefined && VARIANT_NAMES.some((name) => spec[name] !== undefined);
}

/**
 * Check the combination (pyBKT: at most one of multilearn, multiprior, multipair).
 * @throws UsageError naming the flags.
 */
export function checkVariantSpec(spec: VariantSpec): void {
  const transitionVariants = (['multilearn', 'multiprior', 'multipair'] as const).filter((name) => spec[name] !== undefined);
  if (transitionVariants.length > 1) {
    throw new UsageError(
      `\`variants.${transitionVariants[0]}\` and \`variants.${transitionVariants[1]}\` cannot be combined`,
      'Use at most one of `variants.multilearn`, `variants.multiprior` and `variants.multipair` (each may go with `variants.multigs`)',
    );
  }
  if (spec.multiprior !== undefined && (typeof spec.multiprior !== 'string' || spec.multiprior === '')) {
    throw new UsageError('`variants.multiprior` needs a column', 'Name a learner attribute column, e.g. `variants.multiprior` cohort');
  }
}

/** The source columns the reader must carry for `spec` (explicit ones required, the default optional). */
export function classColumnRequests(spec: VariantSpec): { name: string; required: boolean; flag: string }[] {
  const out: { name: string; required: boolean; flag: string }[] = [];
  for (const name of VARIANT_NAMES) {
    const value = spec[name];
    if (value === undefined) continue;
    out.push(value === true ? { name: DEFAULT_CLASS_COLUMN, required: false, flag: `\`variants.${name}\`` } : { name: value, required: true, flag: `\`variants.${name}\`` });
  }
  return out;
}

/** One variant's per-row class source: a dictionary and one index per row (-1 = empty value). */
export interface ClassSource {
  /** Source column name, as reported in the model. */
  column: string;
  ids: readonly string[];
  values: Int32Array;
}

/** The columns each variant reads, resolved against a table. */
export interface ResolvedVariants {
  gs: ClassSource | null;
  learn: ClassSource | null;
  prior: ClassSource | null;
  pair: ClassSource | null;
}

/** Source column names the reader resolved for the standard roles (ReadSummary.columns). */
export interface RoleColumns {
  correct?: string | null;
  time?: string | null;
  order?: string | null;
  question?: string | null;
  concept?: string | null;
  user?: string | null;
}

function sourceFor(table: AttemptsTable, flag: VariantName, value: string | true, roles: RoleColumns): ClassSource {
  if (value === true) {
    if (table.question !== null) {
      return { column: roles.question ?? 'question', ids: table.questionIds, values: table.question };
    }
    const carried = classColumn(table, DEFAULT_CLASS_COLUMN);
    if (carried) return { column: carried.name, ids: carried.ids, values: carried.values };
    throw new UsageError(
      `\`variants.${flag}\`: the input has no question column and no "${DEFAULT_CLASS_COLUMN}" column`,
      `Name the item column: \`variants.${flag}\` COLUMN`,
    );
  }
  if (roles.question === value && table.question !== null) {
    return { column: value, ids: table.questionIds, values: table.question };
  }
  const carried = classColumn(table, value);
  if (!carried) {
    throw new UsageError(`\`variants.${flag}\` ${value}: the input has no column "${value}"`, `Pass the exact column name with \`variants.${flag}\``);
  }
  return { column: carried.name, ids: carried.ids, values: carried.values };
}

/**
 * Resolve each variant's column against a read table. The prior column must be a learner
 * attribute: the answer, time, order or question column is refused (UsageError, exit 2: a prior
 * chosen by the answer it predicts leaks the target, as pyBKT's default `multiprior='correct'`
 * does), and so is a column whose value changes between one learner's attempts (InputError,
 * exit 3, naming the learner and the two values).
 */
export function resolveVariants(table: AttemptsTable, spec: VariantSpec, roles: RoleColumns = {}): ResolvedVariants {
  checkVariantSpec(spec);
  if (spec.multiprior !== undefined) {
    const name = spec.multiprior;
    const perAttempt: [string | null | undefined, string][] = [
      [roles.correct ?? 'correct', 'the answer column, so the prior would be chosen by the answer it predicts'],
      ['correct', 'the answer column, so the prior would be chosen by the answer it predicts'],
      [roles.time, 'the time column, a per-attempt value'],
      [roles.order, 'the order column, a per-attempt value'],
      [roles.question, 'the question column, a per-attempt value'],
      [roles.concept, 'the concept column'],
    ];
    for (const [role, why] of perAttempt) {
      if (role && role === name) {
        throw new UsageError(
          `\`variants.multiprior\` ${name}: "${name}" is ${why}; a prior class must be a learner attribute`,
          'Pass a column that is constant per learner, e.g. `variants.multiprior` cohort, or the learner column itself',
        );
      }
    }
  }
  const resolved: ResolvedVariants = {
    gs: spec.multigs !== undefined ? sourceFor(table, 'multigs', spec.multigs, roles) : null,
    learn: spec.multilearn !== undefined ? sourceFor(table, 'multilearn', spec.multilearn, roles) : null,
    prior: null,
    pair: spec.multipair !== undefined ? sourceFor(table, 'multipair', spec.multipair, roles) : null,
  };
  if (spec.multiprior !== undefined) {
    const prior =
      roles.user === spec.multiprior
        ? { column: spec.multiprior, ids: table.learnerIds, values: Int32Array.from(table.learner) }
        : sourceFor(table, 'multiprior', spec.multiprior, roles);
    assertLearnerAttribute(table, prior);
    resolved.prior = prior;
  }
  return resolved;
}

/** @throws InputError when the column's value differs between two attempts of one learner. */
function assertLearnerAttribute(table: AttemptsTable, source: ClassSource): void {
  const seen = new Int32Array(table.learnerIds.length).fill(-2);
  for (let row = 0; row < table.length; row++) {
    const learner = table.learner[row];
    const value = source.values[row];
    const before = seen[learner];
    if (before === -2) seen[learner] = value;
    else if (before !== value) {
      const show = (v: number) => (v < 0 ? 'empty' : JSON.stringify(source.ids[v]));
      throw new InputError(
        `\`variants.multiprior\` ${source.column}: learner ${table.learnerIds[learner]} has both ${show(before)} and ${show(value)} in column "${source.column}", so it is a per-attempt column, not a learner attribute`,
        'Pass a column that is constant per learner (a cohort, a pre-test band, the learner id)',
      );
    }
  }
}

/**
 * Per-concept class indices of a table under resolved variants: one local index per row for the
 * guess/slip class and for the learn class, one per sequence for the prior class, and per
 * concept the class names (first appearance order). A variant that is off has the single class
 * 0. Empty values form a class of their own (named "").
 */
export interface VariantLayout {
  gsClass: Uint32Array;
  learnClass: Uint32Array;
  priorClass: Uint32Array;
  concepts: ConceptClasses[];
}

/** The classes of one concept. */
export interface ConceptClasses {
  /** Prior class names (one "" entry when multiprior is off). */
  priorIds: string[];
  /** Learn class names; for multipair [previous, current] pairs, the first being [null, null] (a sequence's first step). */
  learnIds: (string | [string | null, string | null])[];
  gsIds: string[];
  /** Evidence per class: sequences per prior class, rows followed by a transition per learn class, rows per gs class. */
  priorCounts: Uint32Array;
  learnCounts: Uint32Array;
  gsCounts: Uint32Array;
}

/** Build the layout (O(rows)). */
export function buildVariantLayout(table: AttemptsTable, variants: ResolvedVariants): VariantLayout {
  const n = table.length;
  const sequences = table.sequenceStart.length - 1;
  const gsClass = new Uint32Array(n);
  const learnClass = new Uint32Array(n);
  const priorClass = new Uint32Array(sequences);
  const concepts: ConceptClasses[] = [];
  const local = (source: ClassSource | null) => (source ? new Int32Array(source.ids.length + 1).fill(-1) : null);
  const gsLocal = local(variants.gs);
  const learnLocal = local(variants.learn);
  const priorLocal = local(variants.prior);
  const name = (source: ClassSource, v: number) => (v < 0 ? '' : source.ids[v]);

  for (let c = 0; c < table.conceptIds.length; c++) {
    const firstSequence = table.conceptSequenceStart[c];
    const lastSequence = table.conceptSequenceStart[c + 1];
    const rowStart = table.sequenceStart[firstSequence];
    const rowEnd = table.sequenceStart[lastSequence];
    const classes: ConceptClasses = {
      priorIds: [],
      learnIds: [],
      gsIds: [],
      priorCounts: new Uint32Array(0),
      learnCounts: new Uint32Array(0),
      gsCounts: new Uint32Array(0),
    };
    const gsCount: number[] = [];
    const learnCount: number[] = [];
    const priorCount: number[] = [];

    if (variants.gs && gsLocal) {
      const source = variants.gs;
      const touched: number[] = [];
      for (let row = rowStart; row < rowEnd; row++) {
        const v = source.values[row] + 1;
        let k = gsLocal[v];
        if (k < 0) {
          k = gsLocal[v] = classes.gsIds.length;
          classes.gsIds.push(name(source, v - 1));
          gsCount.push(0);
          touched.push(v);
        }
        gsClass[row] = k;
        gsCount[k]++;
      }
      for (const v of touched) gsLocal[v] = -1;
    } else {
      classes.gsIds.push('');
      gsCount.push(rowEnd - rowStart);
    }

    if (variants.learn && learnLocal) {
      const source = variants.learn;
      const touched: number[] = [];
      for (let q = firstSequence; q < lastSequence; q++) {
        const end = table.sequenceStart[q + 1];
        for (let row = table.sequenceStart[q]; row < end; row++) {
          const v = source.values[row] + 1;
          let k = learnLocal[v];
          if (k < 0) {
            k = learnLocal[v] = classes.learnIds.length;
            classes.learnIds.push(name(source, v - 1));
            learnCount.push(0);
            touched.push(v);
          }
          learnClass[row] = k;
          if (row + 1 < end) learnCount[k]++;
        }
      }
      for (const v of touched) learnLocal[v] = -1;
    } else if (variants.pair) {
      const source = variants.pair;
      const pairs = new Map<number, number>();
      const width = source.ids.length + 1;
      classes.learnIds.push([null, null]);
      learnCount.push(0);
      for (let q = firstSequence; q < lastSequence; q++) {
        const start = table.sequenceStart[q];
        const end = table.sequenceStart[q + 1];
        learnClass[start] = 0;
        if (start + 1 < end) learnCount[0]++;
        for (let row = start + 1; row < end; row++) {
          const previous = source.values[row - 1] + 1;
          const current = source.values[row] + 1;
          const key = previous * width + current;
          let k = pairs.get(key);
          if (k === undefined) {
            k = classes.learnIds.length;
            pairs.set(key, k);
            classes.learnIds.push([name(source, previous - 1), name(source, current - 1)]);
            learnCount.push(0);
          }
          learnClass[row] = k;
          if (row + 1 < end) learnCount[k]++;
        }
      }
    } else {
      classes.learnIds.push('');
      learnCount.push(rowEnd - rowStart - (lastSequence - firstSequence));
    }

    if (variants.prior && priorLocal) {
      const source = variants.prior;
      const touched: number[] = [];
      for (let q = firstSequence; q < lastSequence; q++) {
        const v = source.values[table.sequenceStart[q]] + 1;
        let k = priorLocal[v];
        if (k < 0) {
          k = priorLocal[v] = classes.priorIds.length;
          classes.priorIds.push(name(source, v - 1));
          priorCount.push(0);
          touched.push(v);
        }
        priorClass[q] = k;
        priorCount[k]++;
      }
      for (const v of touched) priorLocal[v] = -1;
    } else {
      classes.priorIds.push('');
      priorCount.push(lastSequence - firstSequence);
    }
    classes.gsCounts = Uint32Array.from(gsCount);
    classes.learnCounts = Uint32Array.from(learnCount);
    classes.priorCounts = Uint32Array.from(priorCount);
    concepts.push(classes);
  }
  return { gsClass, learnClass, priorClass, concepts };
}
