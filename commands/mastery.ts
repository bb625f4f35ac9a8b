import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { asUserFlag, conceptIdFlag, dbFlag, tableFlags, userFlag } from '../src/cli/flags.js';

export default class Mastery extends BktCommand {
  static override summary = 'List mastery states (one user), or a per-concept summary (no user).';

  static override description = `With --user (or --as-user), that user's states ordered by p_mastery descending: user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id, is_mastered, updated_at. Without a user, one row per concept: learners, mean mastery, share mastered.`;

  static override usage = ['mastery [--user ID] [--concept-id ID...] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> mastery --user 3f2c...',
    '<%= config.bin %> mastery --user 10 --concept-id "Long division"',
    '<%= config.bin %> mastery --user 3f2c... --below 0.5 --csv',
    '<%= config.bin %> mastery --mastered --json',
  ];

  static override flags = {
    db: dbFlag,
    user: userFlag(),
    'concept-id': conceptIdFlag(),
    mastered: Flags.boolean({ summary: 'Only mastered states (p_mastery >= --threshold).', exclusive: ['below'], helpGroup: 'FILTERS' }),
    below: Flags.string({ summary: 'Only states with p_mastery below this.', exclusive: ['mastered'], helpGroup: 'FILTERS' }),
    threshold: Flags.string({ summary: 'Mastery threshold.', default: '0.95', helpGroup: 'FILTERS' }),
    'as-user': asUserFlag(),
    ...tableFlags,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Mastery);
    const { runMastery } = await import('../src/mastery/run-update.js');
    const result = await runMastery({
      db: flags.db,
      asUser: flags['as-user'],
      userId: flags.user,
      conceptIds: flags['concept-id'],
      mastered: flags.mastered || undefined,
      below: flags.below,
      threshold: flags.threshold,
    });
    if (!this.jsonEnabled()) {
      const { renderMastery } = await import('../src/cli/render-mastery.js');
      this.log(await renderMastery(result, flags, Boolean(flags['concept-id']?.length || flags.mastered || flags.below !== undefined)));
    }
    return result.kind === 'states' ? { user_id: result.user_id, states: result.states, total: result.total } : { concepts: result.concepts, total: result.total };
  }
}
