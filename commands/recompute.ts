import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { dbFlag, trainerFlags, trainerOptionsFromFlags } from '../src/cli/flags.js';

export default class Recompute extends BktCommand {
  static override summary = "Refit concepts from the app's tables and log the run (the app's admin recompute).";

  static override description = `Reads attempts from the database (SUBMITTED and EXPIRED sessions, concept from each
question's snapshot), fits every concept that has data or the named ones, and writes one
bkt_skill_params row per fitted concept, each in its own transaction. One algo_runs row records the
run: RUNNING at the start, then SUCCESS or FAILED with a summary. A failing concept does not stop
the others. Ctrl-C stops after the concept being written and marks the run FAILED with how far it
got. --dry-run fits and reports without writing parameters.`;

  static override examples = [
    '<%= config.bin %> recompute --activate',
    '<%= config.bin %> recompute --concept-id 00000000-0000-0000-0000-000000000007 --dry-run --json',
    '<%= config.bin %> recompute --db "$DATABASE_URL" --from-date 2026-01-01 --trigger nightly --activate',
  ];

  static override flags = {
    db: dbFlag,
    'concept-id': Flags.string({ summary: 'Only this concept (repeatable). Default: every concept with attempts.', multiple: true, helpGroup: 'FILTERS' }),
    'from-date': Flags.string({ summary: 'Only answers answered at or after this ISO date.', helpGroup: 'FILTERS' }),
    'to-date': Flags.string({ summary: 'Only answers answered at or before this ISO date (a date includes the whole day).', helpGroup: 'FILTERS' }),
    'questions-fallback': Flags.boolean({ summary: "Use questions.concept_id when a snapshot names no concept (the app's fallback).", default: false, helpGroup: 'FILTERS' }),
    activate: Flags.boolean({ summary: "Make each new parameter set its concept's active one.", default: false }),
    force: Flags.boolean({ summary: 'Activate invalid or degenerate fits too.', default: false, dependsOn: ['activate'] }),
    'dry-run': Flags.boolean({ summary: 'Fit and report; write no parameter rows.', default: false }),
    trigger: Flags.string({ summary: 'Recorded in algo_runs.trigger.', options: ['manual', 'nightly', 'cron', 'api'], default: 'manual' }),
    ...trainerFlags,
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Recompute);
    const { recompute } = await import('../src/jobs/recompute.js');
    const { withStore } = await import('../src/jobs/db-admin.js');
    const { startProgress } = await import('../src/cli/render.js');
    const abort = new AbortController();
    const onSigint = () => {
      if (abort.signal.aborted) process.exit(130);
      abort.abort();
      process.stderr.write('Interrupted: finishing the concept being written, then marking the run FAILED (Ctrl-C again to quit now)\n');
    };
    process.on('SIGINT', onSigint);
    const progress = await startProgress('reading attempts');
    try {
      const result = await withStore(flags.db, 'use', (store) =>
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
          },
          trainerOptionsFromFlags(flags),
          { signal: abort.signal, onProgress: (done, total) => progress.update(`recompute: ${done}/${total} concepts`) },
        ),
      );
      progress.stop();
      if (!this.jsonEnabled()) {
        const { renderRecompute } = await import('../src/jobs/render-store.js');
        this.log(renderRecompute(result));
      }
      if (result.summary.interrupted) {
        process.exitCode = 130;
        process.stderr.write(`Error: run ${result.run_id} interrupted after ${result.summary.concepts_processed} concepts; it is marked FAILED\n`);
      } else if (result.summary.refused.length) {
        process.exitCode = 6;
        const first = result.summary.refused[0];
        process.stderr.write(`Error: concept ${first}: ${result.summary.errors[first]}${result.summary.refused.length > 1 ? ` (and ${result.summary.refused.length - 1} more)` : ''}. Use --force to activate anyway\n`);
      }
      return result;
    } finally {
      progress.stop();
      process.off('SIGINT', onSigint);
    }
  }
}
