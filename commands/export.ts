import { Args, Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { conceptIdFlag, dbFlag, userFlag } from '../src/cli/flags.js';
import { UsageError } from '../src/errors.js';

const KINDS = ['params', 'mastery', 'snapshots', 'runs'] as const;
const FORMATS = ['csv', 'json', 'ndjson', 'arrow', 'parquet'] as const;

export default class Export extends BktCommand {
  static override summary = 'Stream parameters, mastery states, snapshots or runs to a file or stdout.';

  static override description = `Constant memory whatever the row count. Arrow is the IPC file format (pyarrow.ipc.open_file, pyarrow.feather.read_table): uuids as Utf8, floats Float64, counts Int32, flags Bool, times Timestamp(ms, UTC), JSON columns as Utf8 JSON text. Parquet has the same columns (STRING, DOUBLE, INT32, BOOLEAN, TIMESTAMP_MILLIS), one row group per 8192 rows. Exported params (csv or json) are a params file other commands read back. Params, mastery and snapshot rows carry concept_label after concept_id and user_label after user_id: the names bkt import kept for ids that were not UUIDs (empty otherwise); runs carry user_label, and concept_labels, the labelled concepts their summaries name (JSON, id to label).`;

  static override usage = ['export params|mastery|snapshots|runs --format csv|json|ndjson|arrow|parquet --out FILE [FLAGS]'];

  static override examples = [
    '<%= config.bin %> export params --format csv --out params.csv',
    '<%= config.bin %> export mastery --format arrow --out mastery.arrow --concept-id 9a1b...',
    '<%= config.bin %> export snapshots --format ndjson --out - | head',
    '<%= config.bin %> export mastery --format parquet --out mastery.parquet',
  ];

  static override args = {
    kind: Args.string({ description: 'what to export', options: [...KINDS], required: true }),
  };

  static override flags = {
    db: dbFlag,
    format: Flags.string({ char: 'f', summary: 'Output format.', options: [...FORMATS], required: true, helpGroup: 'OUTPUT' }),
    out: Flags.string({ char: 'o', summary: 'Output file, or - for stdout.', required: true, helpGroup: 'OUTPUT' }),
    user: userFlag('mastery, snapshots: only this learner (a UUID, or the id as in the imported file).'),
    'concept-id': conceptIdFlag('params, mastery, snapshots: only this concept (a UUID, or the id as in the imported file; repeatable).'),
    all: Flags.boolean({ summary: 'params: inactive (past) sets too.', helpGroup: 'FILTERS' }),
    status: Flags.string({ summary: 'runs: only this status.', options: ['RUNNING', 'SUCCESS', 'FAILED'], helpGroup: 'FILTERS' }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Export);
    if (flags.out === '-' && this.jsonEnabled()) throw new UsageError('--json with --out - would mix the summary into the exported rows', 'Write to a file with --out FILE, or drop --json');
    const { runExport } = await import('../src/export/export-rows.js');
    const result = await runExport({
      db: flags.db,
      kind: args.kind as (typeof KINDS)[number],
      format: flags.format as (typeof FORMATS)[number],
      out: flags.out,
      userId: flags.user,
      conceptIds: flags['concept-id'],
      all: flags.all,
      status: flags.status as 'RUNNING' | 'SUCCESS' | 'FAILED' | undefined,
    });
    // The count goes to stderr: stdout may be the exported rows themselves.
    if (!this.jsonEnabled() && flags.out !== '-') this.note(`exported ${result.rows} ${args.kind} rows to ${flags.out}${result.rows === 0 ? ' (nothing matched the filters, or the table is empty)' : ''}`);
    return result;
  }
}
