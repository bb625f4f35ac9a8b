/** Human renderings of the store commands' results (params list, recompute, db check); `--json` prints the objects instead. */
import type { CheckResult, ListParamsResult } from '../jobs/db-admin.js';
import type { RecomputeResult } from '../jobs/recompute.js';
import type { SkillParamsRow } from '../store/store.js';
import { idColumn, renderTable, wrapText, type TableColumn } from './table.js';
import type { TableView } from './view.js';

// The ids come first and stay whole where they can (an id is what "bkt params activate" needs);
// on a narrow terminal the parameters go before them.
type LabelledParamsRow = SkillParamsRow & { concept_label?: string | null };
const PARAMS_COLUMNS: TableColumn<LabelledParamsRow>[] = [
  idColumn('id', (r) => r.id),
  idColumn('concept_id', (r) => r.concept_id),
  { header: 'concept_label', value: (r) => r.concept_label ?? null },
  { header: 'active', value: (r) => (r.is_active ? 'yes' : '') },
  { header: 'fitted_at', value: (r) => r.fitted_at, format: (r) => r.fitted_at.replace('T', ' ').slice(0, 16), optional: true },
  { header: 'p_L0', value: (r) => r.p_L0, align: 'right', decimals: 4, optional: true },
  { header: 'p_T', value: (r) => r.p_T, align: 'right', decimals: 4, optional: true },
  { header: 'p_S', value: (r) => r.p_S, align: 'right', decimals: 4, optional: true },
  { header: 'p_G', value: (r) => r.p_G, align: 'right', decimals: 4, optional: true },
  { header: 'auc', value: (r) => (typeof r.metrics.auc === 'number' ? r.metrics.auc : null), align: 'right', optional: true, decimals: 4 },
];

/**
 * The columns less a label column that says nothing the id does not: no row has a label (data
 * imported with UUIDs), or every label is a number, which its UUID already spells
 * (7 is 00000000-0000-0000-0000-000000000007). The JSON keeps every label.
 */
export function withoutEmptyLabels<Row>(columns: TableColumn<Row>[], rows: readonly Row[]): TableColumn<Row>[] {
  const telling = (value: unknown) => typeof value === 'string' && value !== '' && !/^\d+$/.test(value);
  return columns.filter((c) => !c.header.endsWith('_label') || rows.some((r) => telling(c.value(r))));
}

/** `bkt params list`: the table, and what is not shown (inactive rows) or why nothing is. */
export async function renderParamsList(result: ListParamsResult, view: TableView = {}): Promise<string> {
  if (view.csv) return renderTable(withoutEmptyLabels(PARAMS_COLUMNS, result.params), result.params, view);
  const filter = result.concept_ids.length ? ` for ${result.concept_ids.length === 1 ? `concept ${result.concept_ids[0]}` : `${result.concept_ids.length} concepts`}` : '';
  const inactiveNote =
    result.inactive > 0 && !result.all ? `${result.inactive} inactive parameter set(s)${filter} not shown; "bkt params list --all" lists them` : null;
  if (result.params.length === 0) {
    const why = result.all || result.inactive === 0
      ? `no parameter sets${filter} in ${result.db}. Fit some with "bkt fit --db ... --activate" or "bkt recompute --activate"`
      : `no active parameter sets${filter} in ${result.db}`;
    return wrapText([why, inactiveNote ? `${inactiveNote}; "bkt params activate ID" makes one active` : null].filter(Boolean).join('\n'), view.width);
  }
  const table = await renderTable(withoutEmptyLabels(PARAMS_COLUMNS, result.params), result.params, { ...view, noun: 'parameter sets' });
  return [table, inactiveNote ? wrapText(inactiveNote, view.width) : null].filter(Boolean).join('\n');
}

/** `bkt recompute`: the run, its counts, and each concept that got no new parameters. */
export async function renderRecompute(result: RecomputeResult, view: TableView = {}): Promise<string> {
  const s = result.summary;
  const listed = [
    ...Object.entries(s.errors).map(([concept_id, reason]) => ({ concept_id, outcome: 'error', reason })),
    ...Object.entries(s.refusals).map(([concept_id, reason]) => ({ concept_id, outcome: 'refused', reason })),
    ...Object.entries(s.kept_active).map(([concept_id, reason]) => ({ concept_id, outcome: 'kept active', reason })),
  ];
  const columns = withoutEmptyLabels<{ concept_id: string; outcome: string; reason: string }>(
    [
      idColumn('concept_id', (e) => e.concept_id),
      { header: 'concept_label', value: (e) => result.concept_labels[e.concept_id] ?? null },
      { header: 'outcome', value: (e) => e.outcome },
      { header: 'why', value: (e) => e.reason, shrinkTo: 20 },
    ],
    listed,
  );
  if (view.csv) return renderTable(columns, listed, view);
  const lines = [
    `run ${result.run_id} (${result.algo.key} ${result.algo.version}): ${result.outcome.status}${result.dry_run ? ' [dry run: no parameters written]' : ''}`,
    `concepts processed ${s.concepts_processed}: parameter rows written ${s.params_fitted} (${s.activated} activated), ` +
      `skipped ${Object.keys(s.skipped_concepts).length} (too little data), kept active ${Object.keys(s.kept_active).length}, ` +
      `refused ${s.refused.length}, errors ${Object.keys(s.errors).length}`,
    `skipped answers: ${s.skipped.unanswered ?? 0} unanswered, ${s.skipped.no_concept ?? 0} without a concept`,
    `seconds: read ${result.timings.read.toFixed(2)}, fit ${result.timings.fit.toFixed(2)}, write ${result.timings.write.toFixed(2)}, total ${result.timings.total.toFixed(2)}`,
  ];
  if (s.concepts_processed === 0) lines.push('no concept had attempts to fit: check --concept-id, --from-date/--to-date, and that answers are SUBMITTED or EXPIRED');
  const text = wrapText(lines.join('\n'), view.width);
  return listed.length ? `${text}\n${await renderTable(columns, listed, { ...view, noun: 'concepts' })}` : text;
}

/** `bkt db check`: "matches the schema", or one line per difference. */
export function renderCheck(result: CheckResult): string {
  const lines = result.differences.length === 0 ? [`${result.db}: matches the schema`] : result.differences.map((d) => d.message);
  for (const r of result.abandoned_runs) lines.push(`run ${r.id} (started ${r.started_at}): closed as FAILED, ${r.error_message}`);
  return lines.join('\n');
}
