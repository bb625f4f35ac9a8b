import Table from 'cli-table3';
import type { MetricSet } from './evaluation-types.js';
import type { EvaluateCommandResult } from './run-evaluate.js';
import type { ValidateCommandResult } from './run-validate.js';

/** Human renderings of evaluate and validate results (cli-table3; plain off a TTY). */

const plain = () => (process.stdout.isTTY ? {} : { style: { head: [] as string[], border: [] as string[] } });
const num = (x: number | null | undefined, digits = 4) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const signed = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`);

function metricRow(name: string, m: MetricSet | null): string[] {
  return [name, m ? String(m.n) : '-', num(m?.auc), num(m?.rmse), num(m?.log_loss), num(m?.accuracy)];
}

export function renderEvaluate(result: EvaluateCommandResult): string {
  const lines: string[] = [];
  if (result.mode === 'cross_validation') {
    const table = new Table({ head: ['fold', 'test learners', 'test rows', 'AUC', 'RMSE', 'log loss', 'accuracy', 'rows without params'], ...plain() });
    for (const f of result.per_fold) {
      table.push([String(f.fold + 1), String(f.test_learners), String(f.test_rows), num(f.metrics?.auc), num(f.metrics?.rmse), num(f.metrics?.log_loss), num(f.metrics?.accuracy), String(f.rows_no_params)]);
    }
    table.push(['mean', '', '', num(result.cv_auc_mean), num(result.cv_rmse_mean), num(result.cv_log_loss_mean), num(result.cv_accuracy_mean), '']);
    lines.push(`${result.cv_folds}-fold cross-validation by learner (seed ${result.cv_seed}) on ${result.input.source}`, table.toString());
    return lines.join('\n');
  }
  const overall = new Table({ head: ['', 'rows', 'AUC', 'RMSE', 'log loss', 'accuracy'], ...plain() });
  overall.push(
    metricRow('BKT model', result.overall.model),
    metricRow('baseline: per-concept mean', result.overall.baseline_concept_mean),
    metricRow('baseline: overall mean', result.overall.baseline_overall_mean),
    ['lift over per-concept mean', '', signed(result.overall.lift?.auc), signed(result.overall.lift?.rmse), signed(result.overall.lift?.log_loss), signed(result.overall.lift?.accuracy)],
  );
  const concepts = new Table({ head: ['concept', 'status', 'rows', 'learners', 'AUC', 'RMSE', 'log loss', 'accuracy', 'RMSE lift'], ...plain() });
  for (const c of result.concepts) {
    concepts.push([c.concept_id, c.status, String(c.n), String(c.n_users), num(c.model?.auc), num(c.model?.rmse), num(c.model?.log_loss), num(c.model?.accuracy), signed(c.lift?.rmse)]);
  }
  lines.push(concepts.toString(), overall.toString());
  lines.push(
    `${result.rows_scored} of ${result.rows_total} rows scored with parameters from ${result.params_source}; baselines from ${result.baseline_source === 'evaluated_data' ? 'the evaluated rows themselves' : 'the training rows'}.`,
  );
  if (result.concepts_no_params.length) {
    lines.push(`${result.concepts_no_params.length} concept(s) without parameters, ${result.rows_no_params} rows not scored: ${result.concepts_no_params.slice(0, 10).join(', ')}${result.concepts_no_params.length > 10 ? ', ...' : ''}`);
  }
  return lines.join('\n');
}

export function renderValidate(result: ValidateCommandResult): string {
  const table = new Table({ head: ['concept', 'status', 'checks not passed'], ...plain(), wordWrap: true });
  for (const c of result.concepts) {
    const notPassed = c.checks.filter((k) => k.status !== 'pass').map((k) => `${k.status} ${k.name}: ${k.message}`);
    table.push([c.concept_id, c.status, notPassed.join('\n') || '-']);
  }
  if (result.overall) {
    const notPassed = result.overall.checks.filter((k) => k.status !== 'pass').map((k) => `${k.status} ${k.name}: ${k.message}`);
    table.push(['(overall)', result.overall.status, notPassed.join('\n') || '-']);
  }
  const s = result.summary;
  return `${table.toString()}\n${s.concepts_checked} concept(s) checked: ${s.passed} passed, ${s.warned} with warnings, ${s.failed} failed (${s.failures.length} failing check(s)).${result.junit ? ` JUnit report: ${result.junit}` : ''}`;
}
