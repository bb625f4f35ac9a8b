/**
 * Online mastery updates, the library API behind `bkt update` (and what a backend calls in
 * place of the seed's `/update` endpoint and session-submit hook).
 *
 * Every call runs in store transactions that lock each (user, concept) state it changes
 * (PostgreSQL: row lock; SQLite: the database write lock), so concurrent updaters lose nothing,
 * and records every attempt key in bkt_attempt_ledger, so applying the same attempts again never
 * double-counts. Rules: src/mastery/apply-core.ts and docs/operations.md.
 */
import { questionParams } from './question-params.js';
import { z } from 'zod';
import { TIME_RANGE_TEXT, timeInRange } from '../data/input-limits.js';
import { parseTimeString } from '../data/parse-values.js';
import { ScopeError, UsageError } from '../errors.js';
import { DEFAULT_MASTERY_THRESHOLD } from '../model/params.js';
import { traceUpdate, type UpdateTrace } from '../model/online-update.js';
import type { ResolvedParams, Store, StoreTransaction } from '../store/store.js';
import { applyToState, type CoreState, type CoreStep, type Outcome } from './apply-core.js';
import { hashAttemptKey, randomAttemptKey } from './attempt-key.js';
import type { BatchAttempt, Rejection } from './batch-input.js';
import { planBatches, type StateSlice } from './batch-plan.js';
import { assertUserAllowed, type Scope } from './scope.js';
import { applySlices, coreStateOf } from './batch-apply.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const uuidSchema = z.string().regex(UUID_RE, 'expected a UUID').transform((s) => s.toLowerCase());

/** One attempt of `applyAttempt`. */
export const singleAttemptSchema = z.object({
  userId: uuidSchema,
  conceptId: uuidSchema,
  correct: z.boolean(),
  questionId: uuidSchema.nullish(),
  /** When the answer was given (ISO-8601 or epoch ms); default: stamped when applied. */
  answeredAt: z.union([z.string(), z.number(), z.date()]).nullish(),
  /** Exactly-once key; default: a hash of the attempt when it has a time, else a fresh random key. */
  attemptKey: z.string().min(1).max(200).nullish(),
});
/** One attempt as `applyAttempt` takes it (ids as UUIDs; time and key optional). */
export type SingleAttempt = z.input<typeof singleAttemptSchema>;

/** The parameters an update used and where they came from (active fit, algo_params defaults, or built-in). */
export interface ParamsUsed {
  p_L0: number;
  p_T: number;
  p_S: number;
  p_G: number;
  concept_id: string;
  params_id: string | null;
  algo_version_id: string | null;
  is_default: boolean;
}

/** The seed's update response, plus the exactly-once outcome. */
export interface UpdateResult {
  user_id: string;
  concept_id: string;
  question_id: string | null;
  correct: boolean;
  p_mastery_prior: number;
  p_mastery_new: number;
  mastery_change: number;
  n_attempts: number;
  is_mastered: boolean;
  params_used: ParamsUsed;
  bkt_metadata: UpdateTrace | null;
  snapshot_created: boolean;
  outcome: Outcome;
  attempt_key: string;
  answered_at: string;
}

/** Options of `applyAttempt`. */
export interface ApplyOptions {
  /** Write a mastery_snapshot row after an applied update (default false). */
  snapshot?: boolean;
  /** is_mastered threshold (default 0.95). */
  threshold?: number;
}

