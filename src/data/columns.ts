import { InputError } from '../errors.js';

/** The logical columns every reader looks for. */
export const COLUMN_ROLES = ['user', 'concept', 'correct', 'time', 'order', 'question'] as const;
/** One logical column: user, concept, correct, time, order or question. */
export type ColumnRole = (typeof COLUMN_ROLES)[number];

/** Source column name per role (`--col-user`, ...); unset roles use the defaults or pyBKT's names. */
export type ColumnMapping = Partial<Record<ColumnRole, string>>;

/** Default source column names (the app's `session_answers` names). */
export const DEFAULT_COLUMNS: Readonly<Record<ColumnRole, string>> = {
  user: 'user_id',
  concept: 'concept_id',
  correct: 'correct',
  time: 'answered_at',
  order: 'order_id',
  question: 'question_id',
};

/** pyBKT's default names, recognised when the default name is absent. */
export const PYBKT_COLUMN_ALIASES: Readonly<Partial<Record<ColumnRole, string>>> = {
  concept: 'skill_name',
  question: 'problem_id',
};

/** The option that maps each role, in backticks as error hints name options (the CLI shows its flag, --col-user). */
export const COLUMN_OPTIONS: Readonly<Record<ColumnRole, string>> = {
  user: '`columns.user`',
  concept: '`columns.concept`',
  correct: '`columns.correct`',
  time: '`columns.time`',
  order: '`columns.order`',
  question: '`columns.question`',
};

/**
 * Column presets, as in pyBKT's `defaults`: `assistments` (ASSISTments skill-builder exports) and
 * `cognitive-tutor` (PSLC DataShop / KDD Cup transaction exports).
 */
export const COLUMN_PRESETS = {
  assistments: { user: 'user_id', concept: 'skill_name', correct: 'correct', order: 'order_id', question: 'problem_id' },
  'cognitive-tutor': {
    user: 'Anon Student Id',
    concept: 'KC(Default)',
    correct: 'Correct First Attempt',
    order: 'Row',
    question: 'Problem Name',
  },
} as const satisfies Record<string, ColumnMapping>;
/** Name of a column preset (`assistments`, `cognitive-tutor`). */
export type ColumnPreset = keyof typeof COLUMN_PRESETS;
/** Every preset name, in declaration order (the `--preset` choices). */
export const COLUMN_PRESET_NAMES = Object.keys(COLUMN_PRESETS) as ColumnPreset[];

const REQUIRED: readonly ColumnRole[] = ['user', 'concept', 'correct'];

/** Which source column each role was read from, null when absent (snake_case for JSON output). */
export interface ColumnsUsed {
  user: string;
  concept: string;
  correct: string;
  time: string | null;
  order: string | null;
  question: string | null;
}

/** Position of each role in the source's column list (-1 when absent) and the names used. */
export interface ResolvedColumns {
  index: Record<ColumnRole, number>;
  used: ColumnsUsed;
}

/**
 * Find each role in `names` (a header row, the keys of the first JSON object, a table's columns).
 * An explicitly mapped column must exist; otherwise the preset's name, then the default name,
 * then pyBKT's name, then any `aliases` of the role are tried. user, concept and correct are
 * required.
 * @throws InputError naming the source, the missing column and the flag that maps it.
 */
export function resolveColumns(
  names: readonly string[],
  mapping: ColumnMapping,
  preset: ColumnPreset | undefined,
  where: string,
  aliases: Readonly<Partial<Record<ColumnRole, readonly string[]>>> = {},
): ResolvedColumns {
  const position = new Map<string, number>();
  names.forEach((name, i) => {
    if (!position.has(name)) position.set(name, i);
  });
  const index = {} as Record<ColumnRole, number>;
  const used = {} as Record<ColumnRole, string | null>;
  // Kept short and on one line whatever the header holds (a file with CR-only line ends is one line).
  const shown = names.slice(0, 12).map((n) => JSON.stringify(n.length > 40 ? `${n.slice(0, 40)}...` : n));
  const found = names.length === 0 ? 'no columns' : shown.join(', ') + (names.length > 12 ? `, ... (${names.length} columns)` : '');
  for (const role of COLUMN_ROLES) {
    const explicit = mapping[role];
    if (explicit !== undefined) {
      const i = position.get(explicit);
      if (i === undefined) {
        throw new InputError(
          `${where}: no column "${explicit}" (given with ${COLUMN_OPTIONS[role]}); found ${found}`,
          `Pass the exact column name with ${COLUMN_OPTIONS[role]}`,
        );
      }
      index[role] = i;
      used[role] = explicit;
      continue;
    }
    const presetName = preset ? (COLUMN_PRESETS[preset] as ColumnMapping)[role] : undefined;
    const candidates = [presetName, DEFAULT_COLUMNS[role], PYBKT_COLUMN_ALIASES[role], ...(aliases[role] ?? [])].filter(
      (c): c is string => c !== undefined,
    );
    const name = candidates.find((c) => position.has(c));
    if (name === undefined) {
      if (REQUIRED.includes(role)) {
        const tried = [...new Set(candidates)].map((c) => `"${c}"`).join(' or ');
        throw new InputError(
          `${where}: no ${role} column (looked for ${tried}); found ${found}`,
          `Map it with ${COLUMN_OPTIONS[role]} NAME`,
        );
      }
      index[role] = -1;
      used[role] = null;
    } else {
      index[role] = position.get(name)!;
      used[role] = name;
    }
  }
  return { index, used: used as unknown as ColumnsUsed };
}
