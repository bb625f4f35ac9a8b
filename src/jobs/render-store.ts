/** Human renderings (cli-table3) of the store commands' results; `--json` prints the objects instead. */
import { createTable, formatNumber } from '../cli/render.js';
import type { SkillParamsRow } from '../store/store.js';
import type { RecomputeResult } from './recompute.js';

export async function renderParamsTable(rows: SkillParamsRow[]): Promise<string> {
  if (rows.length === 0) return 'no parameter rows (fit with "bkt fit --db ... --activate" or "bkt recompute --activate")';
  const table = await createTable(['id', 'concept_id', 'active', 'p_L0', 'p_T', 'p_S', 'p_G', 'fitted_at', 'auc'], {
    colAligns: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left', 'right'],
  });
  for (const r of rows) {
    const auc = typeof r.metrics.auc === 'number' ? r.metrics.auc : null;
    table.push([r.id, r.concept_id, r.is_active ? 'yes' : '', formatNumber(r.p_L0), formatNumber(r.p_T), formatNumber(r.p_S), formatNumber(r.p_G), r.fitted_at, formatNumber(auc)]);
  }
  return table.toString();
}

export function renderRecompute(result: RecomputeResult): string {
  const s = result.summary;
  const lines = [
    `run ${result.run_id} (${result.algo.key} ${result.algo.version})${result.dry_run ? ' [dry run: no parameters written]' : ''}`,
    `concepts processed ${s.concepts_processed}, parameter rows written ${s.params_fitted}, errors ${Object.keys(s.errors).length}`,
    `skipped answers: ${s.skipped.unanswered} unanswered, ${s.skipped.no_concept} without a concept`,
    `seconds: read ${result.timings.read.toFixed(2)}, fit ${result.timings.fit.toFixed(2)}, write ${result.timings.write.toFixed(2)}, total ${result.timings.total.toFixed(2)}`,
  ];
  const errors = Object.entries(s.errors);
  for (const [concept, reason] of errors.slice(0, 20)) lines.push(`  ${concept}: ${reason}`);
  if (errors.length > 20) lines.push(`  ... and ${errors.length - 20} more (see --json)`);
  return lines.join('\n');
}
