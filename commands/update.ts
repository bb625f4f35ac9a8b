import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { asUserFlag, conceptIdFlag, dbFlag, userFlag } from '../src/cli/flags.js';

export default class Update extends BktCommand {
  static override summary = 'Update mastery from one attempt, a file of attempts, a submitted session, or rebuild from history.';

  static override description = `Applies BKT's online step to each attempt's (user, concept) state, exactly once: an attempt whose key is already in the ledger is a duplicate and changes nothing; one older than the state's last_attempt_at is stale and reported, not applied (see docs/operations.md). Parameters: the concept's active fit, else the algo_params defaults, else the built-in ones. Concurrent updates of one state from several processes are serialised by a lock and lose nothing.`;

  static override usage = ['update --user ID --concept-id ID --correct true|false [FLAGS]', 'update --input FILE [FLAGS]', 'update --session ID [FLAGS]', 'update --rebuild [FLAGS]'];

  static override examples = [
    '<%= config.bin %> update --user 3f2c... --concept-id 9a1b... --correct true --question 77aa... --snapshot',
    '<%= config.bin %> update --user 10 --concept-id "Long division" --correct false',
    '<%= config.bin %> update --input attempts.csv --batch-size 1000',
    'cat attempts.ndjson | <%= config.bin %> update --input - --format ndjson --fail-fast',
    '<%= config.bin %> update --session 5e0d... --db postgres://postgres@127.0.0.1/app',
    '<%= config.bin %> update --rebuild --concept-id 9a1b...',
  ];

  static override flags = {
    db: dbFlag,
    user: userFlag('The learner who answered; with --rebuild, only this learner.', 'ONE ATTEMPT'),
    'concept-id': conceptIdFlag('The concept of the answer; with --rebuild, only these concepts (repeatable).', 'ONE ATTEMPT'),
    correct: Flags.string({ summary: 'Whether the answer was correct.', options: ['true', 'false'], helpGroup: 'ONE ATTEMPT' }),
    question: Flags.string({ summary: 'The question answered: a UUID, or the id as in the imported file.', helpGroup: 'ONE ATTEMPT' }),
    at: Flags.string({ summary: 'When the answer was given (ISO-8601); default now.', helpGroup: 'ONE ATTEMPT' }),
    'attempt-key': Flags.string({ summary: 'Exactly-once key of this attempt (default: a hash of the attempt when --at is given).', helpGroup: 'ONE ATTEMPT' }),
    snapshot: Flags.boolean({ summary: 'Also write a mastery_snapshot row.', helpGroup: 'ONE ATTEMPT' }),
    input: Flags.string({ char: 'i', summary: 'Attempts file (CSV with header, NDJSON, Arrow IPC, Parquet or SQLite; .gz too), read as fit reads it; - for stdin.', exclusive: ['session', 'rebuild', 'correct'], helpGroup: 'INPUT' }),
    format: Flags.string({ summary: 'Input format (default: from the extension, a trailing .gz ignored; stdin: csv).', options: ['csv', 'ndjson', 'arrow', 'parquet', 'sqlite'], helpGroup: 'INPUT' }),
    'col-user': Flags.string({ summary: 'Learner column (default user_id).', helpGroup: 'INPUT' }),
    'col-concept': Flags.string({ summary: 'Concept column (default concept_id, else skill_name).', helpGroup: 'INPUT' }),
    'col-correct': Flags.string({ summary: 'Correctness column (default correct).', helpGroup: 'INPUT' }),
    'col-time': Flags.string({ summary: 'Answer time column (default answered_at, else timestamp).', helpGroup: 'INPUT' }),
    'col-question': Flags.string({ summary: 'Question column (default question_id, else problem_id).', helpGroup: 'INPUT' }),
    'col-key': Flags.string({ summary: 'Attempt key column (default attempt_key).', helpGroup: 'INPUT' }),
    'batch-size': Flags.integer({ summary: 'Attempts per transaction.', default: 1000, min: 1, helpGroup: 'INPUT' }),
    'fail-fast': Flags.boolean({ summary: 'Stop at the first bad row (nothing is applied).', helpGroup: 'INPUT' }),
    untimed: Flags.string({
      summary: 'How rows without a time and without an attempt key are told apart from ones applied before: growing-log (the file extends an earlier one) or new-batch (a file not applied before is new answers); required when there are such rows.',
      options: ['growing-log', 'new-batch'],
      dependsOn: ['input'],
      helpGroup: 'INPUT',
    }),
    session: Flags.string({ summary: 'Apply a submitted session (its test_sessions id).', exclusive: ['input', 'rebuild', 'correct'] }),
    rebuild: Flags.boolean({ summary: 'Recompute states by replaying their full attempt history (the ledger) with the current parameters.', exclusive: ['input', 'session', 'correct'] }),
    'as-user': asUserFlag(),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Update);
    const { runUpdate } = await import('../src/mastery/run-update.js');
    const { startProgress } = await import('../src/cli/progress.js');
    const progress = flags.input ? await startProgress('applying attempts') : null;
    const concepts = flags['concept-id'] ?? [];
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
        untimed: flags.untimed as 'growing-log' | 'new-batch' | undefined,
        sessionId: flags.session,
        rebuild: flags.rebuild,
        onProgress: progress ? (done, total) => progress.update(`applied ${done.toLocaleString()} / ${total.toLocaleString()} attempts`) : undefined,
      });
      progress?.stop();
      if (!this.jsonEnabled()) {
        const { renderUpdate } = await import('../src/cli/render-mastery.js');
        this.log(renderUpdate(result));
      }
      return result;
    } finally {
      progress?.stop();
    }
  }
}
