/** Human renderings of evaluate and validate results; `--json` prints the objects instead. */
import type { MetricSet } from '../quality/evaluation-types.js';
import type { EvaluateCommandResult } from '../quality/run-evaluate.js';
import type { ValidateCommandResult } from '../quality/run-validate.js';
import { withoutEmptyLabels } from './render-store.js';
import { idColumn, renderTable, wrapText, type TableColumn } from './table.js';
import type { TableView } from './view.js';

const num = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(4));
const signed = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x >= 0 ? '+' : ''}${x.toFixed(4)}`);

type Metric = 'auc' | 'rmse' | 'log_loss' | 'accuracy';
const METRICS: [Metric, string][] = [
  ['auc', 'AUC'],
  ['rmse', 'RMSE'],
  ['log_loss', 'log loss'],
  ['accuracy', 'accuracy'],
];

/** `bkt evaluate`: per-concept scores, the overall scores beside the baselines (or the folds), as tables or CSV. */
export async function renderEvaluate(result: EvaluateCommandResult, view: TableView = {}): Promise<string> {
  if (result.mode === 'cross_validation') {
    type Fold = (typeof result.per_fold)[number];
    const columns: TableColumn<Fold>[] = [
      { header: 'fold', value: (f) => f.fold + 1, align: 'right' },
      { header: 'test learners', value: (f) => f.test_learners, align: 'right' },
      { header: 'test rows', value: (f) => f.test_rows, align: 'right' },
      ...METRICS.map(([key, header]): TableColumn<Fold> => ({ header, value: (f) => f.metrics?.[key], format: (f) => num(f.metrics?.[key]), align: 'right' })),
      { header: 'rows without params', value: (f) => f.rows_no_params, align: 'right', optional: true },
    ];
    const table = await renderTable(columns, result.per_fold, { ...view, all: true });
    if (view.csv) return table;
    return [
      wrapText(`${result.cv_folds}-fold cross-validation by learner (seed ${result.cv_seed}) on ${result.input.source}`, view.width),
      table,
      wrapText(`mean over folds: AUC ${num(result.cv_auc_mean)}, RMSE ${num(result.cv_rmse_mean)}, log loss ${num(result.cv_log_loss_mean)}, accuracy ${num(result.cv_accuracy_mean)}`, view.width),
    ].join('\n');
  }
  type Concept = (typeof result.concepts)[number];
  const conceptColumns: TableColumn<Concept>[] = withoutEmptyLabels<Concept>([
    idColumn('concept', (c) => c.concept_id),
    { header: 'concept_label', value: (c) => c.concept_label ?? null },
    { header: 'status', value: (c) => c.status },
    { header: 'rows', value: (c) => c.n, align: 'right' },
    { header: 'learners', value: (c) => c.n_users, align: 'right', optional: true },
    ...METRICS.map(([key, header]): TableColumn<Concept> => ({ header, value: (c) => c.model?.[key], format: (c) => num(c.model?.[key]), align: 'right', optional: key !== 'auc' && key !== 'rmse' })),
    { header: 'RMSE lift', value: (c) => c.lift?.rmse, format: (c) => signed(c.lift?.rmse), align: 'right' },
  ], result.concepts);
  if (view.csv) return renderTable(conceptColumns, result.concepts, view);
  type Line = { name: string; metrics: MetricSet | null; lift?: boolean };
  const overallRows: Line[] = [
    { name: 'BKT model', metrics: result.overall.model },
    { name: 'baseline: per-concept mean', metrics: result.overall.baseline_concept_mean },
    { name: 'baseline: overall mean', metrics: result.overall.baseline_overall_mean },
    { name: 'lift over per-concept mean', metrics: null, lift: true },
  ];
  const overallColumns: TableColumn<Line>[] = [
    { header: '', value: (l) => l.name },
    { header: 'rows', value: (l) => (l.metrics ? l.metrics.n : null), align: 'right' },
    ...METRICS.map(([key, header]): TableColumn<Line> => ({
      header,
      value: (l) => (l.lift ? result.overall.lift?.[key] : l.metrics?.[key]),
      format: (l) => (l.lift ? signed(result.overall.lift?.[key]) : num(l.metrics?.[key])),
      align: 'right',
    })),
  ];
  const tables = [await renderTable(conceptColumns, result.concepts, { ...view, noun: 'concepts' }), await renderTable(overallColumns, overallRows, { ...view, all: true })];
  const lines = [
    `${result.rows_scored} of ${result.rows_total} rows scored with parameters from ${result.params_source}; baselines from ${result.baseline_source === 'evaluated_data' ? 'the evaluated rows themselves' : 'the training rows'}.`,
  ];
  if (result.concepts_no_params.length) {
    const named = (id: string) => {
      const label = result.concepts_no_params_labels?.[id];
      return label && label !== id && !/^\d+$/.test(label) ? `${id} (${label})` : id;
    };
    lines.push(
      `${result.concepts_no_params.length} concept(s) without parameters, ${result.rows_no_params} rows not scored: ${result.concepts_no_params.slice(0, 10).map(named).join(', ')}${result.concepts_no_params.length > 10 ? ', ...' : ''}`,
    );
  }
  return [...tables, ...lines.map((line) => wrapText(line, view.width))].join('\n');
}

interface CheckRow {
  concept_id: string;
  concept_label: string | null;
  check: string;
  status: string;
  message: string;
}

/**
 * `bkt validate`: one row per failing or warning check (every check with `verbose`), then the
 * counts; a run where everything passed says so in one line.
 */
export async function renderValidate(result: ValidateCommandResult, view: TableView = {}): Promise<string> {
  const rows: CheckRow[] = [];
  const groups = [
    ...result.concepts.map((c) => ({ id: c.concept_id, label: c.concept_label ?? null, checks: c.checks })),
    ...(result.overall ? [{ id: '(overall)', label: null, checks: result.overall.checks }] : []),
  ];
  for (const group of groups) {
    for (const check of group.checks) {
      if (view.verbose || check.status !== 'pass') rows.push({ concept_id: group.id, concept_label: group.label, check: check.name, status: check.status, message: check.message });
    }
  }
  // Failures first, then warnings, each in concept order: what blocks the gate is read first.
  const rank = (status: string) => (status === 'fail' ? 0 : status === 'warn' ? 1 : 2);
  rows.sort((a, b) => rank(a.status) - rank(b.status));
  const columns = withoutEmptyLabels<CheckRow>(
    [
      idColumn('concept', (r) => r.concept_id),
      { header: 'concept_label', value: (r) => r.concept_label },
      { header: 'check', value: (r) => r.check },
      { header: 'status', value: (r) => r.status },
      { header: 'message', value: (r) => r.message, shrinkTo: 20 },
    ],
    rows,
  );
  if (view.csv) return renderTable(columns, rows, view);
  const s = result.summary;
  const counts = `${s.concepts_checked} concept(s) checked: ${s.passed} passed, ${s.warned} with warnings, ${s.failed} failed (${s.failures.length} failing check(s)).${result.junit ? ` JUnit report: ${result.junit}` : ''}`;
  if (s.concepts_checked === 0) return wrapText(`no parameters to check in ${result.params_source}`, view.width);
  if (rows.length === 0) return wrapText(`${counts} Every check passed (--verbose lists them).`, view.width);
  const table = await renderTable(columns, rows, { ...view, noun: 'checks' });
  return `${table}\n${wrapText(`${counts}${view.verbose ? '' : ' Passing checks are not listed (--verbose lists them).'}`, view.width)}`;
}

