import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { dbFlag, readerFlags, readerOptionsFromFlags } from '../src/cli/flags.js';

export default class Import extends BktCommand {
  static override summary = "Load an attempts file into the app's tables (users, sessions, questions, answers).";

  static override description = `Reads attempts with the same readers and column flags as "bkt fit", then writes them in one transaction as the exam app would have: users, SUBMITTED test_sessions, session_questions whose snapshot_json names the concept, and session_answers. Ids that are not UUIDs map deterministically: an integer n becomes the UUID whose value is n (10 -> 00000000-0000-0000-0000-00000000000a), any other string a version-5 UUID (docs/store.md). Importing the same content again writes nothing. Run "bkt db migrate" first.`;

  static override usage = ['import --input FILE [--db URL] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> import --input fixtures/sample.csv',
    '<%= config.bin %> import --input fixtures/builder/train.csv.gz --db postgres://postgres@127.0.0.1:5432/app',
    '<%= config.bin %> import --input log.csv --col-user student --col-concept kc --col-time ts',
  ];

  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Attempts file, or - for stdin.', required: true, helpGroup: 'INPUT' }),
    ...readerFlags,
    db: dbFlag,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Import);
    const { importAttemptsFile } = await import('../src/jobs/db-admin.js');
    const result = await importAttemptsFile({ db: flags.db, read: readerOptionsFromFlags(flags.input, flags) });
    if (!this.jsonEnabled()) {
      this.log(
        result.already_imported
          ? `${result.db}: ${result.source} was imported before (batch ${result.batch_id}); nothing written`
          : `${result.db}: imported ${result.answers} answers in ${result.sessions} sessions for ${result.users} new users from ${result.source}`,
      );
    }
    const { read, ...rest } = result;
    return { ...rest, read: { format: read.format, rows_read: read.rows_read, columns: read.columns, n_concepts: read.n_concepts, n_learners: read.n_learners } };
  }
}
