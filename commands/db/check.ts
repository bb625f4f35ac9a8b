import { BktCommand } from '../../src/cli/base-command.js';
import { dbFlag } from '../../src/cli/flags.js';

export default class DbCheck extends BktCommand {
  static override summary = 'Compare the live tables with the schema bkt expects; exit 5 on any difference.';

  static override description = `Reads the database catalogue (information_schema / pg_catalog on PostgreSQL, pragmas on
SQLite) and compares every table bkt reads or writes with schema.md: columns, types, nullability,
primary keys, unique constraints, foreign keys and indexes. Extra columns and tables are fine.
Each difference is listed; the exit code is 5 when there is any.`;

  static override examples = ['<%= config.bin %> db check', '<%= config.bin %> db check --db "$DATABASE_URL" --json'];

  static override flags = { db: dbFlag };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(DbCheck);
    const { checkDatabase } = await import('../../src/jobs/db-admin.js');
    const result = await checkDatabase({ db: flags.db });
    if (!this.jsonEnabled()) {
      if (result.ok) this.log(`${result.db}: matches the schema`);
      else for (const d of result.differences) this.log(d.message);
    }
    if (!result.ok) {
      process.exitCode = 5;
      process.stderr.write(
        `Error: ${result.db}: ${result.differences.length} difference(s) from the schema. Run "bkt db migrate" for missing objects; fix changed columns by hand\n`,
      );
    }
    return result;
  }
}
