import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import { COLUMN_PRESET_NAMES } from '../data/columns.js';
import { READ_FORMATS } from '../data/formats.js';
import type { ReadAttemptsInput } from '../data/read-attempts.js';
import type { TrainerOptions } from '../model/fit-types.js';
import { DEFAULT_FIT_METHOD, FIT_METHODS, type FitMethod, METHOD_PRESETS } from '../model/fit-methods.js';
import { DEFAULT_BOUNDS, PARAM_NAMES, type BktParams, type ParamBounds } from '../model/params.js';
import { type VariantSpec, checkVariantSpec, hasVariants } from '../model/variants/variant-spec.js';

/**
 * Flag sets shared by every command that reads attempts (`fit`, `evaluate`, `report`, `import`,
 * `update --input`) or trains (`fit`, `evaluate --folds`, `recompute`), so they are spelled and
 * documented once; and the functions that turn parsed flags into src/ options.
 */

/** A finite number flag: "--tolerance must be a number (got abc)". */
export const numberFlag = Flags.custom<number>({
  parse: async (input, _context, options) => {
    const value = Number(input);
    if (input.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--${options.name} must be a number (got ${JSON.stringify(input)})`);
    }
    return value;
  },
});

/** A probability flag in [0, 1]. */
export const probabilityFlag = Flags.custom<number>({
  parse: async (input, _context, options) => {
    const value = Number(input);
    if (input.trim() === '' || !(value >= 0 && value <= 1)) {
      throw new UsageError(`--${options.name} must be a probability in [0, 1] (got ${JSON.stringify(input)})`);
    }
    return value;
  },
});

/** The database: a SQLite file path or a postgres:// URL; DATABASE_URL when absent. */
export const dbFlag = Flags.string({
  summary: 'SQLite file path or postgres:// URL (default ./bkt.sqlite, or DATABASE_URL when set).',
  helpGroup: 'DATABASE',
});

/**
 * Ids of stored things (learners, concepts). Any id is accepted: a UUID as is, any other id as the
 * UUID "bkt import" stored for it (an integer n is the UUID of value n, other text a version-5
 * UUID), so the ids of the original attempts file work everywhere.
 */
const ID_NOTE = 'a UUID, or the id as in the imported file';

/** `--concept-id` (repeatable; `--concept` is an alias) for commands that read the database. */
export const conceptIdFlag = (summary = `Only this concept: ${ID_NOTE} (repeatable).`, helpGroup = 'FILTERS') =>
  Flags.string({ summary, multiple: true, aliases: ['concept'], helpGroup });

/** `--user`: one learner, for commands that read or write the database. */
export const userFlag = (summary = `Only this learner: ${ID_NOTE}.`, helpGroup = 'FILTERS') => Flags.string({ summary, helpGroup });

/** `--as-user`: run in one learner's scope (what a backend does for a logged-in learner). */
export const asUserFlag = () =>
  Flags.string({ summary: "Run in this learner's scope: only its own states may be read or changed.", helpGroup: 'SCOPE' });

/** `--csv` and `--all`, beside every table a command prints. */
export const tableFlags = {
  csv: Flags.boolean({ summary: 'Print the table as CSV (every row, raw values).', exclusive: ['json'], helpGroup: 'OUTPUT' }),
  all: Flags.boolean({ summary: 'Print every row instead of the first screenful.', helpGroup: 'OUTPUT' }),
};

/** Flags that say where attempts come from and how to read them. */
export const readerFlags = {
  format: Flags.string({ summary: 'Input format (default: from the extension).', options: [...READ_FORMATS], helpGroup: 'INPUT' }),
  preset: Flags.string({ summary: 'Column preset, as pyBKT.', options: [...COLUMN_PRESET_NAMES], helpGroup: 'INPUT' }),
  'col-user': Flags.string({ summary: 'Learner column (default user_id).', helpGroup: 'INPUT' }),
  'col-concept': Flags.string({ summary: 'Concept column (default concept_id, else skill_name).', helpGroup: 'INPUT' }),
  'col-correct': Flags.string({ summary: 'Correctness column, 0/1 or true/false (default correct).', helpGroup: 'INPUT' }),
  'col-time': Flags.string({ summary: 'Answer time column, ISO-8601 or epoch (default answered_at).', helpGroup: 'INPUT' }),
  'col-order': Flags.string({ summary: 'Order column used when there is no time (default order_id).', helpGroup: 'INPUT' }),
  'col-question': Flags.string({ summary: 'Question column (default question_id, else problem_id).', helpGroup: 'INPUT' }),
  table: Flags.string({ summary: 'SQLite input: table to read (default attempts).', helpGroup: 'INPUT', exclusive: ['query'] }),
  query: Flags.string({ summary: 'SQLite input: a SELECT to read instead of a table.', helpGroup: 'INPUT' }),
  'concept-id': Flags.string({ summary: 'Only this concept (repeatable).', multiple: true, helpGroup: 'FILTERS' }),
  'concept-pattern': Flags.string({ summary: 'Only concepts whose whole id matches this regular expression (pyBKT\'s skills).', helpGroup: 'FILTERS' }),
  'from-date': Flags.string({ summary: 'Only attempts answered at or after this ISO date.', helpGroup: 'FILTERS' }),
  'to-date': Flags.string({ summary: 'Only attempts answered at or before this ISO date (a date includes the whole day).', helpGroup: 'FILTERS' }),
  'min-attempts-per-user': Flags.integer({ summary: 'Drop learner sequences shorter than this.', min: 1, default: 1, helpGroup: 'FILTERS' }),
};

type ReaderFlagValues = {
  format?: string;
  preset?: string;
  'col-user'?: string;
  'col-concept'?: string;
  'col-correct'?: string;
  'col-time'?: string;
  'col-order'?: string;
  'col-question'?: string;
  table?: string;
  query?: string;
  'concept-id'?: string[];
  'concept-pattern'?: string;
  'from-date'?: string;
  'to-date'?: string;
  'min-attempts-per-user'?: number;
};

/** readAttempts options from parsed reader flags and the input path. */
export function readerOptionsFromFlags(input: string, flags: ReaderFlagValues): ReadAttemptsInput {
  const columns = Object.fromEntries(
    (['user', 'concept', 'correct', 'time', 'order', 'question'] as const)
      .map((role) => [role, flags[`col-${role}`]] as const)
      .filter(([, v]) => v !== undefined),
  );
  return {
    input,
    format: flags.format as ReadAttemptsInput['format'],
    preset: flags.preset as ReadAttemptsInput['preset'],
    columns,
    table: flags.table,
    query: flags.query,
    conceptIds: flags['concept-id'],
    conceptPattern: flags['concept-pattern'],
    fromDate: flags['from-date'],
    toDate: flags['to-date'],
    minAttemptsPerUser: flags['min-attempts-per-user'] ?? 1,
  };
}

const boundFlag = (key: keyof ParamBounds) =>
  probabilityFlag({ summary: `Lower/upper bound ${key} (--method box default ${DEFAULT_BOUNDS[key]}; otherwise the open unit interval).`, helpGroup: 'BOUNDS' });

/** `--L0-min` ... `--G-max`, as in the seed's CLI. */
const boundFlags = {
  'L0-min': boundFlag('L0_min'),
  'L0-max': boundFlag('L0_max'),
  'T-min': boundFlag('T_min'),
  'T-max': boundFlag('T_max'),
  'S-min': boundFlag('S_min'),
  'S-max': boundFlag('S_max'),
  'G-min': boundFlag('G_min'),
  'G-max': boundFlag('G_max'),
};

/** Flags of the EM trainer, shared by fit, recompute and evaluate --folds. */
export const trainerFlags = {
  method: Flags.string({
    summary: 'Fitting method: map (weak Beta priors, no instant mastery), box (maximum likelihood in the bounds), mle (maximum likelihood, unbounded).',
    options: [...FIT_METHODS],
    helpGroup: 'TRAINER',
  }),
  'prior-strength': numberFlag({ summary: "With --method map: scale the Beta priors' pseudo-counts by this (0 = none; default 1).", helpGroup: 'TRAINER' }),
  'plausibility-margin': probabilityFlag({ summary: 'Keep G below (1 - S) minus this margin at every EM step (default: off).', helpGroup: 'TRAINER' }),
  restarts: Flags.integer({ summary: 'Random restarts per concept; the best log-likelihood wins.', default: 5, min: 1, helpGroup: 'TRAINER' }),
  seed: Flags.integer({ summary: 'Seed of the restart generator.', default: 42, min: 0, helpGroup: 'TRAINER' }),
  'max-iterations': Flags.integer({ summary: 'EM iterations per restart at most.', default: 1000, min: 1, helpGroup: 'TRAINER' }),
  tolerance: numberFlag({ summary: 'Stop when an EM step gains at most this many nats per attempt.', default: 1e-9, helpGroup: 'TRAINER' }),
  forgets: Flags.boolean({ summary: 'Also fit p_F, the probability of forgetting.', default: false, helpGroup: 'TRAINER' }),
  // Declared on --no-bounds only (oclif checks it from either side): declared on each bound too,
  // it made usage lines like "[--L0-max <value> | ]".
  'no-bounds': Flags.boolean({
    summary: 'Same as --method mle: maximum likelihood on the whole unit interval.',
    default: false,
    helpGroup: 'BOUNDS',
    exclusive: ['L0-min', 'L0-max', 'T-min', 'T-max', 'S-min', 'S-max', 'G-min', 'G-max', 'method'],
  }),
  ...boundFlags,
  fix: Flags.string({ summary: 'Hold a parameter fixed, e.g. p_G=0.25 (repeatable).', multiple: true, helpGroup: 'TRAINER' }),
  'fix-from': Flags.string({ summary: 'Hold parameters fixed per concept, as a file gives them (CSV concept_id,p_G,... or JSON; - for stdin).', helpGroup: 'TRAINER' }),
  'min-attempts': Flags.integer({ summary: 'Skip concepts with fewer attempts.', default: 10, min: 1, helpGroup: 'TRAINER' }),
  'min-users': Flags.integer({ summary: 'Skip concepts with fewer learners.', default: 3, min: 1, helpGroup: 'TRAINER' }),
  workers: Flags.integer({ summary: 'Worker threads (0 = automatic). Results do not depend on it.', default: 0, min: 0, helpGroup: 'TRAINER' }),
};

type TrainerFlagValues = {
  method?: string;
  'prior-strength'?: number;
  'plausibility-margin'?: number;
  restarts: number;
  seed: number;
  'max-iterations': number;
  tolerance: number;
  forgets: boolean;
  'no-bounds': boolean;
  fix?: string[];
  'min-attempts': number;
  'min-users': number;
  workers: number;
} & Partial<Record<keyof typeof boundFlags, number>>;

/** Parse `--fix p_G=0.25` values. */
export function parseFixedParams(values: string[] = []): Partial<BktParams> {
  const fixed: Partial<BktParams> = {};
  for (const value of values) {
    const match = /^\s*(p_L0|p_T|p_S|p_G|p_F)\s*=\s*([0-9.eE+-]+)\s*$/.exec(value);
    const number = match ? Number(match[2]) : Number.NaN;
    if (!match || !(number >= 0 && number <= 1)) {
      throw new UsageError(`--fix ${JSON.stringify(value)}: expected NAME=VALUE with NAME one of ${PARAM_NAMES.join(', ')} and VALUE in [0, 1]`);
    }
    fixed[match[1] as keyof BktParams] = number;
  }
  return fixed;
}

/** What `--fix-from FILE` gave: the path as typed and the parameters it fixes per concept. */
export interface FixFrom {
  path: string;
  fixedByConcept: Record<string, Partial<BktParams>>;
}

/** Flags that read stdin when given `-`, in the order a conflict names them (the one added to a reading command first). */
const STDIN_FLAGS = ['fix-from', 'warm-start', 'params', 'input'] as const;

/**
 * Stdin can be read once: two of --fix-from, --warm-start, --params and --input given as `-` is a
 * UsageError naming both, before anything is read.
 */
export function refuseSharedStdin(flags: Partial<Record<(typeof STDIN_FLAGS)[number], string>>): void {
  const readers = STDIN_FLAGS.filter((flag) => flags[flag] === '-');
  if (readers.length > 1) throw new UsageError(`--${readers[0]} - and --${readers[1]} - both read stdin`, 'Give one of them as a file');
}

/**
 * Read `--fix-from FILE` (`-` = stdin) as parameter files are read; undefined without the flag.
 * Read once per command, before the trainer options (which a database fit builds more than once).
 * @throws UsageError when two flags read stdin (refuseSharedStdin): --fix-from, --warm-start,
 * --params or --input; every command with --fix-from calls this first, so all of them check.
 */
export async function readFixFrom(flags: { 'fix-from'?: string; 'warm-start'?: string; input?: string; params?: string }): Promise<FixFrom | undefined> {
  refuseSharedStdin(flags);
  const path = flags['fix-from'];
  if (path === undefined) return undefined;
  const { readFixedParamsFile } = await import('../fit/fixed-params.js');
  return { path, fixedByConcept: await readFixedParamsFile(path) };
}

/**
 * Trainer options from parsed trainer flags (validated again by fitConcepts' schema) and what
 * `--fix-from` gave (readFixFrom). The box is
 * the method's (DEFAULT_BOUNDS for box, the open unit interval otherwise), or `baseBounds` when
 * the caller has one (a database's algo_params constraints) and no --method or --no-bounds was
 * given, with each `--L0-min ...` flag applied over it.
 */
export function trainerOptionsFromFlags(flags: TrainerFlagValues, fixFrom: FixFrom | undefined, baseBounds?: ParamBounds): Partial<TrainerOptions> {
  const method: FitMethod = flags['no-bounds'] ? 'mle' : ((flags.method as FitMethod | undefined) ?? DEFAULT_FIT_METHOD);
  const explicitMethod = flags['no-bounds'] || flags.method !== undefined;
  const bounds: ParamBounds = { ...(baseBounds && !explicitMethod ? baseBounds : METHOD_PRESETS[method].bounds) };
  for (const flag of Object.keys(boundFlags) as (keyof typeof boundFlags)[]) {
    const value = flags[flag];
    if (value !== undefined) bounds[flag.replace('-', '_') as keyof ParamBounds] = value;
  }
  const fixed = parseFixedParams(flags.fix);
  if (fixed.p_F !== undefined && fixed.p_F > 0 && !flags.forgets) {
    throw new UsageError('--fix p_F needs --forgets', 'Add --forgets to use a forgetting model');
  }
  const fixedByConcept = fixFrom?.fixedByConcept;
  const forgetting = Object.entries(fixedByConcept ?? {}).find(([, f]) => f.p_F !== undefined && f.p_F > 0);
  if (forgetting && !flags.forgets) {
    throw new UsageError(`--fix-from ${fixFrom!.path}: concept ${forgetting[0]} fixes p_F = ${forgetting[1].p_F}, which needs --forgets`, 'Add --forgets to use a forgetting model');
  }
  const strength = flags['prior-strength'];
  if (strength !== undefined && !(strength >= 0)) throw new UsageError(`--prior-strength must be >= 0 (got ${strength})`);
  if (strength !== undefined && method !== 'map') throw new UsageError('--prior-strength needs --method map (the default)');
  const basePrior = METHOD_PRESETS[method].prior;
  const prior =
    strength === undefined || !basePrior
      ? undefined
      : strength === 0
        ? null
        : Object.fromEntries(Object.entries(basePrior).map(([name, p]) => [name, { mean: p!.mean, strength: p!.strength * strength }]));
  return {
    method,
    restarts: flags.restarts,
    seed: flags.seed,
    maxIterations: flags['max-iterations'],
    tolerance: flags.tolerance,
    forgets: flags.forgets,
    bounds,
    ...(prior !== undefined ? { prior } : {}),
    ...(flags['plausibility-margin'] !== undefined ? { plausibilityMargin: flags['plausibility-margin'] } : {}),
    fixed,
    ...(fixedByConcept ? { fixedByConcept } : {}),
    minAttempts: flags['min-attempts'],
    minUsers: flags['min-users'],
    workers: flags.workers,
  };
}

/** Sentinel value of a variant flag given without a column (the default column). */
const DEFAULT_COLUMN_SENTINEL = '\u0000default';

/**
 * The model-variant flags (pyBKT's multigs, multilearn, multiprior, multipair). `--multigs`,
 * `--multilearn` and `--multipair` take an optional column (default: the question column, else
 * template_id); oclif has no optional flag values, so `withOptionalVariantColumns` rewrites a
 * bare flag in argv first.
 */
export const variantFlags = {
  multigs: Flags.string({
    summary: 'Fit guess and slip per item: [COLUMN] names the item column (default the question column, else template_id).',
    helpGroup: 'VARIANTS',
  }),
  multilearn: Flags.string({
    summary: 'Fit learn (and forget) per item just answered: [COLUMN] as --multigs. At most one of --multilearn, --multiprior, --multipair.',
    helpGroup: 'VARIANTS',
  }),
  multiprior: Flags.string({
    summary: 'Fit the prior per learner class: COLUMN is a learner attribute (never the answer or another per-attempt column).',
    helpGroup: 'VARIANTS',
  }),
  multipair: Flags.string({
    summary: 'Fit learn (and forget) per ordered pair (previous item, item just answered): [COLUMN] as --multigs.',
    helpGroup: 'VARIANTS',
  }),
};

/** argv with a bare `--multigs`/`--multilearn`/`--multipair` (no column after it) given the default-column sentinel. */
export function withOptionalVariantColumns(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    out.push(arg);
    if (arg === '--multigs' || arg === '--multilearn' || arg === '--multipair') {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) out.push(DEFAULT_COLUMN_SENTINEL);
    }
  }
  return out;
}

type VariantFlagValues = { multigs?: string; multilearn?: string; multiprior?: string; multipair?: string };

/** The trainer's variant spec from parsed variant flags (undefined when none was given). */
export function variantSpecFromFlags(flags: VariantFlagValues): VariantSpec | undefined {
  const column = (value: string | undefined) => (value === undefined ? undefined : value === DEFAULT_COLUMN_SENTINEL ? true : value);
  if (flags.multiprior === DEFAULT_COLUMN_SENTINEL || flags.multiprior === '') {
    throw new UsageError('--multiprior needs a column', 'Name a learner attribute, e.g. --multiprior cohort (the answer column is refused: it leaks the answer)');
  }
  const spec: VariantSpec = {};
  const gs = column(flags.multigs);
  const learn = column(flags.multilearn);
  const pair = column(flags.multipair);
  if (gs !== undefined) spec.multigs = gs;
  if (learn !== undefined) spec.multilearn = learn;
  if (pair !== undefined) spec.multipair = pair;
  if (flags.multiprior !== undefined) spec.multiprior = flags.multiprior;
  // Checked here rather than with oclif's `exclusive`, so the message is one line naming both flags.
  if (hasVariants(spec)) checkVariantSpec(spec);
  return hasVariants(spec) ? spec : undefined;
}
