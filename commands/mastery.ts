import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';

export default class Mastery extends BktCommand {
  static override summary = 'List mastery states (one user), or a per-concept summary (no user)';

  static override description = `With --user (or --as-user), that user's states ordered by p_mastery descending: user_id, concept_id,
p_mastery, n_attempts, last_attempt_at, last_seen_question_id, is_mastered, updated_at. Without a user,
one row per concept: learners, mean mastery, share mastered.`;

  static override examples = [
    '<%= config.bin %> mastery --user 3f2c...',
    '<%= config.bin %> mastery --user 3f2c... --below 0.5 --csv',
    '<%= config.bin %> mastery --mastered --json',
  ];

  static override flags = {
    db: Flags.string({ description: 'SQLite file or postgres:// URL (default: $DATABASE_URL, else ./bkt.sqlite)' }),
    user: Flags.string({ description: 'user id (UUID)' }),
    concept: Flags.string({ description: 'concept id (UUID), repeatable', multiple: true }),
    mastered: Flags.boolean({ description: 'only mastered states (p_mastery >= threshold)', exclusive: ['below'] }),
    below: Flags.string({ description: 'only states with p_mastery below this', exclusive: ['mastered'] }),
    threshold: Flags.string({ description: 'mastery threshold', default: '0.95' }),
    csv: Flags.boolean({ description: 'print CSV instead of a table', exclusive: ['json'] }),
    'as-user': Flags.string({ description: 'run in this learner\u2019s scope: only its own states are visible' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Mastery);
    const { runMastery } = await import('../src/mastery/run-update.js');
    const result = await runMastery({
      db: flags.db,
      asUser: flags['as-user'],
      userId: flags.user,
      conceptIds: flags.concept,
      mastered: flags.mastered || undefined,
      below: flags.below,
      threshold: flags.threshold,
    });
    if (!this.jsonEnabled()) {
      const { renderMastery } = await import('../src/mastery/render.js');
      process.stdout.write(renderMastery(result, flags.csv ? 'csv' : 'table'));
    }
    return result.kind === 'states' ? { user_id: result.user_id, states: result.states, total: result.total } : { concepts: result.concepts, total: result.total };
  }
}
