/**
 * Human renderings of update and mastery results (tables only on a TTY-like output; plain
 * borders when piped, since cli-table3 would print colour codes).
 */
import { csvField } from '../export/writers.js';
import type { MasteryResult } from './query.js';
import type { UpdateCommandResult } from './run-update.js';

const f6 = (p: number): string => p.toFixed(6);

export function renderUpdate(r: UpdateCommandResult): string {
  switch (r.mode) {
    case 'attempt': {
      if (r.outcome !== 'applied') {
        return `${r.outcome}: attempt ${r.attempt_key} not applied (${r.outcome === 'duplicate' ? 'already in the ledger' : `older than the state's last attempt`}); p_mastery ${f6(r.p_mastery_new)}, n_attempts ${r.n_attempts}`;
      }
      const change = r.mastery_change >= 0 ? `+${f6(r.mastery_change)}` : f6(r.mastery_change);
      const source = r.params_used.is_default ? 'default parameters' : `parameters ${r.params_used.params_id}`;
      return [
        `user ${r.user_id} concept ${r.concept_id}: ${r.correct ? 'correct' : 'wrong'}`,
        `p_mastery ${f6(r.p_mastery_prior)} -> ${f6(r.p_mastery_new)} (${change}), n_attempts ${r.n_attempts}${r.is_mastered ? ', mastered' : ''}`,
        `${source}: L0 ${r.params_used.p_L0}, T ${r.params_used.p_T}, S ${r.params_used.p_S}, G ${r.params_used.p_G}${r.snapshot_created ? '; snapshot written' : ''}`,
      ].join('\n');
    }
    case 'batch': {
      const lines = [`${r.input}: applied ${r.applied}, duplicate ${r.duplicate}, stale ${r.stale}, rejected ${r.rejected.length} (${r.states} states, ${r.transactions} transactions)`];
      for (const x of r.rejected.slice(0, 20)) lines.push(`  line ${x.line}: ${x.reason}`);
      if (r.rejected.length > 20) lines.push(`  ... and ${r.rejected.length - 20} more (use --json for all)`);
      return lines.join('\n');
    }
    case 'session':
      return [
        `session ${r.session_id} (user ${r.user_id}): applied ${r.applied}, duplicate ${r.duplicate}, stale ${r.stale}`,
        `skipped: ${r.skipped.unanswered.length} unanswered, ${r.skipped.no_concept.length} without a concept`,
      ].join('\n');
    case 'rebuild': {
      const lines = [`rebuilt ${r.states_rebuilt} states from ${r.attempts_replayed} attempts`];
      if (r.states_kept.length) {
        lines.push(`kept ${r.states_kept.length} states unchanged (their ledger cannot reproduce them):`);
        for (const k of r.states_kept.slice(0, 20)) lines.push(`  user ${k.user_id} concept ${k.concept_id}: ${k.detail}`);
        if (r.states_kept.length > 20) lines.push(`  ... and ${r.states_kept.length - 20} more (use --json for all)`);
      }
      return lines.join('\n');
    }
  }
}

const STATE_HEADER = ['user_id', 'concept_id', 'p_mastery', 'n_attempts', 'last_attempt_at', 'last_seen_question_id', 'is_mastered', 'updated_at'] as const;
const CONCEPT_HEADER = ['concept_id', 'learners', 'mean_mastery', 'mastered', 'share_mastered'] as const;

export function renderMastery(r: MasteryResult, as: 'table' | 'csv'): string {
  const header: readonly string[] = r.kind === 'states' ? STATE_HEADER : CONCEPT_HEADER;
  const rows: unknown[][] =
    r.kind === 'states'
      ? r.states.map((s) => STATE_HEADER.map((k) => s[k]))
      : r.concepts.map((c) => CONCEPT_HEADER.map((k) => c[k]));
  if (as === 'csv') {
    return [header.join(','), ...rows.map((row) => row.map((v) => csvField(v === null ? '' : String(v))).join(','))].join('\n') + '\n';
  }
  if (rows.length === 0) return r.kind === 'states' ? `no mastery states for user ${r.user_id}\n` : 'no mastery states\n';
  const fmt = (v: unknown): string => (typeof v === 'number' && !Number.isInteger(v) ? f6(v) : v === null ? '' : String(v));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => fmt(row[i]).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line([...header]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((row) => line(row.map(fmt)))].join('\n') + '\n';
}