function toMs(value: string | number | Date | null | undefined, what: string): number | null {
  if (value === null || value === undefined) return null;
  // The readers' one time parser and range, so `--at` accepts exactly what a file's time column does.
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : parseTimeString(value);
  if (!timeInRange(ms)) {
    throw new UsageError(`${what} "${String(value)}" is not a time ${TIME_RANGE_TEXT}`, 'Give an ISO-8601 time such as 2026-01-21T12:00:00Z');
  }
  return ms;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function paramsUsed(conceptId: string, r: ResolvedParams): ParamsUsed {
  return {
    p_L0: r.params.p_L0,
    p_T: r.params.p_T,
    p_S: r.params.p_S,
    p_G: r.params.p_G,
    concept_id: conceptId,
    params_id: r.params_id,
    algo_version_id: r.algo_version_id,
    is_default: r.is_default,
  };
}

/**
 * An attempt checked and keyed, ready to apply (ids canonical, time in epoch ms or null = stamp
 * when applied): a batch's attempt without its place in an input file.
 */
export type PreparedAttempt = Omit<BatchAttempt, 'line' | 'positional'>;

/**
 * The checks of `applyAttempt` that need no database: the attempt's fields, the caller's scope,
 * the time, and the exactly-once key (given, a hash of a timed attempt, or fresh for an untimed
 * one). Throws UsageError or ScopeError.
 */
export function prepareAttempt(scope: Scope, attempt: SingleAttempt): PreparedAttempt {
  const parsed = singleAttemptSchema.safeParse(attempt);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`attempt ${issue.path.join('.')}: ${issue.message}`, 'Check the update flags');
  }
  const a = parsed.data;
  assertUserAllowed(scope, a.userId, 'update mastery for');
  const answeredAt = toMs(a.answeredAt, '`answeredAt`');
  const questionId = a.questionId ?? null;
  const identity = { userId: a.userId, conceptId: a.conceptId, questionId, correct: a.correct, answeredAt };
  const attemptKey = a.attemptKey ?? (answeredAt === null ? randomAttemptKey() : hashAttemptKey(identity));
  return { userId: a.userId, conceptId: a.conceptId, questionId, correct: a.correct, answeredAt, attemptKey };
}

/** The response of one applied (or duplicate, or stale) attempt: its step, and the parameters it used. */
export function updateResultOf(a: PreparedAttempt, step: CoreStep, resolved: ResolvedParams, options: ApplyOptions, snapshotCreated: boolean): UpdateResult {
  const threshold = options.threshold ?? DEFAULT_MASTERY_THRESHOLD;
  const forQuestion = questionParams(resolved);
  return {
    user_id: a.userId,
    concept_id: a.conceptId,
    question_id: a.questionId,
    correct: a.correct,
    p_mastery_prior: step.pPrior,
    p_mastery_new: step.pNew,
    mastery_change: step.pNew - step.pPrior,
    n_attempts: step.nAttempts,
    is_mastered: step.pNew >= threshold,
    params_used: paramsUsed(a.conceptId, resolved),
    bkt_metadata: step.outcome === 'applied' ? traceUpdate(step.pPrior, a.correct, forQuestion ? forQuestion(a.questionId) : resolved.params) : null,
    snapshot_created: snapshotCreated,
    outcome: step.outcome,
    attempt_key: a.attemptKey,
    answered_at: iso(step.answeredAt),
  };
}

/**
 * Apply one attempt to its (user, concept) state in one transaction. Returns the seed's response
 * fields with `outcome` applied | duplicate | stale (duplicate and stale change nothing).
 * Throws ScopeError when a learner scope names another user, UsageError for a bad id or time,
 * NotFoundError (exit 4) when the user does not exist in users.
 * Many concurrent callers (a service) share transactions through an UpdateCommitter instead.
 */
export async function applyAttempt(store: Store, scope: Scope, attempt: SingleAttempt, options: ApplyOptions = {}): Promise<UpdateResult> {
  const a = prepareAttempt(scope, attempt);
  return store.withStateLock(a.userId, a.conceptId, async (row, tx) => {
    const resolved = await tx.resolveParams(a.conceptId);
    const before = coreStateOf(row);
    const { state, steps } = await applyToState(
      before,
      [{ attemptKey: a.attemptKey, correct: a.correct, questionId: a.questionId, answeredAt: a.answeredAt }],
      resolved.params,
      Date.now(),
      (key, at, x) => tx.recordAttempt(a.userId, a.conceptId, key, iso(at), { correct: x.correct, questionId: x.questionId }),
      questionParams(resolved),
    );
    const step = steps[0];
    await saveState(tx, a.userId, a.conceptId, state, before, resolved);
    let snapshotCreated = false;
    if (options.snapshot && step.outcome === 'applied' && state) {
      await tx.insertSnapshot({ user_id: a.userId, concept_id: a.conceptId, p_mastery: state.pMastery, n_attempts: state.nAttempts, algo_version_id: resolved.algo_version_id });
      snapshotCreated = true;
    }
    return updateResultOf(a, step, resolved, options, snapshotCreated);
  });
}

/**
 * Write the state back when an attempt was applied. A locked state that received nothing is
 * left alone (the store removes the placeholder row PostgreSQL's lock inserted).
 */
