/** Human renderings of update and mastery results; `--json` prints the objects instead. */
import { withoutEmptyLabels } from './render-store.js';
import type { ConceptSummary, MasteryItem, MasteryResult } from '../mastery/query.js';
import type { UpdateCommandResult } from '../mastery/run-update.js';
import { renderTable, type TableColumn } from './table.js';
import type { TableView } from './view.js';

const f6 = (p: number): string => p.toFixed(6);

/** An id with its label in brackets, when the label says more than the id (a number does not: see withoutEmptyLabels). */
const named = (id: string, label: string | null | undefined): string => (label && !/^\d+$/.test(label) ? `${id} (${label})` : id);

export function renderUpdate(r: UpdateCommandResult): string {
  switch (r.mode) {
    case 'attempt': {
      if (r.outcome !== 'applied') {
        return `${r.outcome}: attempt ${r.attempt_key} not applied (${r.outcome === 'duplicate' ? 'already in the ledger' : `older than the state's last attempt`}); p_mastery ${f6(r.p_mastery_new)}, n_attempts ${r.n_attempts}`;
      }
      const change = r.mastery_change >= 0 ? `+${f6(r.mastery_change)}` : f6(r.mastery_change);
      const source = r.params_used.is_default ? 'default parameters' : `parameters ${r.params_used.params_id}`;
      return [
        `user ${named(r.user_id, r.user_label)} concept ${named(r.concept_id, r.concept_label)}: ${r.correct ? 'correct' : 'wrong'}`,
        `p_mastery ${f6(r.p_mastery_prior)} -> ${f6(r.p_mastery_new)} (${change}), n_attempts ${r.n_attempts}${r.is_mastered ? ', mastered' : ''}`,
        `${source}: L0 ${r.params_used.p_L0}, T ${r.params_used.p_T}, S ${r.params_used.p_S}, G ${r.params_used.p_G}${r.snapshot_created ? '; snapshot written' : ''}`,
      ].join('\n');
    }
    case 'batch': {
      const lines = [`${r.input}: applied ${r.applied}, duplicate ${r.duplicate}, stale ${r.stale}, rejected ${r.rejected.length} (${r.states} states, ${r.transactions} transactions)`];
      if (r.untimed.rule !== null) {
        const how = r.untimed.rule === 'growing-log' ? 'as a growing log (by position in the file)' : 'as a new batch (by position and the whole batch)';
        lines.push(`${r.untimed.rows} row${r.untimed.rows === 1 ? '' : 's'} without time or key identified ${how}`);
      }
      for (const x of r.rejected.slice(0, 20)) lines.push(`  line ${x.line}: ${x.reason}`);
      if (r.rejected.length > 20) lines.push(`  ... and ${r.rejected.length - 20} more (use --json for all)`);
      return lines.join('\n');
    }
    case 'session':
      return [
        `session ${r.session_id} (user ${named(r.user_id, r.user_label)}): applied ${r.applied}, duplicate ${r.duplicate}, stale ${r.stale}`,
        `skipped: ${r.skipped.unanswered.length} unanswered, ${r.skipped.no_concept.length} without a concept`,
      ].join('\n');
    case 'rebuild': {
      const lines = [`rebuilt ${r.states_rebuilt} states from ${r.attempts_replayed} attempts`];
      if (r.states_kept.length) {
        lines.push(`kept ${r.states_kept.length} states unchanged (their ledger cannot reproduce them):`);
        for (const k of r.states_kept.slice(0, 20)) lines.push(`  user ${named(k.user_id, k.user_label)} concept ${named(k.concept_id, k.concept_label)}: ${k.detail}`);
        if (r.states_kept.length > 20) lines.push(`  ... and ${r.states_kept.length - 20} more (use --json for all)`);
      }
      return lines.join('\n');
    }
  }
}

const column = <Row>(key: keyof Row & string, options: Partial<TableColumn<Row>> = {}): TableColumn<Row> => ({
  header: key,
  value: (row) => row[key] as string | number | boolean | null,
  ...options,
});
/** Rows as `bkt mastery` returns them: with the labels `bkt import` kept, where there are any. */
type LabelledState = MasteryItem & { user_label?: string | null; concept_label?: string | null };
type LabelledConcept = ConceptSummary & { concept_label?: string | null };
const STATE_COLUMNS: TableColumn<LabelledState>[] = [
  column('user_id', { shrinkTo: 13, id: true }),
  column('user_label'),
  column('concept_id', { shrinkTo: 13, id: true }),
  column('concept_label'),
  column('p_mastery', { align: 'right', format: (s) => f6(s.p_mastery) }),
  column('n_attempts', { align: 'right' }),
  column('last_attempt_at', { optional: true }),
  column('last_seen_question_id', { optional: true, shrinkTo: 13, id: true }),
  column('is_mastered', { format: (s) => (s.is_mastered ? 'yes' : 'no') }),
  column('updated_at', { optional: true }),
];
const CONCEPT_COLUMNS: TableColumn<LabelledConcept>[] = [
  column('concept_id', { shrinkTo: 13, id: true }),
  column('concept_label'),
  column('learners', { align: 'right' }),
  column('mean_mastery', { align: 'right', format: (c) => f6(c.mean_mastery) }),
  column('mastered', { align: 'right' }),
  column('share_mastered', { align: 'right', format: (c) => f6(c.share_mastered) }),
];

/**
 * `bkt mastery`: a user's states or the per-concept summary, as a table or CSV; an empty result
 * says why (`filtered`: the command narrowed the states with --concept-id, --mastered or --below).
 */
export async function renderMastery(r: MasteryResult, view: TableView = {}, filtered = false): Promise<string> {
  const rows = r.kind === 'states' ? r.states : r.concepts;
  if (rows.length === 0 && !view.csv) {
    const whose = r.kind === 'states' && r.user_id ? ` for user ${r.user_id}` : '';
    return filtered
      ? `no mastery states${whose} match --concept-id, --mastered or --below`
      : `no mastery states${whose} yet: states are written when attempts are applied ("bkt update")`;
  }
  if (r.kind === 'concepts') return renderTable(withoutEmptyLabels(CONCEPT_COLUMNS, r.concepts), r.concepts, { ...view, noun: 'concepts' });
  const stateColumns = withoutEmptyLabels(STATE_COLUMNS, r.states);
  // One learner's states: the learner is named once above the table instead of on every row.
  if (view.csv || !r.user_id) return renderTable(stateColumns, r.states, { ...view, noun: 'states' });
  const table = await renderTable(
    stateColumns.filter((c) => c.header !== 'user_id' && c.header !== 'user_label'),
    r.states,
    { ...view, noun: 'states' },
  );
  return `user ${named(r.user_id, (r.states[0] as LabelledState | undefined)?.user_label)}\n${table}`;
}
