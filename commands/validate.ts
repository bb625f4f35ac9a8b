import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { numberFlag, probabilityFlag, readerFlags, readerOptionsFromFlags, tableFlags } from '../src/cli/flags.js';
import type { ValidateCommandResult } from '../src/quality/run-validate.js';

const threshold = (summary: string) => probabilityFlag({ summary, helpGroup: 'THRESHOLD' });

export default class Validate extends BktCommand {
  static override summary = 'CI gate: check parameters for validity, degeneracy and held-out quality; exit 6 when any check fails.';

  static override description = `Checks per concept (docs/validation.md gives each default and its source): validity (schema.md), learn rate, discrimination and learning gain (schema.md degeneracy rules), mastery never falling after a correct answer and reaching the mastery threshold after --mastery-run correct answers (Baker, Corbett & Aleven 2008), with --input the held-out AUC, RMSE and lift on that data, and identifiability (a warning) when the fit's restarts disagree at similar likelihood. Exit 0 when every check passes (warnings allowed), 6 otherwise, naming each failure on stderr. The table lists failing and warning checks, failures first (--verbose adds the passing ones).`;

  static override usage = ['validate --params FILE | --db URL [--input FILE] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> validate --params params.json',
    '<%= config.bin %> validate --db postgres://postgres@127.0.0.1/app --junit bkt-validate.xml',
    '<%= config.bin %> validate --params params.json --input holdout.csv --min-auc 0.65 --max-rmse 0.45',
  ];

  static override flags = {
    params: Flags.string({ char: 'p', summary: 'Parameter file written by "bkt fit --out" (JSON or CSV); - for stdin.', exclusive: ['db'] }),
    db: Flags.string({ helpGroup: 'DATABASE', summary: 'Check the active parameters of this database (SQLite path or postgres:// URL).', exclusive: ['params'] }),
    ...readerFlags,
    input: Flags.string({ char: 'i', summary: 'Held-out attempts for --min-auc, --max-rmse and --min-lift (reader flags as fit).', helpGroup: 'INPUT' }),
    junit: Flags.string({ summary: 'Also write a JUnit XML report (one test case per concept and check) to this file.', helpGroup: 'OUTPUT' }),
    ...tableFlags,
    verbose: Flags.boolean({ summary: 'List passing checks too (by default only failures and warnings are listed).', helpGroup: 'OUTPUT' }),
    'min-learn': threshold('Degenerate when T is below this (default 0.001).'),
    'min-discrimination': threshold('Degenerate when (1 - S) - G is below this (default 0.1).'),
    'min-learning-gain': threshold('Degenerate when one correct answer from L0 raises mastery by less (default 0.05).'),
    'min-answers-to-master': Flags.integer({
      summary: 'Degenerate when fewer correct answers in a row from L0 reach mastery (default 2: one answer never masters; 1 = off).',
      min: 1,
      helpGroup: 'THRESHOLD',
    }),
    'bound-check': Flags.string({ summary: 'A parameter held on a bound of its fit: warn (default), fail or off.', options: ['warn', 'fail', 'off'], helpGroup: 'THRESHOLD' }),
    'mastery-run': Flags.integer({ summary: 'Correct answers in a row from L0 that must reach mastery (default 10).', min: 1, helpGroup: 'THRESHOLD' }),
    'mastery-threshold': threshold('Mastery threshold (default 0.95).'),
    'min-auc': threshold('With --input: AUC must be at least this (default 0.5).'),
    'max-rmse': threshold('With --input: RMSE must be at most this (default 0.5).'),
    'min-lift': numberFlag({ summary: 'With --input: RMSE lift over the per-concept mean baseline, overall (default 0).', helpGroup: 'THRESHOLD' }),
    'min-held-out-rows': Flags.integer({ summary: 'Held-out checks of concepts with fewer rows only warn (default 50).', min: 1, helpGroup: 'THRESHOLD' }),
    'identifiability-gap': numberFlag({ summary: 'Restarts within this many nats of the best count as equally good (default 1).', helpGroup: 'THRESHOLD' }),
    'identifiability-spread': threshold('Warn when such restarts differ by more than this in a parameter (default 0.1).'),
  };

  async run(): Promise<ValidateCommandResult> {
    const { flags } = await this.parse(Validate);
    const { runValidate } = await import('../src/quality/run-validate.js');
    const result = await runValidate({
      params: flags.params,
      db: flags.db,
      conceptIds: flags['concept-id'] ?? [],
      read: flags.input ? readerOptionsFromFlags(flags.input, { ...flags, 'concept-id': undefined }) : undefined,
      junit: flags.junit,
      thresholds: {
        minLearn: flags['min-learn'],
        minDiscrimination: flags['min-discrimination'],
        minLearningGain: flags['min-learning-gain'],
        minAnswersToMaster: flags['min-answers-to-master'],
        boundCheck: flags['bound-check'] as 'warn' | 'fail' | 'off' | undefined,
        masteryRun: flags['mastery-run'],
        masteryThreshold: flags['mastery-threshold'],
        minAuc: flags['min-auc'],
        maxRmse: flags['max-rmse'],
        minLift: flags['min-lift'],
        minHeldOutRows: flags['min-held-out-rows'],
        identifiabilityGap: flags['identifiability-gap'],
        identifiabilitySpread: flags['identifiability-spread'],
      },
    });
    if (!this.jsonEnabled()) {
      const { renderValidate } = await import('../src/cli/render-quality.js');
      this.log(await renderValidate(result, flags));
    }
    return result;
  }
}
