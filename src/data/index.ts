/** Public pieces of the data layer: the attempts table, its builder, and the readers. */
export type { AttemptsTable } from './attempts-table.js';
export { sequenceCount, conceptRowRange, conceptLearnerCount } from './attempts-table.js';
export {
  AttemptsTableBuilder,
  type AttemptRows,
  type BuildOptions,
  type BuildStats,
  type SequenceOrder,
} from './attempts-table-builder.js';
export {
  readAttempts,
  parseReadAttemptsOptions,
  formatFromPath,
  ReadAttemptsOptionsSchema,
  READ_FORMATS,
  type ReadAttemptsInput,
  type ReadAttemptsOptions,
  type ReadFormat,
  type ReadSummary,
} from './read-attempts.js';
export {
  COLUMN_ROLES,
  COLUMN_OPTIONS,
  COLUMN_PRESETS,
  COLUMN_PRESET_NAMES,
  DEFAULT_COLUMNS,
  PYBKT_COLUMN_ALIASES,
  resolveColumns,
  type ColumnRole,
  type ColumnMapping,
  type ColumnPreset,
  type ColumnsUsed,
  type ResolvedColumns,
} from './columns.js';
export { CSV_PARSERS, type CsvParserChoice, type CsvParserUsed } from './read-csv.js';
export { EPOCH_SECONDS_LIMIT, epochToMs, parseTimeString } from './parse-values.js';
