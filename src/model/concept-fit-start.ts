/**
 * Where every fit of a concept starts, standard or variant: an empty result, or a skip when the
 * concept has fewer than `minAttempts` attempts or `minUsers` learners (never fitted, the reason
 * given). Kept apart so that both fits share one rule without importing each other.
 */
import type { AttemptsTable } from '../data/attempts-table.js';
import type { ConceptFitResult } from './fit-types.js';

/** Concept index `c`'s starting result: status `fitted` with nothing filled in yet, or `skipped` with the reason. */
export function conceptFitStart(table: AttemptsTable, c: number, minAttempts: number, minUsers: number): ConceptFitResult {
  const firstSequence = table.conceptSequenceStart[c];
  const lastSequence = table.conceptSequenceStart[c + 1];
  const nAttempts = table.sequenceStart[lastSequence] - table.sequenceStart[firstSequence];
  const nUsers = lastSequence - firstSequence;
  const result = emptyConceptResult(table.conceptIds[c], nAttempts, nUsers);
  if (nAttempts < minAttempts) return { ...result, status: 'skipped', reason: `${nAttempts} attempts < --min-attempts ${minAttempts}` };
  if (nUsers < minUsers) return { ...result, status: 'skipped', reason: `${nUsers} learners < --min-users ${minUsers}` };
  return result;
}

/** A concept's result with nothing fitted yet (status `fitted`, every figure null): callers set status and reason. */
export function emptyConceptResult(conceptId: string, nAttempts: number, nUsers: number): ConceptFitResult {
  return {
    concept_id: conceptId,
    status: 'fitted',
    reason: null,
    params: null,
    log_likelihood: null,
    iterations: null,
    converged: null,
    n_attempts: nAttempts,
    n_users: nUsers,
    metrics: null,
    valid: null,
    degenerate: null,
    violations: [],
    warnings: [],
    restarts: [],
    warm_start: null,
  };
}
