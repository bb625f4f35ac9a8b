/** Input formats `--format` takes (kept apart from the readers so flag definitions load nothing heavy). */
export const READ_FORMATS = ['csv', 'ndjson', 'arrow', 'parquet', 'sqlite'] as const;
/** An input format `readAttempts` knows: csv, ndjson, arrow, parquet or sqlite. */
export type ReadFormat = (typeof READ_FORMATS)[number];
