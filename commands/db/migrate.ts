import { BktCommand } from '../../src/cli/base-command.js';
import { dbFlag } from '../../src/cli/flags.js';

export default class DbMigrate extends BktCommand {
  static override summary = "Create every missing table, index and seed row of the app's schema (idempotent).";

  static override description = `Creates, in one transaction, whatever schema.md lists and the database lacks: the enum session_status, the app's tables (users, test_sessions, session_questions, session_answers, questions) when absent, bkt's tables (bkt_skill_params, bkt_user_skill_state, mastery_snapshot, algo_versions, algo_params, algo_runs, bkt_attempt_ledger) and their indexes, and seeds bkt v1 ACTIVE with its default algo_params row. Never drops a table or alters the app's; adds a missing nullable column to bkt's own tables (bkt_attempt_ledger.correct and .question_id of an older ledger). Running it again changes nothing.`;

  static override usage = ['db migrate [--db URL]'];

  static override examples = [
    '<%= config.bin %> db migrate',
    '<%= config.bin %> db migrate --db postgres://postgres@127.0.0.1:5432/app',
  ];

  static override flags = { db: dbFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(DbMigrate);
    const { migrateDatabase } = await import('../../src/jobs/db-admin.js');
    const result = await migrateDatabase({ db: flags.db });
    if (!this.jsonEnabled()) {
      this.log(result.created.length ? `${result.db}: created ${result.created.join(', ')}` : `${result.db}: up to date, nothing to create`);
    }
    return result;
  }
}
