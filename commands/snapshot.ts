import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';

export default class Snapshot extends BktCommand {
  static override summary = 'Write a mastery_snapshot row for each selected current state, in one transaction';

  static override examples = ['<%= config.bin %> snapshot', '<%= config.bin %> snapshot --user 3f2c... --concept 9a1b...'];

  static override flags = {
    db: Flags.string({ description: 'SQLite file or postgres:// URL (default: $DATABASE_URL, else ./bkt.sqlite)' }),
    user: Flags.string({ description: 'only this user (UUID)' }),
    concept: Flags.string({ description: 'only this concept (UUID), repeatable', multiple: true }),
    'as-user': Flags.string({ description: 'run in this learner\u2019s scope' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Snapshot);
    const { runSnapshot } = await import('../src/mastery/run-update.js');
    const result = await runSnapshot({ db: flags.db, asUser: flags['as-user'], userId: flags.user, conceptIds: flags.concept });
    if (!this.jsonEnabled()) this.log(`wrote ${result.snapshots} snapshot row${result.snapshots === 1 ? '' : 's'}`);
    return result;
  }
}
