import { Flags } from '@oclif/core';
import { UsageError } from '../errors.js';
import type { ReadAttemptsInput } from '../data/read-attempts.js';
import type { TrainerOptions } from '../model/fit-types.js';
import { DEFAULT_BOUNDS, NO_BOUNDS, PARAM_NAMES, type BktParams, type ParamBounds } from '../model/params.js';

/**
 * oclif flags shared by `evaluate`, `validate` and `report`: the attempts reader's (as `fit`
 * takes them) and the trainer's (for `evaluate --folds` and `report` without params), with the
 * functions turning parsed flags into the options objects src/ takes.
 */

const READ_FORMATS = ['csv', 'ndjson', 'arrow', 'sqlite'] as const;

export const readerFlags = {
  input: Flags.string({ char: 'i', summary: 'Attempts file (CSV, NDJSON, Arrow IPC or SQLite; .gz read directly; - for stdin).', required: true }),
  format: Flags.string({ summary: 'Input format; default from the extension.', options: [...READ_FORMATS] }),
  'col-user': Flags.string({ summary: 'Learner column (default user_id).' }),
  'col-concept': Flags.string({ summary: 'Concept column (default concept_id, else skill_name).' }),
  'col-correct': Flags.string({ summary: 'Correctness column, 0/1 or true/false (default correct).' }),
  'col-time': Flags.string({ summary: 'Answer time column (default answered_at).' }),
  'col-order': Flags.string({ summary: 'Order column used when there is no time (default order_id).' }),
  'col-question': Flags.string({ summary: 'Question column (default question_id, else problem_id).' }),
  table: Flags.string({ summary: 'SQLite input: table to read (default attempts).' }),
  query: Flags.string({ summary: 'SQLite input: SELECT to read instead of a table.' }),
  'concept-id': Flags.string({ summary: 'Only this concept (repeatable).', multiple: true }),
  'from-date': Flags.string({ summary: 'Only attempts answered at or after this ISO date.' }),
  'to-date': Flags.string({ summary: 'Only attempts answered at or before this ISO date.' }),
  'min-attempts-per-user': Flags.integer({ summary: 'Drop (learner, concept) sequences shorter than this.', min: 1 }),
};

type ReaderFlagValues = {
  input: string;
  format?: string;
  'col-user'?: string;
  'col-concept'?: string;
  'col-correct'?: string;
  'col-time'?: string;
  'col-order'?: string;
  'col-question'?: string;
  table?: string;
  query?: string;
  'concept-id'?: string[];
  'from-date'?: string;
  'to-date'?: string;
  'min-attempts-per-user'?: number;
};

/** Reader options from parsed reader flags (`input` overrides the --input flag, e.g. for --baseline-input). */
export function readOptionsFromFlags(flags: ReaderFlagValues, input = flags.input): ReadAttemptsInput {
  const columns: Record<string, string> = {};
  for (const role of ['user', 'concept', 'correct', 'time', 'order', 'question'] as const) {
    const value = flags[`col-${role}`];
    if (value !== undefined) columns[role] = value;
  }
  const options: ReadAttemptsInput = { input, columns };
  if (flags.format) options.format = flags.format as ReadAttemptsInput['format'];
  if (flags.table) options.table = flags.table;
  if (flags.query) options.query = flags.query;
  if (flags['concept-id']?.length) options.conceptIds = flags['concept-id'];
  if (flags['from-date']) options.fromDate = flags['from-date'];
  if (flags['to-date']) options.toDate = flags['to-date'];
  if (flags['min-attempts-per-user'] !== undefined) options.minAttemptsPerUser = flags['min-attempts-per-user'];
  return options;
}

const boundFlag = (key: keyof ParamBounds) =>
  Flags.string({ summary: `Bound ${key} (default ${DEFAULT_BOUNDS[key]}).`, helpGroup: 'TRAINER' });

