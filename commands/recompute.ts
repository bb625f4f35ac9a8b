import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { conceptIdFlag, dbFlag, probabilityFlag, readFixFrom, tableFlags, trainerFlags, trainerOptionsFromFlags } from '../src/cli/flags.js';

export default class Recompute extends BktCommand {
  static override summary = "Refit concepts from the app's tables and log the run (the app's admin recompute).";

  static override description = `Reads attempts from the database (SUBMITTED and EXPIRED sessions, concept from each question's snapshot), fits every concept that has data or the named ones, and writes one bkt_skill_params row per fitted concept, each in its own transaction. One algo_runs row records the run: RUNNING at the start, then SUCCESS or FAILED with a summary. A failing concept does not stop the others. Ctrl-C stops after the concept being written and marks the run FAILED with how far it got (exit 130). --dry-run fits and reports without writing parameters. The table lists each concept that got no new parameters and why.`;

  static override usage = ['recompute [--db URL] [--activate] [--dry-run] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> recompute --activate',
    '<%= config.bin %> recompute --concept-id 00000000-0000-0000-0000-000000000007 --dry-run --json',
    '<%= config.bin %> recompute --db "$DATABASE_URL" --from-date 2026-01-01 --trigger nightly --activate',
  ];

  static override flags = {
    db: dbFlag,
    'concept-id': conceptIdFlag(),
    'from-date': Flags.string({ summary: 'Only answers answered at or after this ISO date.', helpGroup: 'FILTERS' }),
    'to-date': Flags.string({ summary: 'Only answers answered at or before this ISO date (a date includes the whole day).', helpGroup: 'FILTERS' }),
    'questions-fallback': Flags.boolean({ summary: "Use questions.concept_id when a snapshot names no concept (the app's fallback).", default: false, helpGroup: 'FILTERS' }),
    activate: Flags.boolean({ summary: "Make each new parameter set its concept's active one, unless worse than the active set on held-out attempts.", default: false }),
    force: Flags.boolean({ summary: 'Activate invalid, degenerate or worse fits too.', default: false, dependsOn: ['activate'] }),
    'holdout-from': Flags.string({ summary: 'With --activate: compare new and active parameters on attempts from this ISO date on (default: 1 in 5 learners held out).', dependsOn: ['activate'] }),
    'activation-margin': probabilityFlag({ summary: "With --activate: keep the active set when the new fit's held-out RMSE is worse by more than this (default 0.005).", dependsOn: ['activate'] }),
    'warm-start': Flags.string({ summary: 'Also start one restart per concept from the active parameters ("active") or from a params FILE.' }),
    'dry-run': Flags.boolean({ summary: 'Fit and report; write no parameter rows.', default: false }),
    trigger: Flags.string({ summary: 'Recorded in algo_runs.trigger.', options: ['manual', 'nightly', 'cron', 'api'], default: 'manual' }),
    ...trainerFlags,
    ...tableFlags,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Recompute);
    const fixFrom = await readFixFrom(flags);
    const { recompute } = await import('../src/jobs/recompute.js');
    const { withStore } = await import('../src/jobs/db-admin.js');
    const { withProgress } = await import('../src/cli/progress.js');
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
      this.note('Interrupted: finishing the concept being written, then marking the run FAILED (Ctrl-C again to quit now)');
    };
    process.on('SIGINT', onSigint);
    try {
      const warmStart = flags['warm-start'];
      const { warmStartsFromFile } = await import('../src/jobs/warm-start.js');
      const warmStarts = warmStart && warmStart !== 'active' ? await warmStartsFromFile(warmStart) : undefined;
      const result = await withProgress('reading attempts', (progress) =>
        withStore(flags.db, 'use', (store) =>
          recompute(
            store,
            {
              conceptIds: flags['concept-id'] ?? [],
              fromDate: flags['from-date'] ?? null,
              toDate: flags['to-date'] ?? null,
              minAttempts: flags['min-attempts'],
              activate: flags.activate,
              force: flags.force,
              dryRun: flags['dry-run'],
              trigger: flags.trigger as 'manual',
              questionsFallback: flags['questions-fallback'],
              holdoutFrom: flags['holdout-from'] ?? null,
              activationMargin: flags['activation-margin'],
              warmStartActive: warmStart === 'active',
            },
            (base) => trainerOptionsFromFlags(flags, fixFrom, base),
            { signal: abort.signal, warmStarts, onProgress: (done, total) => progress.update(`recompute: ${done}/${total} concepts`) },
          ),
        ),
      );
      if (!this.jsonEnabled()) {
        const { renderRecompute } = await import('../src/cli/render-store.js');
        this.log(await renderRecompute(result, flags));
      }
      return result;
    } finally {
      process.off('SIGINT', onSigint);
    }
  }
}
