import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { readFixFrom, readerFlags, readerOptionsFromFlags, trainerFlags, trainerOptionsFromFlags } from '../src/cli/flags.js';
import type { ReportCommandResult } from '../src/quality/run-report.js';

export default class Report extends BktCommand {
  static override summary = 'Write one self-contained HTML report: learning curves, calibration, parameters and verdicts per concept.';

  static override description = `The page holds the overall metrics beside the baselines; the learning curve and calibration of the whole model; the distribution of each fitted parameter across concepts; a guess-versus-slip scatter of every concept with the invalid and degenerate regions shaded; the cross-validation figures with --cv K; an overview table sortable by any metric; and per concept the learning curve (observed and predicted share correct by opportunity, with learner counts), a calibration plot in groups of at least --min-calibration-rows rows, and the parameters with each check's verdict. Inline SVG and CSS only: nothing is fetched. Without --params or --db the parameters are fitted first on --input with the trainer flags (the metrics are then in-sample).`;

  static override usage = ['report --input FILE --out FILE [--params FILE | --db URL] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> report --input test.csv --params params.json --out report.html',
    '<%= config.bin %> report --input attempts.csv --out report.html',
    '<%= config.bin %> report --input fixtures/sample.csv --cv 5 --out report.html',
  ];

  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Attempts file to report on, or - for stdin.', required: true, helpGroup: 'INPUT' }),
    ...readerFlags,
    params: Flags.string({ char: 'p', summary: 'Parameter file written by "bkt fit --out" (JSON or CSV); - for stdin.', exclusive: ['db'] }),
    db: Flags.string({ helpGroup: 'DATABASE', summary: 'Report on the active parameters of this database (SQLite path or postgres:// URL).', exclusive: ['params'] }),
    out: Flags.string({ char: 'o', summary: 'HTML file to write.', required: true, helpGroup: 'OUTPUT' }),
    title: Flags.string({ summary: 'Page title (default "BKT report: <input>").' }),
    'min-learners': Flags.integer({ summary: 'Learning curves stop where fewer learners remain (default 10).', min: 1 }),
    'min-calibration-rows': Flags.integer({ summary: 'Calibration groups hold at least this many rows (default 30).', min: 1 }),
    cv: Flags.integer({ summary: 'Also cross-validate the attempts with K folds split by learner (a section of the report).', min: 2, max: 100 }),
    ...trainerFlags,
  };

  async run(): Promise<ReportCommandResult> {
    const { flags } = await this.parse(Report);
    const fixFrom = await readFixFrom(flags);
    const { runReport } = await import('../src/quality/run-report.js');
    const { withProgress } = await import('../src/cli/progress.js');
    const result = await withProgress(`${flags.params || flags.db ? '' : 'fitting, '}${flags.cv ? 'cross-validating, ' : ''}writing the report`, () =>
      runReport({
        read: readerOptionsFromFlags(flags.input, flags),
        params: flags.params,
        db: flags.db,
        out: flags.out,
        title: flags.title,
        minLearners: flags['min-learners'],
        minCalibrationRows: flags['min-calibration-rows'],
        crossValidationFolds: flags.cv,
        trainer: trainerOptionsFromFlags(flags, fixFrom),
      }),
    );
    if (!this.jsonEnabled()) {
      this.log(
        `Wrote ${result.out} (${(result.bytes / 1024).toFixed(0)} KB): ${result.concepts} concepts, ${result.passed} pass, ${result.warned} warn, ${result.failed} fail, ${result.no_params} without parameters; parameters ${result.params_source}.`,
      );
    }
    return result;
  }
}
