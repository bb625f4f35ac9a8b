import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import {
  readerFlags,
  trainerFlags,
  variantFlags,
  readerOptionsFromFlags,
  tableFlags,
  readFixFrom,
  trainerOptionsFromFlags,
  variantSpecFromFlags,
  withOptionalVariantColumns,
  dbFlag,
  probabilityFlag,
} from '../src/cli/flags.js';

export default class Fit extends BktCommand {
  static override summary = 'Fit BKT parameters per concept by EM, from an attempts file or the app\'s database.';

  static override description = `Reads attempts (CSV, NDJSON, Arrow IPC or SQLite; .gz and - for stdin; without --input, the app's tables in --db), fits L0, T, S, G (and F with --forgets) per concept by EM with seeded random restarts, and reports each concept's parameters, log-likelihood, in-sample metrics and quality verdict. Concepts with too little data are reported as skipped, never fitted. With --db or --activate the fits are persisted (bkt_skill_params rows and an algo_runs row); --activate refuses invalid or degenerate fits unless --force (exit 6), and keeps a concept's active set when the new fit is worse on held-out attempts. The default method (map) fits with weak Beta priors and, for the standard model, never lets one correct answer master a concept (variant fits get the priors, not this cap); --method box is the app's bounded fit, --method mle plain maximum likelihood. A fit from the database uses the active algo_params row's constraints as its box unless --method is given.`;

  static override usage = ['fit --input FILE [--out FILE] [FLAGS]', 'fit [--db URL] [--activate] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> fit --input fixtures/sample.csv',
    '<%= config.bin %> fit --input attempts.csv.gz --out params.json --strict',
    '<%= config.bin %> fit --input fixtures/builder/train.csv.gz --no-bounds --restarts 5 --json',
    '<%= config.bin %> fit --input attempts.csv --fix p_G=0.25 --forgets --out params.csv',
    '<%= config.bin %> fit --concept-id 3f2a7c1e-0d4b-4c55-9a1e-6b7d8e9f0a1b --activate --db postgres://ops@db.internal/app',
    '<%= config.bin %> fit --input attempts.csv --db ./bkt.sqlite --activate',
    '<%= config.bin %> fit --input items.csv --multigs template_id --multilearn --out params.json',
    '<%= config.bin %> fit --input attempts.csv --multiprior cohort --no-bounds',
  ];

  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Attempts file, or - for stdin.', helpGroup: 'INPUT' }),
    ...readerFlags,
    ...trainerFlags,
    ...variantFlags,
    out: Flags.string({ char: 'o', summary: 'Write the parameters here (.json, or .csv).', helpGroup: 'OUTPUT' }),
    ...tableFlags,
    cv: Flags.integer({ summary: 'Also cross-validate with K folds split by learner; stored in each concept\'s metrics.', min: 2, max: 100 }),
    strict: Flags.boolean({ summary: 'Exit 6 when any fitted concept is invalid or degenerate (for CI).', default: false }),
    db: dbFlag,
    activate: Flags.boolean({
      summary: 'Persist each fit as its concept\'s active parameter set, unless invalid or degenerate (refused, exit 6) or worse than the active set on held-out attempts (kept inactive).',
      default: false,
      helpGroup: 'DATABASE',
    }),
    force: Flags.boolean({ summary: 'With --activate: activate invalid, degenerate or worse fits too.', default: false, helpGroup: 'DATABASE', dependsOn: ['activate'] }),
    'holdout-from': Flags.string({
      summary: 'With --activate: compare new and active parameters on attempts from this ISO date on (default: 1 in 5 learners held out).',
      helpGroup: 'DATABASE',
      dependsOn: ['activate'],
    }),
    'activation-margin': probabilityFlag({
      summary: 'With --activate: keep the active set when the new fit\'s held-out RMSE is worse by more than this (default 0.005).',
      helpGroup: 'DATABASE',
      dependsOn: ['activate'],
    }),
    'warm-start': Flags.string({ summary: 'Also start one restart per concept from the active parameters ("active", needs the database) or from a params FILE.', helpGroup: 'TRAINER' }),
    'questions-fallback': Flags.boolean({
      summary: 'Database input: take the concept from questions.concept_id when the snapshot names none.',
      default: false,
      helpGroup: 'DATABASE',
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Fit, withOptionalVariantColumns(this.argv));
    const variants = variantSpecFromFlags(flags);
    const fixFrom = await readFixFrom(flags);
    const { fitAttempts } = await import('../src/fit/fit-attempts.js');
    const { withProgress } = await import('../src/cli/progress.js');
    const { classColumnRequests } = await import('../src/model/variants/variant-spec.js');
    // Without --input the attempts come from the database (--db, else DATABASE_URL, else ./bkt.sqlite).
    const fromStore = flags.input === undefined;
    const persist = flags.db !== undefined || flags.activate || fromStore;
    const result = await withProgress('reading attempts', (progress) =>
      fitAttempts({
        source: fromStore
          ? { kind: 'store', conceptIds: flags['concept-id'], conceptPattern: flags['concept-pattern'], fromDate: flags['from-date'], toDate: flags['to-date'], questionsFallback: flags['questions-fallback'] }
          : { kind: 'file', read: { ...readerOptionsFromFlags(flags.input!, flags), classColumns: variants ? classColumnRequests(variants) : [] } },
        persist: persist
          ? {
              db: flags.db,
              activate: flags.activate,
              force: flags.force,
              fromDate: flags['from-date'],
              toDate: flags['to-date'],
              holdoutFrom: flags['holdout-from'],
              activationMargin: flags['activation-margin'],
            }
          : undefined,
        trainer: (base) => ({ ...trainerOptionsFromFlags(flags, fixFrom, base), variants }),
        warmStart: flags['warm-start'],
        crossValidationFolds: flags.cv,
        out: flags.out,
        strict: flags.strict,
        onProgress: ({ restartsDone, restartsTotal }) => progress.update(`fitting: ${restartsDone}/${restartsTotal} restarts`),
      }),
    );
    if (!this.jsonEnabled()) {
      const { renderFitResult } = await import('../src/cli/render-fit.js');
      this.log(await renderFitResult(result, flags));
    }
    return { concepts: result.concepts, summary: result.summary, out: result.out, persisted: result.persisted, failure: result.failure };
  }
}
