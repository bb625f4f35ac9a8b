/**
 * Column lists of every export, one typed list per kind. The type drives each format:
 * CSV text, JSON value and the Arrow type (chosen so pyarrow reads them natively).
 *
 * | type      | CSV / NDJSON                  | Arrow                      | Parquet                   |
 * |-----------|-------------------------------|----------------------------|---------------------------|
 * | uuid      | canonical lower-case text     | Utf8                       | STRING                    |
 * | text      | text                          | Utf8                       | STRING                    |
 * | float     | shortest round-trip decimal   | Float64                    | DOUBLE                    |
 * | int       | integer                       | Int32                      | INT32                     |
 * | bool      | true / false                  | Bool                       | BOOLEAN                   |
 * | timestamp | ISO-8601 UTC (…Z)             | Timestamp(ms, "UTC")       | INT64 TIMESTAMP_MILLIS    |
 * | json      | JSON text (CSV) / value (JSON)| Utf8 holding JSON text     | STRING holding JSON text  |
 */
export const COLUMN_TYPES = ['uuid', 'text', 'float', 'int', 'bool', 'timestamp', 'json'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export interface ColumnSpec {
  /** Output name (snake_case, as the schema column; parameters keep their mixed case: p_L0). */
  name: string;
  type: ColumnType;
  /** False when the column is NOT NULL in the schema. */
  nullable: boolean;
}

const col = (name: string, type: ColumnType, nullable = false): ColumnSpec => ({ name, type, nullable });

/** What `bkt export` / `exportRows` can write: params, mastery, snapshots or runs. */
export const EXPORT_KINDS = ['params', 'mastery', 'snapshots', 'runs'] as const;
/** A value of EXPORT_KINDS. */
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** Output formats of `exportRows`: csv, json (one array), ndjson, arrow (IPC stream), parquet. */
export const EXPORT_FORMATS = ['csv', 'json', 'ndjson', 'arrow', 'parquet'] as const;
/** A value of EXPORT_FORMATS. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Parameters: concept_id, its label and the five parameters come first, so the file is also a
 * params file the `fit --out` reader takes back (columns concept_id, concept_label, p_L0, p_T,
 * p_S, p_G, p_F, ...). p_F comes from metrics.model.p_F (0 for the standard model).
 *
 * Every kind with ids of concepts or learners carries their labels (`concept_label` right after
 * `concept_id`, `user_label` right after `user_id`): the names `bkt import` kept in bkt_labels,
 * null for ids that have none.
 */
export const PARAMS_COLUMNS: readonly ColumnSpec[] = [
  col('concept_id', 'uuid'),
  col('concept_label', 'text', true),
  col('p_L0', 'float'),
  col('p_T', 'float'),
  col('p_S', 'float'),
  col('p_G', 'float'),
  col('p_F', 'float'),
  col('params_id', 'uuid'),
  col('algo_version_id', 'uuid'),
  col('is_active', 'bool'),
  col('fitted_at', 'timestamp'),
  col('fitted_on_data_from', 'timestamp', true),
  col('fitted_on_data_to', 'timestamp', true),
  col('constraints_applied', 'json'),
  col('metrics', 'json'),
  col('created_at', 'timestamp'),
  col('updated_at', 'timestamp'),
];

/** Current mastery: the app's mastery response fields plus the labels, algo_version_id and created_at. */
export const MASTERY_COLUMNS: readonly ColumnSpec[] = [
  col('user_id', 'uuid'),
  col('user_label', 'text', true),
  col('concept_id', 'uuid'),
  col('concept_label', 'text', true),
  col('p_mastery', 'float'),
  col('n_attempts', 'int'),
  col('last_attempt_at', 'timestamp', true),
  col('last_seen_question_id', 'uuid', true),
  col('is_mastered', 'bool'),
  col('algo_version_id', 'uuid', true),
  col('created_at', 'timestamp'),
  col('updated_at', 'timestamp'),
];

/** Snapshots: the mastery_snapshot row with the learner's and the concept's labels. */
export const SNAPSHOT_COLUMNS: readonly ColumnSpec[] = [
  col('id', 'uuid'),
  col('user_id', 'uuid'),
  col('user_label', 'text', true),
  col('concept_id', 'uuid'),
  col('concept_label', 'text', true),
  col('p_mastery', 'float'),
  col('n_attempts', 'int'),
  col('algo_version_id', 'uuid', true),
  col('created_at', 'timestamp'),
];

/**
 * Runs: the algo_runs row with its learner's label, and `concept_labels`, a JSON object from each
 * concept the run's summaries name (as a key, e.g. of `refused`, or a value, e.g. in
 * `concept_ids`) that has a label to that label: a run names its concepts only inside them.
 */
export const RUN_COLUMNS: readonly ColumnSpec[] = [
  col('id', 'uuid'),
  col('algo_version_id', 'uuid'),
  col('params_id', 'uuid'),
  col('user_id', 'uuid', true),
  col('user_label', 'text', true),
  col('session_id', 'uuid', true),
  col('trigger', 'text'),
  col('status', 'text'),
  col('started_at', 'timestamp'),
  col('completed_at', 'timestamp', true),
  col('input_summary_json', 'json'),
  col('output_summary_json', 'json'),
  col('concept_labels', 'json'),
  col('error_message', 'text', true),
];

export const EXPORT_COLUMNS: Record<ExportKind, readonly ColumnSpec[]> = {
  params: PARAMS_COLUMNS,
  mastery: MASTERY_COLUMNS,
  snapshots: SNAPSHOT_COLUMNS,
  runs: RUN_COLUMNS,
};
