/**
 * The database contract of ../shared/schema.md as data: every table, column, key and index bkt
 * creates (when missing) and checks. Each backend renders it with its own type mapping
 * (`<db>-schema.ts`); nothing here is SQL of one database.
 */

/** Logical column types, named as in PostgreSQL. */
export type LogicalType =
  | 'uuid'
  | 'timestamptz'
  | 'double'
  | 'integer'
  | 'smallint'
  | 'boolean'
  | 'jsonb'
  | 'text'
  | { varchar: number }
  | { enum: string };

/** Column defaults: generated uuid, current time, or a literal. */
export type ColumnDefault = 'gen_random_uuid' | 'now' | { literal: string | number | boolean };

export interface ColumnDef {
  name: string;
  type: LogicalType;
  nullable: boolean;
  default?: ColumnDefault;
}

export interface ForeignKeyDef {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete?: 'CASCADE' | 'SET NULL';
  onUpdate?: 'CASCADE';
}

export interface IndexDef {
  name: string;
  columns: string[];
}

export interface UniqueDef {
  /** Constraint name; PostgreSQL's default `<table>_<cols>_key` when the app did not name it. */
  name: string;
  columns: string[];
}

export interface CheckDef {
  name: string;
  /** Portable SQL boolean expression. */
  expression: string;
}

export interface TableDef {
  name: string;
  /** `app`: the exam app owns it, bkt creates it only on a fresh database. `bkt`: bkt's own. */
  owner: 'app' | 'bkt';
  columns: ColumnDef[];
  primaryKey: { name: string; columns: string[] };
  uniques: UniqueDef[];
  foreignKeys: ForeignKeyDef[];
  indexes: IndexDef[];
  checks: CheckDef[];
}

export interface EnumDef {
  name: string;
  values: string[];
}

const uuidPk = (): ColumnDef => ({ name: 'id', type: 'uuid', nullable: false });
const uuidPkDefault = (): ColumnDef => ({ name: 'id', type: 'uuid', nullable: false, default: 'gen_random_uuid' });
const stamp = (name: string): ColumnDef => ({ name, type: 'timestamptz', nullable: false, default: 'now' });
const varchar = (n: number): LogicalType => ({ varchar: n });

export const SESSION_STATUS: EnumDef = { name: 'session_status', values: ['ACTIVE', 'SUBMITTED', 'EXPIRED'] };
export const ENUMS: EnumDef[] = [SESSION_STATUS];

