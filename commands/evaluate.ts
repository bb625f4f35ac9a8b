import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import {
  readerFlags,
  readerOptionsFromFlags,
  tableFlags,
  trainerFlags,
  readFixFrom,
  trainerOptionsFromFlags,
  variantFlags,
  variantSpecFromFlags,
  withOptionalVariantColumns,
} from '../src/cli/flags.js';
import type { EvaluateCommandResult } from '../src/quality/run-evaluate.js';

export default class Evaluate extends BktCommand {
  static override summary = 'Score parameters on attempts (AUC, RMSE, log loss, accuracy beside baselines), or cross-validate by learner.';

  static override description = `Every attempt is predicted before its answer is seen, each learner's sequence of a concept starting from L0 (as pyBKT's evaluate). Per concept and overall, the model is shown beside two baselines: the overall mean correctness and the concept's own mean (from the evaluated rows, or from --baseline-input), with the lift. Concepts without parameters are reported as no_params, never scored at 0.5. With --folds K, learners are split into K folds (seeded); each fold is fitted on the others with the trainer flags, as "bkt fit" would, and scored on its own learners.`;

  static override usage = ['evaluate --input FILE --params FILE | --db URL | --folds K [FLAGS]'];

  static override examples = [
    '<%= config.bin %> evaluate --input test.csv --params params.json',
    '<%= config.bin %> evaluate --input test.csv --db ./bkt.sqlite --json',
    '<%= config.bin %> evaluate --input train.csv --folds 5 --seed 42 --no-bounds',
    '<%= config.bin %> evaluate --input items.csv --folds 5 --multigs template_id',
  ];

  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Attempts file to score, or - for stdin.', required: true, helpGroup: 'INPUT' }),
    ...readerFlags,
    params: Flags.string({ char: 'p', summary: 'Parameter file written by "bkt fit --out" (JSON or CSV); - for stdin.', exclusive: ['db', 'folds'] }),
    db: Flags.string({ helpGroup: 'DATABASE', summary: 'Score the active parameters of this database (SQLite path or postgres:// URL).', exclusive: ['params', 'folds'] }),
    'baseline-input': Flags.string({ summary: 'Attempts the baseline means are computed from (e.g. the training file); default the evaluated rows.' }),
    folds: Flags.integer({ char: 'k', summary: 'Cross-validate with K folds split by learner instead of scoring given parameters.', min: 2, max: 100, exclusive: ['params', 'db'] }),
    ...trainerFlags,
    ...variantFlags,
    ...tableFlags,
  };

  async run(): Promise<EvaluateCommandResult> {
    const { flags } = await this.parse(Evaluate, withOptionalVariantColumns(this.argv));
    const variants = variantSpecFromFlags(flags);
    if (variants && flags.folds === undefined) {
      const { UsageError } = await import('../src/errors.js');
      throw new UsageError('--multigs/--multilearn/--multiprior/--multipair apply to --folds (the fits); scored parameters carry their own variants', 'Add --folds K, or drop the variant flags');
    }
    const fixFrom = await readFixFrom(flags);
    const { classColumnRequests } = await import('../src/model/variants/variant-spec.js');
    const { runEvaluate } = await import('../src/quality/run-evaluate.js');
    const { withProgress } = await import('../src/cli/progress.js');
    const result = await withProgress(flags.folds ? `cross-validating: fold 1/${flags.folds}` : 'evaluating', (progress) =>
      runEvaluate(
        {
          read: { ...readerOptionsFromFlags(flags.input, flags), classColumns: variants ? classColumnRequests(variants) : [] },
          params: flags.params,
          db: flags.db,
          baselineRead: flags['baseline-input'] ? readerOptionsFromFlags(flags['baseline-input'], flags) : undefined,
          folds: flags.folds,
          seed: flags.seed,
          trainer: { ...trainerOptionsFromFlags(flags, fixFrom), variants },
        },
        { onFold: (k, n) => progress.update(`cross-validating: fold ${Math.min(k + 1, n)}/${n}`) },
      ),
    );
    if (!this.jsonEnabled()) {
      const { renderEvaluate } = await import('../src/cli/render-quality.js');
      this.log(await renderEvaluate(result, flags));
    }
    return result;
  }
}
