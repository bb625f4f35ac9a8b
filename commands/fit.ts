import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import {
  readerFlags,
  trainerFlags,
  variantFlags,
  readerOptionsFromFlags,
  tableFlags,
  trainerOptionsFromFlags,
  variantSpecFromFlags,
  withOptionalVariantColumns,
  dbFlag,
} from '../src/cli/flags.js';

export default class Fit extends BktCommand {
  static override summary = 'Fit BKT parameters per concept by EM, from an attempts file or the app\'s database.';

  static override description = `Reads attempts (CSV, NDJSON, Arrow IPC or SQLite; .gz and - for stdin; without --input, the app's tables in --db), fits L0, T, S, G (and F with --forgets) per concept by EM with seeded random restarts, projected onto the bounds at every step, and reports each concept's parameters, log-likelihood, in-sample metrics and quality verdict. Concepts with too little data are reported as skipped, never fitted. With --db or --activate the fits are persisted (bkt_skill_params rows and an algo_runs row); --activate refuses invalid or degenerate fits unless --force (exit 6).`;

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
      summary: 'Persist each fit as its concept\'s only active parameter set (invalid or degenerate fits are refused, exit 6).',
      default: false,
      helpGroup: 'DATABASE',
    }),
    force: Flags.boolean({ summary: 'With --activate: activate invalid or degenerate fits too.', default: false, helpGroup: 'DATABASE', dependsOn: ['activate'] }),
    'questions-fallback': Flags.boolean({
      summary: 'Database input: take the concept from questions.concept_id when the snapshot names none.',
      default: false,
      helpGroup: 'DATABASE',
    }),
  };

  async run(): Promise<unknown> {
    const { flags } = await this.parse(Fit, withOptionalVariantColumns(this.argv));
    const variants = variantSpecFromFlags(flags);
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
          ? { db: flags.db, activate: flags.activate, force: flags.force, fromDate: flags['from-date'], toDate: flags['to-date'] }
          : undefined,
        trainer: { ...trainerOptionsFromFlags(flags), variants },
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
