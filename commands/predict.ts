import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { readerFlags, readerOptionsFromFlags } from '../src/cli/flags.js';
import { UsageError } from '../src/errors.js';
import { EXPORT_FORMATS } from '../src/export/columns.js';
import type { PredictResult } from '../src/predict/run-predict.js';

// Every input row is written, so the row filters of the other readers do not apply here; the
// input format gets its own name because --format names the output, as in export.
const { format: inputFormat, 'from-date': _from, 'to-date': _to, 'min-attempts-per-user': _min, ...inputFlags } = readerFlags;

export default class Predict extends BktCommand {
  static override summary = "Write every attempt with P(correct) and P(known) before its answer, and P(known) after it (pyBKT's predict).";

  static override description = `Reads the attempts twice: once to run each learner's sequence of a concept from L0 through its answers (in time order, else order_id, else file order, as fit), once to copy every input row, in input order, to the output with three columns appended: correct_predictions and state_predictions (P(correct) and P(known) before the answer is seen, as pyBKT's predict gives them) and state_posterior (P(known) after the answer, before the learning step). Rows of concepts without parameters, or outside --concept-id/--concept-pattern, keep empty predictions (pyBKT writes 0.5 there). Memory: the attempts table plus 24 bytes per row; output is streamed.`;

  static override usage = ['predict --input FILE --params FILE | --db URL [--out FILE] [FLAGS]'];

  static override examples = [
    '<%= config.bin %> predict --input test.csv --params params.json --out predictions.csv',
    '<%= config.bin %> predict --input test.parquet --db ./bkt.sqlite --out predictions.parquet',
    '<%= config.bin %> predict --input test.csv.gz --params params.json --concept-pattern "Equation.*" --format ndjson | head',
  ];

  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Attempts file to predict, or - for stdin.', required: true, helpGroup: 'INPUT' }),
    'input-format': inputFormat,
    ...inputFlags,
    params: Flags.string({ char: 'p', summary: 'Parameter file written by "bkt fit --out" (JSON or CSV); - for stdin.', exclusive: ['db'] }),
    db: Flags.string({ helpGroup: 'DATABASE', summary: 'Use the active parameters of this database (SQLite path or postgres:// URL).', exclusive: ['params'] }),
    out: Flags.string({ char: 'o', summary: 'Output file, or - for stdout.', default: '-', helpGroup: 'OUTPUT' }),
    format: Flags.string({ char: 'f', summary: 'Output format (default: from the --out extension, else csv).', options: [...EXPORT_FORMATS], helpGroup: 'OUTPUT' }),
  };

  async run(): Promise<PredictResult> {
    const { flags } = await this.parse(Predict);
    if (this.jsonEnabled() && flags.out === '-') {
      throw new UsageError('--json with --out -: the predictions and the summary would share stdout', 'Pass --out FILE');
    }
    const { runPredict } = await import('../src/predict/run-predict.js');
    const result = await runPredict({
      read: readerOptionsFromFlags(flags.input, { ...flags, format: flags['input-format'] }),
      params: flags.params,
      db: flags.db,
      out: flags.out,
      format: flags.format as PredictResult['format'] | undefined,
      conceptIds: flags['concept-id'],
      conceptPattern: flags['concept-pattern'],
    });
    if (!this.jsonEnabled()) {
      const line =
        `${result.rows} rows written to ${result.out} (${result.format}); ${result.rows_predicted} predicted in ${result.concepts_predicted} concepts` +
        (result.n_concepts_without_params > 0 ? `; ${result.n_concepts_without_params} concepts without parameters left empty` : '');
      if (flags.out === '-') this.note(line);
      else this.log(line);
    }
    return result;
  }
}