/** Tables in creation order (every foreign key points to an earlier table). */
export const TABLES: TableDef[] = [
  {
    name: 'users',
    owner: 'app',
    columns: [uuidPk(), { name: 'role', type: varchar(50), nullable: false, default: { literal: 'student' } }],
    primaryKey: { name: 'users_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [],
    indexes: [],
    checks: [],
  },
  {
    name: 'algo_versions',
    owner: 'bkt',
    columns: [
      uuidPk(),
      { name: 'algo_key', type: varchar(50), nullable: false },
      { name: 'version', type: varchar(50), nullable: false },
      { name: 'status', type: varchar(20), nullable: false },
      { name: 'description', type: 'text', nullable: true },
      stamp('created_at'),
      stamp('updated_at'),
    ],
    primaryKey: { name: 'algo_versions_pkey', columns: ['id'] },
    uniques: [{ name: 'uq_algo_key_version', columns: ['algo_key', 'version'] }],
    foreignKeys: [],
    indexes: [{ name: 'ix_algo_versions_algo_key_status', columns: ['algo_key', 'status'] }],
    checks: [],
  },
  {
    name: 'algo_params',
    owner: 'bkt',
    columns: [
      uuidPk(),
      { name: 'algo_version_id', type: 'uuid', nullable: false },
      { name: 'params_json', type: 'jsonb', nullable: false, default: { literal: '{}' } },
      { name: 'checksum', type: varchar(64), nullable: true },
      { name: 'is_active', type: 'boolean', nullable: false },
      stamp('created_at'),
      stamp('updated_at'),
      { name: 'created_by_user_id', type: 'uuid', nullable: true },
    ],
    primaryKey: { name: 'algo_params_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [
      { columns: ['algo_version_id'], refTable: 'algo_versions', refColumns: ['id'], onDelete: 'CASCADE', onUpdate: 'CASCADE' },
      { columns: ['created_by_user_id'], refTable: 'users', refColumns: ['id'] },
    ],
    indexes: [{ name: 'ix_algo_params_algo_version_id_is_active', columns: ['algo_version_id', 'is_active'] }],
    checks: [],
  },
  {
    name: 'test_sessions',
    owner: 'app',
    columns: [
      uuidPk(),
      { name: 'user_id', type: 'uuid', nullable: false },
      { name: 'status', type: { enum: 'session_status' }, nullable: false },
      { name: 'submitted_at', type: 'timestamptz', nullable: true },
      stamp('started_at'),
      stamp('created_at'),
    ],
    primaryKey: { name: 'test_sessions_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [{ columns: ['user_id'], refTable: 'users', refColumns: ['id'] }],
    indexes: [],
    checks: [
      {
        name: 'ck_test_sessions_submitted_at',
        expression: "status <> 'SUBMITTED' OR submitted_at IS NOT NULL",
      },
    ],
  },
  {
    name: 'session_questions',
    owner: 'app',
    columns: [
      uuidPk(),
      { name: 'session_id', type: 'uuid', nullable: false },
      { name: 'position', type: 'integer', nullable: false },
      { name: 'question_id', type: 'uuid', nullable: false },
      { name: 'question_version_id', type: 'uuid', nullable: true },
      { name: 'snapshot_json', type: 'jsonb', nullable: true },
      stamp('created_at'),
    ],
    primaryKey: { name: 'session_questions_pkey', columns: ['id'] },
    uniques: [
      { name: 'session_questions_session_id_position_key', columns: ['session_id', 'position'] },
      { name: 'session_questions_session_id_question_id_key', columns: ['session_id', 'question_id'] },
    ],
    foreignKeys: [{ columns: ['session_id'], refTable: 'test_sessions', refColumns: ['id'], onDelete: 'CASCADE' }],
    indexes: [],
    checks: [],
  },
  {
    name: 'session_answers',
    owner: 'app',
    columns: [
      uuidPk(),
      { name: 'session_id', type: 'uuid', nullable: false },
      { name: 'question_id', type: 'uuid', nullable: false },
      { name: 'selected_index', type: 'smallint', nullable: true },
      { name: 'is_correct', type: 'boolean', nullable: true },
      { name: 'answered_at', type: 'timestamptz', nullable: true },
      { name: 'changed_count', type: 'integer', nullable: false, default: { literal: 0 } },
      { name: 'marked_for_review', type: 'boolean', nullable: false, default: { literal: false } },
      stamp('created_at'),
      { name: 'updated_at', type: 'timestamptz', nullable: true },
    ],
    primaryKey: { name: 'session_answers_pkey', columns: ['id'] },
    uniques: [{ name: 'uq_session_answer', columns: ['session_id', 'question_id'] }],
    foreignKeys: [{ columns: ['session_id'], refTable: 'test_sessions', refColumns: ['id'], onDelete: 'CASCADE' }],
    indexes: [],
    checks: [],
  },
  {
    name: 'questions',
    owner: 'app',
    columns: [uuidPk(), { name: 'concept_id', type: 'integer', nullable: true }],
    primaryKey: { name: 'questions_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [],
    indexes: [],
    checks: [],
  },
  {
    name: 'bkt_skill_params',
    owner: 'bkt',
    columns: [
      uuidPkDefault(),
      { name: 'concept_id', type: 'uuid', nullable: false },
      { name: 'algo_version_id', type: 'uuid', nullable: false },
      { name: 'p_L0', type: 'double', nullable: false },
      { name: 'p_T', type: 'double', nullable: false },
      { name: 'p_S', type: 'double', nullable: false },
      { name: 'p_G', type: 'double', nullable: false },
      { name: 'constraints_applied', type: 'jsonb', nullable: false, default: { literal: '{}' } },
      stamp('fitted_at'),
      { name: 'fitted_on_data_from', type: 'timestamptz', nullable: true },
      { name: 'fitted_on_data_to', type: 'timestamptz', nullable: true },
      { name: 'metrics', type: 'jsonb', nullable: false, default: { literal: '{}' } },
      { name: 'is_active', type: 'boolean', nullable: false, default: { literal: false } },
      stamp('created_at'),
      stamp('updated_at'),
    ],
    primaryKey: { name: 'bkt_skill_params_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [{ columns: ['algo_version_id'], refTable: 'algo_versions', refColumns: ['id'], onDelete: 'CASCADE' }],
    indexes: [
      { name: 'idx_bkt_skill_params_concept_active', columns: ['concept_id', 'is_active'] },
      { name: 'idx_bkt_skill_params_algo_version', columns: ['algo_version_id'] },
      { name: 'idx_bkt_skill_params_fitted_at', columns: ['fitted_at'] },
    ],
    checks: [],
  },
  {
    name: 'bkt_user_skill_state',
    owner: 'bkt',
    columns: [
      { name: 'user_id', type: 'uuid', nullable: false },
      { name: 'concept_id', type: 'uuid', nullable: false },
      { name: 'p_mastery', type: 'double', nullable: false, default: { literal: 0 } },
      { name: 'n_attempts', type: 'integer', nullable: false, default: { literal: 0 } },
      { name: 'last_attempt_at', type: 'timestamptz', nullable: true },
      { name: 'last_seen_question_id', type: 'uuid', nullable: true },
      { name: 'algo_version_id', type: 'uuid', nullable: true },
      stamp('created_at'),
      stamp('updated_at'),
    ],
    primaryKey: { name: 'pk_bkt_user_skill_state', columns: ['user_id', 'concept_id'] },
    uniques: [],
    foreignKeys: [
      { columns: ['user_id'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE' },
      { columns: ['algo_version_id'], refTable: 'algo_versions', refColumns: ['id'], onDelete: 'SET NULL' },
    ],
    indexes: [
      { name: 'idx_bkt_user_skill_state_user', columns: ['user_id'] },
      { name: 'idx_bkt_user_skill_state_concept', columns: ['concept_id'] },
      { name: 'idx_bkt_user_skill_state_mastery', columns: ['p_mastery'] },
      { name: 'idx_bkt_user_skill_state_last_attempt', columns: ['last_attempt_at'] },
    ],
    checks: [],
  },
  {
    name: 'mastery_snapshot',
    owner: 'bkt',
    columns: [
      uuidPkDefault(),
      { name: 'user_id', type: 'uuid', nullable: false },
      { name: 'concept_id', type: 'uuid', nullable: false },
      { name: 'p_mastery', type: 'double', nullable: false },
      { name: 'n_attempts', type: 'integer', nullable: false },
      { name: 'algo_version_id', type: 'uuid', nullable: true },
      stamp('created_at'),
    ],
    primaryKey: { name: 'mastery_snapshot_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [
      { columns: ['user_id'], refTable: 'users', refColumns: ['id'], onDelete: 'CASCADE' },
      { columns: ['algo_version_id'], refTable: 'algo_versions', refColumns: ['id'], onDelete: 'SET NULL' },
    ],
    indexes: [
      { name: 'idx_mastery_snapshot_user_concept', columns: ['user_id', 'concept_id'] },
      { name: 'idx_mastery_snapshot_created_at', columns: ['created_at'] },
      { name: 'idx_mastery_snapshot_concept', columns: ['concept_id'] },
    ],
    checks: [],
  },
  {
    name: 'algo_runs',
    owner: 'bkt',
    columns: [
      uuidPk(),
      { name: 'algo_version_id', type: 'uuid', nullable: false },
      { name: 'params_id', type: 'uuid', nullable: false },
      { name: 'user_id', type: 'uuid', nullable: true },
      { name: 'session_id', type: 'uuid', nullable: true },
      { name: 'trigger', type: varchar(20), nullable: false },
      { name: 'status', type: varchar(20), nullable: false },
      { name: 'started_at', type: 'timestamptz', nullable: false },
      { name: 'completed_at', type: 'timestamptz', nullable: true },
      { name: 'input_summary_json', type: 'jsonb', nullable: false, default: { literal: '{}' } },
      { name: 'output_summary_json', type: 'jsonb', nullable: false, default: { literal: '{}' } },
      { name: 'error_message', type: 'text', nullable: true },
    ],
    primaryKey: { name: 'algo_runs_pkey', columns: ['id'] },
    uniques: [],
    foreignKeys: [
      { columns: ['algo_version_id'], refTable: 'algo_versions', refColumns: ['id'] },
      { columns: ['params_id'], refTable: 'algo_params', refColumns: ['id'] },
      { columns: ['user_id'], refTable: 'users', refColumns: ['id'] },
      { columns: ['session_id'], refTable: 'test_sessions', refColumns: ['id'] },
    ],
    indexes: [
      { name: 'ix_algo_runs_user_id_started_at', columns: ['user_id', 'started_at'] },
      { name: 'ix_algo_runs_algo_version_id_started_at', columns: ['algo_version_id', 'started_at'] },
      { name: 'ix_algo_runs_session_id', columns: ['session_id'] },
    ],
    checks: [],
  },
  {
    // bkt's own table (not in the app): one row per attempt applied to a state (or reported
    // stale), so a retried batch or session never counts an attempt twice, with its outcome, so
    // `bkt update --rebuild` can replay it (docs/store.md "bkt's own table"). `correct` and
    // `question_id` came later: `bkt db migrate` adds them to an older ledger (NULL in old rows).
    name: 'bkt_attempt_ledger',
    owner: 'bkt',
    columns: [
      { name: 'user_id', type: 'uuid', nullable: false },
      { name: 'concept_id', type: 'uuid', nullable: false },
      { name: 'attempt_key', type: 'text', nullable: false },
      { name: 'answered_at', type: 'timestamptz', nullable: true },
      stamp('applied_at'),
      { name: 'correct', type: 'boolean', nullable: true },
      { name: 'question_id', type: 'uuid', nullable: true },
    ],
    primaryKey: { name: 'pk_bkt_attempt_ledger', columns: ['user_id', 'concept_id', 'attempt_key'] },
    uniques: [],
    foreignKeys: [],
    indexes: [],
    checks: [],
  },
  {
    // bkt's own table (not in the app): the id a file gave a concept or learner ("Long division",
    // "student-17"), kept by `bkt import` beside the UUID it became, so tables, JSON and the
    // report can name things as the user knows them (docs/store.md "Labels"). No foreign key:
    // a label may outlive what it names, and concepts have no table of their own.
    name: 'bkt_labels',
    owner: 'bkt',
    columns: [
      { name: 'kind', type: varchar(20), nullable: false },
      { name: 'id', type: 'uuid', nullable: false },
      { name: 'label', type: 'text', nullable: false },
      stamp('created_at'),
      stamp('updated_at'),
    ],
    primaryKey: { name: 'pk_bkt_labels', columns: ['kind', 'id'] },
    uniques: [],
    foreignKeys: [],
    indexes: [],
    checks: [{ name: 'ck_bkt_labels_kind', expression: "kind IN ('concept', 'user')" }],
  },
];

/** The definition of one of bkt's tables by name (the row codecs are built from it). */
export function tableDef(name: string): TableDef {
  const def = TABLES.find((t) => t.name === name);
  if (!def) throw new Error(`no table ${name} in the schema`);
  return def;
}

/** Quote an identifier when it is mixed-case or a keyword ("p_L0", "trigger"). */
export function quoteIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}
const RESERVED = new Set(['trigger', 'position', 'version', 'status', 'role']);

/** One difference between the live database and the schema, as `bkt db check` lists it. */
export interface SchemaDifference {
  table: string;
  /** Column, index or constraint name; null for the table itself. */
  object: string | null;
  kind:
    | 'missing_table'
    | 'missing_column'
    | 'type'
    | 'nullability'
    | 'primary_key'
    | 'missing_index'
    | 'missing_unique'
    | 'missing_foreign_key'
    | 'missing_enum';
  expected: string;
  actual: string;
}

/** What a backend reads off the live database for one table. */
export interface LiveTable {
  columns: Map<string, { type: string; nullable: boolean }>;
  primaryKey: string[];
  /** Index names (any kind). */
  indexNames: Set<string>;
  /** Column lists (joined by ',') of unique constraints and unique indexes, including the PK. */
  uniqueColumnSets: Set<string>;
  /** `col,col->table(col,col)` of each foreign key. */
  foreignKeys: Set<string>;
}

export const foreignKeySignature = (fk: { columns: string[]; refTable: string; refColumns: string[] }) =>
  `${fk.columns.join(',')}->${fk.refTable}(${fk.refColumns.join(',')})`;

/**
 * Compare live tables with the schema. `renderType` gives the live type string the backend
 * expects for a logical type. Extra columns, tables and indexes are fine (the app has more).
 */
export function compareSchema(
  live: Map<string, LiveTable>,
  renderType: (type: LogicalType) => string,
): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  for (const def of TABLES) {
    const table = live.get(def.name);
    if (!table) {
      out.push({ table: def.name, object: null, kind: 'missing_table', expected: 'table', actual: 'absent' });
      continue;
    }
    for (const column of def.columns) {
      const got = table.columns.get(column.name);
      if (!got) {
        out.push({ table: def.name, object: column.name, kind: 'missing_column', expected: renderType(column.type), actual: 'absent' });
        continue;
      }
      const expectedType = renderType(column.type);
      if (got.type.toLowerCase() !== expectedType.toLowerCase()) {
        out.push({ table: def.name, object: column.name, kind: 'type', expected: expectedType, actual: got.type });
      }
      if (got.nullable !== column.nullable) {
        out.push({
          table: def.name,
          object: column.name,
          kind: 'nullability',
          expected: column.nullable ? 'NULL' : 'NOT NULL',
          actual: got.nullable ? 'NULL' : 'NOT NULL',
        });
      }
    }
    if (table.primaryKey.join(',') !== def.primaryKey.columns.join(',')) {
      out.push({
        table: def.name,
        object: def.primaryKey.name,
        kind: 'primary_key',
        expected: `(${def.primaryKey.columns.join(', ')})`,
        actual: table.primaryKey.length ? `(${table.primaryKey.join(', ')})` : 'none',
      });
    }
    for (const unique of def.uniques) {
      if (!table.uniqueColumnSets.has(unique.columns.join(','))) {
        out.push({ table: def.name, object: unique.name, kind: 'missing_unique', expected: `UNIQUE (${unique.columns.join(', ')})`, actual: 'absent' });
      }
    }
    for (const fk of def.foreignKeys) {
      if (!table.foreignKeys.has(foreignKeySignature(fk))) {
        out.push({
          table: def.name,
          object: fk.columns.join(','),
          kind: 'missing_foreign_key',
          expected: `FOREIGN KEY (${fk.columns.join(', ')}) REFERENCES ${fk.refTable}(${fk.refColumns.join(', ')})`,
          actual: 'absent',
        });
      }
    }
    for (const index of def.indexes) {
      if (!table.indexNames.has(index.name)) {
        out.push({ table: def.name, object: index.name, kind: 'missing_index', expected: `INDEX (${index.columns.join(', ')})`, actual: 'absent' });
      }
    }
  }
  return out;
}

/** One line per difference, as `bkt db check` prints it. */
export function describeDifference(d: SchemaDifference): string {
  const where = d.object ? `${d.table}.${d.object}` : d.table;
  switch (d.kind) {
    case 'missing_table':
      return `${where}: table is missing`;
    case 'missing_enum':
      return `${where}: enum type is missing`;
    case 'missing_column':
      return `${where}: column is missing (expected ${d.expected})`;
    case 'missing_index':
    case 'missing_unique':
    case 'missing_foreign_key':
      return `${where}: ${d.kind.slice('missing_'.length).replace(/_/g, ' ')} is missing (expected ${d.expected})`;
    default:
      return `${where}: ${d.kind.replace(/_/g, ' ')} is ${d.actual}, expected ${d.expected}`;
  }
}