async function saveState(tx: StoreTransaction, userId: string, conceptId: string, state: CoreState | null, before: CoreState | null, resolved: ResolvedParams): Promise<void> {
  if (!state || (before !== null && state.nAttempts === before.nAttempts)) return;
  await tx.upsertState({
    user_id: userId,
    concept_id: conceptId,
    p_mastery: state.pMastery,
    n_attempts: state.nAttempts,
    last_attempt_at: state.lastAttemptAt === null ? null : iso(state.lastAttemptAt),
    last_seen_question_id: state.lastSeenQuestionId,
    algo_version_id: resolved.algo_version_id,
  });
}

// ------------------------------------------------------------------------------ batch

export const applyBatchOptionsSchema = z.object({
  /** Attempts per transaction (default 1000). */
  batchSize: z.number().int().min(1).max(1_000_000).default(1000),
  /** Stop at the first rejected row or missing user (default false: reject it and go on). */
  failFast: z.boolean().default(false),
});
/** Options of `applyBatch`. */
export type ApplyBatchOptions = z.input<typeof applyBatchOptionsSchema> & {
  /** Called after each transaction with attempts done so far and the total. */
  onProgress?: (done: number, total: number) => void;
};

/** What `applyBatch` did: attempts applied, duplicate, stale and rejected (with lines), states touched, transactions. */
export interface BatchSummary {
  applied: number;
  duplicate: number;
  stale: number;
  rejected: Rejection[];
  /** States touched (distinct user, concept). */
  states: number;
  transactions: number;
}

/**
 * Apply a batch: per (user, concept) state in time order, in transactions of `batchSize`
 * attempts. Rows already rejected by the reader are passed in `rejected` and reported with
 * the rest. A row of another user in a learner scope, or of a user missing from users, is
 * rejected with its line (failFast: thrown). Re-running the same batch applies nothing.
 */
export async function applyBatch(
  store: Store,
  scope: Scope,
  input: { attempts: readonly BatchAttempt[]; rejected?: readonly Rejection[] },
  options: ApplyBatchOptions = {},
): Promise<BatchSummary> {
  const opts = applyBatchOptionsSchema.parse({ batchSize: options.batchSize, failFast: options.failFast });
  const rejected: Rejection[] = [...(input.rejected ?? [])];
  let attempts = input.attempts;
  if (scope.kind === 'learner') {
    attempts = attempts.filter((a) => {
      if (a.userId === scope.userId) return true;
      if (opts.failFast) assertUserAllowed(scope, a.userId, 'update mastery for');
      rejected.push({ line: a.line, reason: `learner scope ${scope.userId} cannot update mastery for user ${a.userId}` });
      return false;
    });
  }
  const plan = planBatches(attempts, opts.batchSize);
  const summary: BatchSummary = { applied: 0, duplicate: 0, stale: 0, rejected, states: 0, transactions: 0 };
  summary.states = await applyPlan(store, plan, opts.failFast, summary, options.onProgress, attempts.length);
  summary.rejected.sort((x, y) => x.line - y.line);
  return summary;
}

/** Each planned transaction through the set-based path (batch-apply.ts): a fixed number of statements per transaction. */
async function applyPlan(
  store: Store,
  plan: StateSlice[][],
  failFast: boolean,
  summary: BatchSummary,
  onProgress: ((done: number, total: number) => void) | undefined,
  total: number,
): Promise<number> {
  const paramsByConcept = new Map<string, ResolvedParams>();
  const touched = new Set<string>();
  let done = 0;
  for (const slices of plan) {
    for (const s of slices) if (!paramsByConcept.has(s.conceptId)) paramsByConcept.set(s.conceptId, await store.resolveParams(s.conceptId));
    const rejectedHere: Rejection[] = [];
    const counts = await store.withWriteTransaction((tx) => applySlices(tx, slices, (c) => paramsByConcept.get(c)!, Date.now(), rejectedHere, failFast));
    summary.rejected.push(...rejectedHere);
    summary.applied += counts.applied;
    summary.duplicate += counts.duplicate;
    summary.stale += counts.stale;
    summary.transactions += 1;
    const rejectedLines = new Set(rejectedHere.map((r) => r.line));
    for (const s of slices) if (!s.attempts.some((a) => rejectedLines.has(a.line))) touched.add(`${s.userId}|${s.conceptId}`);
    done += slices.reduce((n, s) => n + s.attempts.length, 0);
    onProgress?.(done, total);
  }
  return touched.size;
}

export { ScopeError };
