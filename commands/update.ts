import { Flags } from '@oclif/core';
import { BktCommand, progressAllowed } from '../src/cli/base-command.js';

export default class Update extends BktCommand {
  static override summary = 'Update mastery from one attempt, a file of attempts, a submitted session, or rebuild from history';

  static override description = `Applies BKT's online step to each attempt's (user, concept) state, exactly once: an attempt whose key is
already in the ledger is a duplicate and changes nothing; one older than the state's last_attempt_at is
stale and reported, not applied (see docs/operations.md). Parameters: the concept's active fit, else the
algo_params defaults, else the built-in ones. Concurrent updates of one state from several processes are
serialised by a lock and lose nothing.`;

  static override examples = [
    '<%= config.bin %> update --user 3f2c... --concept 9a1b... --correct true --question 77aa... --snapshot',
    '<%= config.bin %> update --input attempts.csv --batch-size 1000',
    'cat attempts.ndjson | <%= config.bin %> update --input - --format ndjson --fail-fast',
    '<%= config.bin %> update --session 5e0d... --db postgres://postgres@127.0.0.1/app',
    '<%= config.bin %> update --rebuild --concept 9a1b...',
  ];

  static override flags = {
    db: Flags.string({ description: 'SQLite file or postgres:// URL (default: $DATABASE_URL, else ./bkt.sqlite)' }),
    user: Flags.string({ description: 'user id (UUID); with --rebuild, only this user' }),
    concept: Flags.string({ description: 'concept id (UUID); with --rebuild, repeatable', multiple: true }),
    correct: Flags.string({ description: 'whether the answer was correct', options: ['true', 'false'] }),
    question: Flags.string({ description: 'question id (UUID)' }),
    at: Flags.string({ description: 'when the answer was given (ISO-8601); default: now' }),
    'attempt-key': Flags.string({ description: 'exactly-once key of this attempt (default: a hash of the attempt when --at is given)' }),
    snapshot: Flags.boolean({ description: 'also write a mastery_snapshot row' }),
    input: Flags.string({ char: 'i', description: 'attempts file (CSV with header, NDJSON, Arrow IPC or SQLite); - for stdin', exclusive: ['session', 'rebuild', 'correct'] }),
    format: Flags.string({ description: 'input format (default: by extension, else csv); arrow, parquet and sqlite stop at the first bad value', options: ['csv', 'ndjson', 'arrow', 'parquet', 'sqlite'] }),
    'col-user': Flags.string({ description: 'user column (default user_id)' }),
    'col-concept': Flags.string({ description: 'concept column (default concept_id, skill_name)' }),
    'col-correct': Flags.string({ description: 'correct column (default correct)' }),
    'col-time': Flags.string({ description: 'time column (default answered_at, timestamp)' }),
    'col-question': Flags.string({ description: 'question column (default question_id, problem_id)' }),
    'col-key': Flags.string({ description: 'attempt key column (default attempt_key)' }),
    'batch-size': Flags.integer({ description: 'attempts per transaction', default: 1000, min: 1 }),
    'fail-fast': Flags.boolean({ description: 'stop at the first bad row (nothing is applied)' }),
    session: Flags.string({ description: 'apply a submitted session (test_sessions id)', exclusive: ['input', 'rebuild', 'correct'] }),
    rebuild: Flags.boolean({ description: 'recompute states by replaying their full attempt history (the ledger) with the current parameters', exclusive: ['input', 'session', 'correct'] }),
    'as-user': Flags.string({ description: 'run in this learner\u2019s scope: only its own states may change' }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Update);
    const { runUpdate } = await import('../src/mastery/run-update.js');
    const spinner = flags.input && progressAllowed() ? (await import('ora')).default({ text: 'applying attempts', stream: process.stderr }).start() : null;
    const concepts = flags.concept ?? [];
    try {
      const result = await runUpdate({
        db: flags.db,
        asUser: flags['as-user'],
        userId: flags.user,
        conceptIds: concepts.length ? concepts : undefined,
        correct: flags.correct === undefined ? undefined : flags.correct === 'true',
        questionId: flags.question,
        at: flags.at,
        attemptKey: flags['attempt-key'],
        snapshot: flags.snapshot,
        input: flags.input,
        format: flags.format as 'csv' | 'ndjson' | 'arrow' | 'parquet' | 'sqlite' | undefined,
        columns: {
          user: flags['col-user'],
          concept: flags['col-concept'],
          correct: flags['col-correct'],
          time: flags['col-time'],
          question: flags['col-question'],
          key: flags['col-key'],
        },
        batchSize: flags['batch-size'],
        failFast: flags['fail-fast'],
        sessionId: flags.session,
        rebuild: flags.rebuild,
        onProgress: spinner ? (done, total) => (spinner.text = `applied ${done.toLocaleString()} / ${total.toLocaleString()} attempts`) : undefined,
      });
      spinner?.stop();
      if (!this.jsonEnabled()) {
        const { renderUpdate } = await import('../src/mastery/render.js');
        this.log(renderUpdate(result));
      }
      return result;
    } catch (error) {
      spinner?.stop();
      throw error;
    }
  }
}
