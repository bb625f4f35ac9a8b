import type { FitAttemptsResult } from '../fit/fit-attempts.js';
import type { ConceptFitResult } from '../model/fit-types.js';
import { withoutEmptyLabels } from './render-store.js';
import { formatCell, idColumn, renderTable, wrapText, type TableColumn } from './table.js';
import type { TableView } from './view.js';

const cvOf = (c: ConceptFitResult): { auc_mean?: number | null; rmse_mean?: number | null } | undefined =>
  (c.cv as { cv_concept?: { auc_mean?: number | null; rmse_mean?: number | null } } | undefined)?.cv_concept;

function verdictOf(c: ConceptFitResult): string {
  if (c.status !== 'fitted') return c.reason ?? '';
  const warnings = c.warnings ?? [];
  if (c.violations.length === 0 && warnings.length === 0) return 'ok';
  return [...c.violations.map((v) => `${v.kind}: ${v.message}`), ...warnings.map((w) => `warning: ${w.message}`)].join('; ');
}

/** The columns of the fit table; p_F only with --forgets, the cross-validation ones only with --cv, the label only when it names a concept (a fit from the database). */
export function fitColumns(result: Pick<FitAttemptsResult, 'settings' | 'concepts'>): TableColumn<ConceptFitResult>[] {
  const param = (name: 'p_L0' | 'p_T' | 'p_S' | 'p_G' | 'p_F'): TableColumn<ConceptFitResult> => ({ header: name, value: (c) => c.params?.[name], align: 'right', decimals: 4 });
  const withCv = result.concepts.some((c) => cvOf(c) !== undefined);
  const columns: TableColumn<ConceptFitResult>[] = [
    idColumn('concept', (c) => c.concept_id),
    { header: 'concept_label', value: (c) => c.concept_label ?? null },
    { header: 'status', value: (c) => c.status },
    { header: 'attempts', value: (c) => c.n_attempts, align: 'right' },
    { header: 'learners', value: (c) => c.n_users, align: 'right', optional: true },
    param('p_L0'),
    param('p_T'),
    param('p_S'),
    param('p_G'),
    ...(result.settings.forgets ? [param('p_F')] : []),
    { header: 'log-lik', value: (c) => c.log_likelihood, format: (c) => formatCell(c.log_likelihood, 2), align: 'right', optional: true },
    { header: 'iters', value: (c) => c.iterations, format: (c) => (c.iterations === null ? '' : `${c.iterations}${c.converged ? '' : '*'}`), align: 'right', optional: true },
    { header: 'AUC', value: (c) => c.metrics?.auc, align: 'right', decimals: 4 },
    { header: 'RMSE', value: (c) => c.metrics?.rmse, align: 'right', optional: true, decimals: 4 },
    ...(withCv
      ? [
          { header: 'cv AUC', value: (c: ConceptFitResult) => cvOf(c)?.auc_mean, align: 'right' as const, decimals: 4 },
          { header: 'cv RMSE', value: (c: ConceptFitResult) => cvOf(c)?.rmse_mean, align: 'right' as const, optional: true, decimals: 4 },
        ]
      : []),
    { header: 'verdict', value: verdictOf, shrinkTo: 10 },
  ];
  return withoutEmptyLabels(columns, result.concepts);
}

/** The human view of a fit: one row per concept (shortened unless --all), then summary lines; or CSV. */
export async function renderFitResult(result: FitAttemptsResult, view: TableView = {}): Promise<string> {
  const table = await renderTable(fitColumns(result), result.concepts, { ...view, noun: 'concepts' });
  if (view.csv) return table;
  const s = result.summary;
  const lines = [
    `method ${result.settings.method}; ${s.fitted} fitted, ${s.skipped} skipped, ${s.failed} failed; ${s.invalid} invalid, ${s.degenerate} degenerate, ${s.at_bound} on a bound; ` +
      `${s.n_attempts} attempts; total log-likelihood ${s.total_log_likelihood.toFixed(2)}; ${s.seconds.toFixed(2)} s on ${s.workers} worker(s)` +
      (result.out ? `; parameters written to ${result.out}` : ''),
  ];
  const cv = (s as { cross_validation?: { cv_folds?: number; cv_auc_mean?: number | null; cv_rmse_mean?: number | null; cv_log_loss_mean?: number | null } }).cross_validation;
  if (cv) {
    lines.push(
      `${cv.cv_folds}-fold cross-validation by learner: AUC ${formatCell(cv.cv_auc_mean)}, RMSE ${formatCell(cv.cv_rmse_mean)}, log loss ${formatCell(cv.cv_log_loss_mean)} (means over folds)`,
    );
  }
  if (result.concepts.some((c) => c.converged === false)) lines.push('* did not converge within --max-iterations');
  const withModel = result.concepts.find((c) => c.model);
  if (withModel?.model) {
    const m = withModel.model;
    const classes = m.variants.map((v) => `${v} on ${m.columns[v]}`).join(', ');
    lines.push(`model variants: ${classes}; p_* above are the concept-level values (unseen classes use them); class parameters are in --json and --out`);
  }
  if (result.persisted) {
    const active = result.persisted.persisted.filter((p) => p.is_active).length;
    lines.push(
      `${result.persisted.persisted.length} parameter set(s) written to ${result.persisted.db}` +
        (active ? `, ${active} activated` : ', none activated (see them with "bkt params list --all"; activate with --activate or "bkt params activate ID")') +
        (result.persisted.run_id ? `; run ${result.persisted.run_id}` : ''),
    );
  }
  return [table, ...lines.map((line) => wrapText(line, view.width))].join('\n');
}
