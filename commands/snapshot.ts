import { BktCommand } from '../src/cli/base-command.js';
import { asUserFlag, conceptIdFlag, dbFlag, userFlag } from '../src/cli/flags.js';

export default class Snapshot extends BktCommand {
  static override summary = 'Write a mastery_snapshot row for each selected current state, in one transaction.';

  static override description = `Copies each current mastery state (bkt_user_skill_state) that matches the filters into mastery_snapshot with the time of the snapshot, all in one transaction, for progress over time.`;

  static override usage = ['snapshot [--user ID] [--concept-id ID...] [FLAGS]'];

  static override examples = ['<%= config.bin %> snapshot', '<%= config.bin %> snapshot --user 3f2c... --concept-id 9a1b...'];

  static override flags = {
    db: dbFlag,
    user: userFlag(),
    'concept-id': conceptIdFlag(),
    'as-user': asUserFlag(),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Snapshot);
    const { runSnapshot } = await import('../src/mastery/run-update.js');
    const result = await runSnapshot({ db: flags.db, asUser: flags['as-user'], userId: flags.user, conceptIds: flags['concept-id'] });
    if (!this.jsonEnabled()) {
      const filtered = flags.user !== undefined || Boolean(flags['concept-id']?.length);
      const why = result.snapshots > 0 ? '' : filtered ? ': no mastery state matches --user/--concept-id' : ': there are no mastery states yet ("bkt update" writes them)';
      this.log(`wrote ${result.snapshots} snapshot row${result.snapshots === 1 ? '' : 's'}${why}`);
    }
    return result;
  }
}
