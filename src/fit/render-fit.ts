import { createTable, formatNumber } from '../cli/render.js';
import type { FitAttemptsResult } from './fit-attempts.js';

/** The human view of a fit: one table row per concept, then a summary line. */
export async function renderFitResult(result: FitAttemptsResult): Promise<string> {
  const forgets = result.settings.forgets;
  const head = ['concept', 'status', 'attempts', 'learners', 'p_L0', 'p_T', 'p_S', 'p_G', ...(forgets ? ['p_F'] : []), 'log-lik', 'iters', 'AUC', 'RMSE', 'verdict'];
  const table = await createTable(head, { colAligns: ['left', 'left', ...head.slice(2, -1).map(() => 'right' as const), 'left'] });
  for (const c of result.concepts) {
    const verdict =
      c.status !== 'fitted'
        ? (c.reason ?? '')
        : c.violations.length === 0
          ? 'ok'
          : c.violations.map((v) => `${v.kind}: ${v.message}`).join('; ');
    table.push([
      c.concept_id,
      c.status,
      String(c.n_attempts),
      String(c.n_users),
      formatNumber(c.params?.p_L0),
      formatNumber(c.params?.p_T),
      formatNumber(c.params?.p_S),
      formatNumber(c.params?.p_G),
      ...(forgets ? [formatNumber(c.params?.p_F)] : []),
      formatNumber(c.log_likelihood, 2),
      c.iterations === null ? '' : `${c.iterations}${c.converged ? '' : '*'}`,
      formatNumber(c.metrics?.auc),
      formatNumber(c.metrics?.rmse),
      verdict.length > 60 ? `${verdict.slice(0, 57)}...` : verdict,
    ]);
  }
  const s = result.summary;
  const lines = [
    table.toString(),
    `${s.fitted} fitted, ${s.skipped} skipped, ${s.failed} failed; ${s.invalid} invalid, ${s.degenerate} degenerate; ` +
      `${s.n_attempts} attempts; total log-likelihood ${s.total_log_likelihood.toFixed(2)}; ${s.seconds.toFixed(2)} s on ${s.workers} worker(s)` +
      (result.out ? `; parameters written to ${result.out}` : ''),
  ];
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
        (active ? `, ${active} activated` : ', none activated') +
        (result.persisted.run_id ? `; run ${result.persisted.run_id}` : ''),
    );
  }
  return lines.join('\n');
}