export const trainerFlags = {
  restarts: Flags.integer({ summary: 'Random restarts per concept (default 5).', min: 1, helpGroup: 'TRAINER' }),
  seed: Flags.integer({ summary: 'Seed of the restarts and of the fold split (default 42).', min: 0, helpGroup: 'TRAINER' }),
  'max-iterations': Flags.integer({ summary: 'EM iterations per restart at most.', min: 1, helpGroup: 'TRAINER' }),
  tolerance: Flags.string({ summary: 'Stop when an EM step gains at most this x attempts nats.', helpGroup: 'TRAINER' }),
  'no-bounds': Flags.boolean({ summary: 'Fit on the whole unit interval instead of the default bounds.', helpGroup: 'TRAINER' }),
  forgets: Flags.boolean({ summary: 'Also fit the forgetting parameter p_F.', helpGroup: 'TRAINER' }),
  fix: Flags.string({ summary: 'Hold a parameter fixed, e.g. p_G=0.25 (repeatable).', multiple: true, helpGroup: 'TRAINER' }),
  'min-attempts': Flags.integer({ summary: 'Skip concepts with fewer attempts (default 10).', min: 1, helpGroup: 'TRAINER' }),
  'min-users': Flags.integer({ summary: 'Skip concepts with fewer learners (default 3).', min: 1, helpGroup: 'TRAINER' }),
  workers: Flags.integer({ summary: 'Worker threads (0 = automatic).', min: 0, helpGroup: 'TRAINER' }),
  'L0-min': boundFlag('L0_min'),
  'L0-max': boundFlag('L0_max'),
  'T-min': boundFlag('T_min'),
  'T-max': boundFlag('T_max'),
  'S-min': boundFlag('S_min'),
  'S-max': boundFlag('S_max'),
  'G-min': boundFlag('G_min'),
  'G-max': boundFlag('G_max'),
};

type TrainerFlagValues = {
  restarts?: number;
  seed?: number;
  'max-iterations'?: number;
  tolerance?: string;
  'no-bounds'?: boolean;
  forgets?: boolean;
  fix?: string[];
  'min-attempts'?: number;
  'min-users'?: number;
  workers?: number;
} & Partial<Record<'L0-min' | 'L0-max' | 'T-min' | 'T-max' | 'S-min' | 'S-max' | 'G-min' | 'G-max', string>>;

/** A number flag given as text: NaN or out of range is a UsageError naming the flag. */
export function numberFlag(name: string, text: string, min = -Infinity, max = Infinity): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name} must be a number in [${min}, ${max}] (got ${JSON.stringify(text)})`);
  }
  return value;
}

/** Trainer options (a partial: unset ones take fitConcepts' defaults) from parsed trainer flags. */
export function trainerOptionsFromFlags(flags: TrainerFlagValues): Partial<TrainerOptions> {
  const options: Partial<TrainerOptions> = {};
  if (flags.restarts !== undefined) options.restarts = flags.restarts;
  if (flags.seed !== undefined) options.seed = flags.seed;
  if (flags['max-iterations'] !== undefined) options.maxIterations = flags['max-iterations'];
  if (flags.tolerance !== undefined) options.tolerance = numberFlag('tolerance', flags.tolerance, 0);
  if (flags.forgets) options.forgets = true;
  if (flags['min-attempts'] !== undefined) options.minAttempts = flags['min-attempts'];
  if (flags['min-users'] !== undefined) options.minUsers = flags['min-users'];
  if (flags.workers !== undefined) options.workers = flags.workers;
  const bounds: ParamBounds = { ...(flags['no-bounds'] ? NO_BOUNDS : DEFAULT_BOUNDS) };
  let boundsGiven = Boolean(flags['no-bounds']);
  for (const key of ['L0_min', 'L0_max', 'T_min', 'T_max', 'S_min', 'S_max', 'G_min', 'G_max'] as const) {
    const flag = key.replace('_', '-') as keyof TrainerFlagValues;
    const text = flags[flag] as string | undefined;
    if (text !== undefined) {
      bounds[key] = numberFlag(flag, text, 0, 1);
      boundsGiven = true;
    }
  }
  if (boundsGiven) options.bounds = bounds;
  if (flags.fix?.length) {
    const fixed: Partial<BktParams> = {};
    for (const item of flags.fix) {
      const match = /^\s*(p_L0|p_T|p_S|p_G|p_F)\s*=\s*(.+)$/.exec(item);
      if (!match) throw new UsageError(`--fix ${item}: expected NAME=VALUE with NAME one of ${PARAM_NAMES.join(', ')}`, 'e.g. --fix p_G=0.25');
      fixed[match[1] as keyof BktParams] = numberFlag('fix', match[2], 0, 1);
    }
    options.fixed = fixed;
  }
  return options;
}
