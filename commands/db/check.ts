import { BktCommand } from '../../src/cli/base-command.js';
import { dbFlag } from '../../src/cli/flags.js';

export default class DbCheck extends BktCommand {
  static override summary = 'Compare the live tables with the schema bkt expects; exit 5 on any difference.';

  static override description = `Reads the database catalogue (information_schema / pg_catalog on PostgreSQL, pragmas on SQLite) and compares every table bkt reads or writes with schema.md: columns, types, nullability, primary keys, unique constraints, foreign keys and indexes. Extra columns and tables are fine. Each difference is listed; the exit code is 5 when there is any. Runs left RUNNING by a process that died are closed as FAILED ("abandoned") and listed.`;

  static override usage = ['db check [--db URL]'];

  static override examples = ['<%= config.bin %> db check', '<%= config.bin %> db check --db "$DATABASE_URL" --json'];

  static override flags = { db: dbFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(DbCheck);
    const { checkDatabase } = await import('../../src/jobs/db-admin.js');
    const result = await checkDatabase({ db: flags.db });
    if (!this.jsonEnabled()) {
      const { renderCheck } = await import('../../src/cli/render-store.js');
      this.log(renderCheck(result));
    }
    return result;
  }
}
