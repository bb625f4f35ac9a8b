/**
 * The Store: bkt's domain operations on the app's database, whatever the backend.
 *
 * This file holds the interface and its row types only; `openStore` (src/store/open-store.ts) picks
 * the backend. Both backends implement it with the same SQL where the databases agree and a
 * dialect object where they differ (src/store/sql-store.ts and the modules it composes,
 * src/store/<db>/<db>-dialect.ts).
 *
 * Guarantees every method keeps (the contract suite test/store/contract.test.ts checks them on both):
 * - every write is one transaction: after a throw the database is exactly as it was;
 * - timestamps come back as ISO-8601 UTC strings with milliseconds (`2026-01-21T12:00:00.000Z`),
 *   uuids lower-case, JSON columns as parsed objects, booleans as booleans;
 * - a connection failure is a StorageError (exit 5) with the password redacted.
 */
import type { VariantModel } from '../model/variants/variant-model.js';
import type { AttemptsTable } from '../data/attempts-table.js';
import type { BktParams } from '../model/params.js';
import type { SchemaDifference } from './schema.js';

export const BKT_ALGO_KEY = 'bkt';
export const BKT_ALGO_VERSION = 'v1';

/** Built-in algo_params.params_json written when bkt creates the row itself (schema.md). */
export const BUILTIN_ALGO_PARAMS_JSON = Object.freeze({
  default_L0: 0.1,
  default_T: 0.2,
  default_S: 0.1,
  default_G: 0.2,
  mastery_threshold: 0.95,
  min_attempts_for_fit: 10,
  constraints: { L0_min: 0.001, L0_max: 0.5, T_min: 0.001, T_max: 0.5, S_min: 0.001, S_max: 0.4, G_min: 0.001, G_max: 0.4 },
});

/** The two backends: SQLite (better-sqlite3) and PostgreSQL (pg). */
export type BackendName = 'sqlite' | 'postgres';

/** Where `--db` points, parsed. `display` is safe to print (password redacted). */
export interface DbTarget {
  backend: BackendName;
  /** File path (sqlite) or connection URL (postgres). */
  location: string;
  display: string;
}

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /**
   * `use` (default): the SQLite file must exist and hold bkt's tables, else StorageError naming
   * `bkt db migrate`. `migrate`: create the file; tables are created by `migrate()`.
   * `inspect`: the database must exist, its tables may not (`bkt db check`).
   */
  mode?: 'use' | 'migrate' | 'inspect';
  /** PostgreSQL: most connections the pool opens (default 4); a long-running service wants more. SQLite ignores it. */
  poolSize?: number;
}

// ---------------------------------------------------------------- rows

/** A bkt_skill_params row: one fitted parameter set of a concept. */
export interface SkillParamsRow {
  id: string;
  concept_id: string;
  algo_version_id: string;
  p_L0: number;
  p_T: number;
  p_S: number;
  p_G: number;
  constraints_applied: Record<string, unknown>;
  fitted_at: string;
  fitted_on_data_from: string | null;
  fitted_on_data_to: string | null;
  metrics: Record<string, unknown>;
  is_active: boolean;
  created_at: string;
  updated_at: string;
}

/** A user_skill_state row: one learner's mastery of one concept. */
export interface UserSkillStateRow {
  user_id: string;
  concept_id: string;
  p_mastery: number;
  n_attempts: number;
  last_attempt_at: string | null;
  last_seen_question_id: string | null;
  algo_version_id: string | null;
  created_at: string;
  updated_at: string;
}

/** A mastery_snapshot row. */
export interface SnapshotRow {
  id: string;
  user_id: string;
  concept_id: string;
  p_mastery: number;
  n_attempts: number;
  algo_version_id: string | null;
  created_at: string;
}

/** What started an algo_runs row. */
export type RunTrigger = 'manual' | 'submit' | 'nightly' | 'cron' | 'api';
/** Every RunTrigger. */
export const RUN_TRIGGERS = ['manual', 'submit', 'nightly', 'cron', 'api'] as const;
/** An algo_runs row's status. */
export type RunStatus = 'RUNNING' | 'SUCCESS' | 'FAILED';

/** An algo_runs row (fits, recomputes, updates). */
export interface RunRow {
  id: string;
  algo_version_id: string;
  params_id: string;
  user_id: string | null;
  session_id: string | null;
  trigger: string;
  status: RunStatus;
  started_at: string;
  completed_at: string | null;
  input_summary_json: Record<string, unknown>;
  output_summary_json: Record<string, unknown>;
  error_message: string | null;
}

/** schema.md "Parameters when none are fitted": what the online update uses for a concept. */
export interface ResolvedParams {
  params: BktParams;
  /** The bkt_skill_params row used; null when a default was used. */
  params_id: string | null;
  algo_version_id: string | null;
  is_default: boolean;
  /** Which rule gave the values: the active fit, the algo_params defaults, or the built-in ones. */
  source: 'fitted' | 'algo_params' | 'builtin';
  /** A model-variant fit's class parameters (metrics.model); `params` then holds its concept-level values. */
  model?: VariantModel;
}

// ---------------------------------------------------------------- inputs

/** Which attempts `Store.readAttempts` reads from the app's tables. */
export interface ReadAttemptsFilter {
  /** Only these concepts (UUIDs; other ids are mapped as `bkt import` maps them). */
  conceptIds?: string[];
  /** Inclusive lower bound on session_answers.answered_at (ISO-8601 or anything Date parses). */
  fromDate?: string | null;
  /** Inclusive upper bound on answered_at. */
  toDate?: string | null;
  /** Use the app's fallback questions.concept_id (integer n -> UUID n) when the snapshot names no concept. */
  questionsFallback?: boolean;
  /**
   * Fill the table's question column from session_answers.question_id. Default false: fitting
   * does not use it, and a dictionary of one id per answer costs a third of the read time.
   */
  includeQuestions?: boolean;
}

/** Rows `Store.readAttempts` did not turn into attempts, by reason. */
export interface SkippedCounts {
  /** Answers with is_correct NULL (not attempts). */
  unanswered: number;
  /** Answered rows whose snapshot (and fallback, when asked) names no concept. */
  no_concept: number;
}

/** What `Store.readAttempts` returns. */
export interface ReadAttemptsResult {
  table: AttemptsTable;
  skipped: SkippedCounts;
  /** Answer rows read (before skipping); an answer naming k concepts counts once. */
  rows_read: number;
}

/** What `Store.importAttempts` wrote. */
export interface ImportResult {
  /** True when this exact content was imported before: nothing was written. */
  already_imported: boolean;
  batch_id: string;
  users: number;
  sessions: number;
  answers: number;
  /** Concept and learner ids of the file that were not UUIDs, kept as labels (bkt_labels). */
  labels: number;
}

/** What a label names: a concept or a learner (bkt_labels.kind). */
export type LabelKind = 'concept' | 'user';

/** How `Store.saveParams` writes a parameter set. */
export interface SaveParamsOptions {
  activate: boolean;
  /** Defaults to bkt v1's id. */
  algoVersionId?: string;
  /** The bounds used, stored as constraints_applied ({L0_min, ...}). */
  constraints: Record<string, unknown>;
  dataFrom?: string | null;
  dataTo?: string | null;
  metrics: Record<string, unknown>;
  /**
   * Also set this run's output_summary_json in the same transaction, so a run row killed midway
   * says exactly which concepts were written (recompute).
   */
  runProgress?: { runId: string; outputSummary: Record<string, unknown> };
}

/** The parameter set `Store.saveParams` writes. */
export interface SaveParamsInput {
  /** The new row's id; default a fresh UUID v4. */
  id?: string;
  concept_id: string;
  params: Pick<BktParams, 'p_L0' | 'p_T' | 'p_S' | 'p_G'>;
}

/** Which parameter rows `Store.listParams` returns. */
export interface ListParamsFilter {
  conceptIds?: string[];
  /** Include inactive (past) rows; otherwise active rows only. */
  all?: boolean;
}

/**
 * The streams' `labels` option: with it, each row also carries the labels `bkt import` kept
 * (bkt_labels), read in the same statement: `concept_label`, and `user_label` where the row has
 * a user_id (null where the id has none).
 */
export interface LabelOption {
  labels?: boolean;
}

/** The label fields of a row streamed with `labels: true` (absent otherwise). */
export interface RowLabels {
  concept_label?: string | null;
  user_label?: string | null;
}

/** A new algo_runs row (`Store.startRun`). */
export interface StartRunInput {
  trigger: RunTrigger;
  input_summary: Record<string, unknown>;
  user_id?: string | null;
  session_id?: string | null;
}

/** How `Store.finishRun` closes a run. */
export interface FinishRunInput {
  status: 'SUCCESS' | 'FAILED';
  output_summary: Record<string, unknown>;
  error_message?: string | null;
  /** Replace input_summary_json too (what was learnt after the start, e.g. concept_count). */
  input_summary?: Record<string, unknown>;
}

/** Which state rows `Store.listStates` returns. */
export interface StateFilter {
  userId?: string;
  conceptIds?: string[];
  /** p_mastery >= this. */
  minMastery?: number;
  /** p_mastery < this. */
  belowMastery?: number;
}

/** Which snapshot rows `Store.streamSnapshots` returns. */
export interface SnapshotFilter {
  userId?: string;
  conceptIds?: string[];
}

/** Which runs `Store.streamRuns` returns. */
export interface RunFilter {
  status?: RunStatus;
}

/** A new mastery_snapshot row. */
export interface SnapshotInput {
  user_id: string;
  concept_id: string;
  p_mastery: number;
  n_attempts: number;
  algo_version_id: string | null;
  /** Defaults to now. */
  created_at?: string;
}

/** The writable fields of a state; created_at is kept on update, updated_at set to now. */
export type StateInput = Omit<UserSkillStateRow, 'created_at' | 'updated_at'>;

/** What the ledger stores of an attempt besides its key and time. */
export interface AttemptOutcome {
  correct: boolean;
  questionId: string | null;
}

/** One bkt_attempt_ledger row of a state. */
export interface LedgerRow {
  attempt_key: string;
  answered_at: string | null;
  applied_at: string;
  /** NULL in rows written by a bkt from before outcomes were stored: such a row cannot be replayed. */
  correct: boolean | null;
  question_id: string | null;
}

/** A (user, concept) mastery state's identity; ids as the Store takes them (user a UUID, concept mapped like `bkt import`). */
export interface StateKey {
  userId: string;
  conceptId: string;
}

/** The map key of a state in LockedStates and the sets below: `user_id|concept_id`, both lower-case UUIDs. */
export function stateKeyOf(userId: string, conceptId: string): string {
  return `${userId}|${conceptId}`;
}

/** A state row as `StoreTransaction.lockStates` returns it (its timestamps of creation and update left out). */
export type LockedStateRow = Omit<UserSkillStateRow, 'created_at' | 'updated_at'>;

/** What `StoreTransaction.lockStates` found. */
export interface LockedStates {
  /**
   * The locked states that exist, by `stateKeyOf`. A state that does not exist yet is locked too
   * (see lockStates) but absent here.
   */
  rows: Map<string, LockedStateRow>;
  /** Users (lower-case) that are not in the users table: their states were not locked. */
  missingUsers: Set<string>;
  /** Of the attempt keys passed to lockStates, those the ledger holds for the locked states, as appliedAttemptKeys answers. */
  appliedKeys: Set<string>;
  /** resolveParamsMany of the `paramsConcepts` passed to lockStates (empty without them). */
  params: Map<string, ResolvedParams>;
}

/** One bkt_attempt_ledger row to write with `StoreTransaction.recordAttempts`. */
export interface LedgerInput {
  user_id: string;
  concept_id: string;
  attempt_key: string;
  /** The time the attempt was applied with (ISO-8601), or null. */
  answered_at: string | null;
  correct: boolean;
  question_id: string | null;
}

/** One answered (or unanswered) question of a session, as `Store.readSession` returns it. */
export interface SessionAnswer {
  /** session_answers.id: the attempt's exactly-once key. */
  answerId: string;
  sessionId: string;
  userId: string;
  status: string;
  questionId: string;
  position: number | null;
  /** null = unanswered (not an attempt). */
  correct: boolean | null;
  /** Epoch ms: answered_at, else the session's submitted_at, else null. */
  time: number | null;
  /** Concepts from snapshot_json.concept_id and .concept_ids (distinct; UUIDs lower-cased), as readAttempts reads them. */
  concepts: string[];
}

/** A session with its owner, status and every answer, ordered by time, then position, then answer id. */
export interface SessionRead {
  userId: string;
  status: string;
  answers: SessionAnswer[];
}

/** A RUNNING run whose process was found gone, and closed FAILED by `Store.closeAbandonedRuns`. */
export interface AbandonedRun {
  id: string;
  started_at: string;
  /** When it was found and closed (the row's completed_at). */
  found_at: string;
  /** The error_message written: "abandoned: ..." naming the owner and who found it. */
  error_message: string;
}

/**
 * Operations inside one write transaction (`Store.withWriteTransaction`). Everything done through
 * it commits together or not at all. Do not keep it after the callback returns.
 */
export interface StoreTransaction {
  /**
   * Lock the (user, concept) state row for the rest of the transaction and return it, or null when
   * the state does not exist yet. PostgreSQL: INSERT ... ON CONFLICT DO NOTHING of a placeholder
   * row (n_attempts 0), then SELECT ... FOR UPDATE, so a second process blocks here until this
   * transaction ends. A placeholder the callback never upserts is deleted before commit, so a
   * lock alone leaves no row. SQLite: a plain SELECT; the transaction began with BEGIN IMMEDIATE,
   * which already holds the database's single write lock (Dialect.placeholderLocks).
   * The user must exist in users (foreign key): otherwise NotFoundError (exit 4).
   * Lock several states in a fixed order (user, then concept) to avoid deadlocks on PostgreSQL.
   */
  lockState(userId: string, conceptId: string): Promise<UserSkillStateRow | null>;
  /**
   * lockState for many states in a fixed number of statements: the placeholders of new states in
   * multi-row inserts, then one SELECT of every state in (user, concept) order (FOR UPDATE on
   * PostgreSQL). States of users missing from users are not locked and their users are listed
   * (no error). Pass the keys in (user, concept) order across transactions to avoid deadlocks.
   * With `attemptKeys`, also answers appliedAttemptKeys for the locked states (`appliedKeys`),
   * read after the locks in the same round trip as them on PostgreSQL. With `paramsConcepts`,
   * also resolveParamsMany of them (`params`), read in that round trip too, before the locks.
   */
  lockStates(keys: readonly StateKey[], attemptKeys?: readonly string[], paramsConcepts?: readonly string[]): Promise<LockedStates>;
  /**
   * Which of `attemptKeys` the ledger already holds for the locked states `keys`, as
   * `stateKeyOf(user, concept) + '|' + attempt_key`. With the states locked, the answer holds
   * until commit, so `recordAttempts` may then write the others without a conflict check.
   */
  appliedAttemptKeys(keys: readonly StateKey[], attemptKeys: readonly string[]): Promise<Set<string>>;
  /**
   * Write new ledger rows in bulk: up to a few hundred in one insert that goes with the commit
   * (TransactionExecutor.deferUntilCommit), more with PostgreSQL's COPY. Each key must be new: see
   * appliedAttemptKeys.
   */
  recordAttempts(rows: readonly LedgerInput[]): Promise<void>;
  /**
   * Record that `attemptKey` was applied to (user, concept), with the attempt's outcome (stored in
   * the ledger so `bkt update --rebuild` can replay it; omitted, the row's correct is NULL and the
   * state cannot be rebuilt). Returns true when the key is new (apply the attempt), false when it
   * was applied before (a duplicate: skip it, nothing is written).
   */
  recordAttempt(userId: string, conceptId: string, attemptKey: string, answeredAt: string | null, outcome?: AttemptOutcome): Promise<boolean>;
  /** The (user, concept)'s ledger rows in commit order (answered_at, applied_at, attempt_key). Lock the state first. */
  readLedger(userId: string, conceptId: string): Promise<LedgerRow[]>;
  /** Insert or update the state row (created_at kept, updated_at = now). */
  upsertState(state: StateInput): Promise<void>;
  /** upsertState for many states in multi-row statements; when a state appears twice the last one wins. */
  upsertStates(states: readonly StateInput[]): Promise<void>;
  /** Append one mastery_snapshot row; returns its id. */
  insertSnapshot(snapshot: SnapshotInput): Promise<string>;
  /**
   * Append mastery_snapshot rows, in multi-row inserts that go with the commit
   * (TransactionExecutor.deferUntilCommit: nothing in the transaction reads them back); returns
   * their ids in order.
   */
  insertSnapshots(snapshots: readonly SnapshotInput[]): Promise<string[]>;
  /** schema.md parameter resolution, read inside the transaction. */
  resolveParams(conceptId: string): Promise<ResolvedParams>;
  /**
   * resolveParams for many concepts in at most two statements (not one round trip per concept),
   * keyed by the concept's canonical id (a UUID lower-cased, as `bkt import` maps other ids).
   */
  resolveParamsMany(conceptIds: readonly string[]): Promise<Map<string, ResolvedParams>>;
  /**
   * resolveParamsMany, and which of `userIds` are not in users (lower-case), read together: one
   * round trip on PostgreSQL, with BEGIN when it is the transaction's first. A later lockStates
   * of these users takes this answer instead of checking them again.
   */
  resolveParamsAndUsers(conceptIds: readonly string[], userIds: readonly string[]): Promise<{ params: Map<string, ResolvedParams>; missingUsers: Set<string> }>;
}

/** bkt's domain operations on one database (see the module comment for the guarantees); get one with `openStore`. */
export interface Store {
  readonly backend: BackendName;
  /** The --db target with any password redacted. */
  readonly display: string;

  // schema
  /** Create every missing enum, table and index of schema.md in one transaction and seed bkt v1. Idempotent. */
  migrate(): Promise<{ created: string[] }>;
  /** Compare the live tables with schema.md; an empty list means they match. */
  check(): Promise<SchemaDifference[]>;

  // attempts
  /** Load an attempts table into users/test_sessions/session_questions/session_answers (one transaction). */
  importAttempts(table: AttemptsTable): Promise<ImportResult>;
  /**
   * The labels `bkt import` kept for ids that were not UUIDs (bkt_labels), by lower-case UUID:
   * of `ids` (any spelling import maps), or all of `kind`. Empty on a database migrated before
   * labels existed.
   */
  labels(kind: LabelKind, ids?: readonly string[]): Promise<Map<string, string>>;
  /** schema.md "Attempts from the app's tables", as the same AttemptsTable the file readers produce. */
  readAttempts(filter?: ReadAttemptsFilter): Promise<ReadAttemptsResult>;

  // parameters
  /** Insert one fitted parameter set; with activate, deactivate the concept's active rows first (one transaction). */
  saveParams(input: SaveParamsInput, options: SaveParamsOptions): Promise<SkillParamsRow>;
  /** Make `paramsId` its concept's only active row (rollback); NotFoundError when it does not exist. */
  activateParams(paramsId: string): Promise<SkillParamsRow>;
  listParams(filter?: ListParamsFilter): Promise<SkillParamsRow[]>;
  getParams(paramsId: string): Promise<SkillParamsRow | null>;
  /** The concept's active row with the latest fitted_at, or null. */
  getActiveParams(conceptId: string): Promise<SkillParamsRow | null>;
  resolveParams(conceptId: string): Promise<ResolvedParams>;
  /** bkt v1's algo_versions.id and its active algo_params.id (null when absent). */
  algoVersion(): Promise<{ algo_version_id: string; algo_params_id: string | null; key: string; version: string } | null>;
  /** bkt v1's active algo_params row (latest created_at, then id) with its params_json, or null. */
  activeAlgoParams(): Promise<{ id: string; params_json: Record<string, unknown> } | null>;

  // runs
  /** Insert a RUNNING algo_runs row and commit it at once; returns its id. */
  startRun(input: StartRunInput): Promise<string>;
  /** Close a run: status, completed_at = now, output summary, error message. */
  finishRun(runId: string, input: FinishRunInput): Promise<void>;
  /** Rewrite a RUNNING run's input/output summaries (progress), committed at once. */
  updateRun(runId: string, summaries: { input_summary?: Record<string, unknown>; output_summary?: Record<string, unknown> }): Promise<void>;
  getRun(runId: string): Promise<RunRow | null>;
  /**
   * Close every RUNNING run whose owner is gone as FAILED, completed_at = now, error_message
   * "abandoned: ...". The owner is recorded by startRun (input_summary_json.owner): on PostgreSQL
   * the run's process holds a session-level advisory lock until it closes the run or its
   * connection ends, so a run whose lock can be taken is abandoned; on SQLite the owner's pid and
   * host are recorded, and a run of this host whose process no longer exists (or is another
   * process with the same pid) is abandoned. Runs of other hosts (SQLite) and runs without an
   * owner (written by an older bkt) are left alone. `foundBy` names who looked (e.g. "bkt db check").
   */
  closeAbandonedRuns(foundBy: string): Promise<AbandonedRun[]>;

  // online mastery
  /** Run `fn` in one write transaction (PostgreSQL BEGIN; SQLite BEGIN IMMEDIATE). Rolled back if it throws. */
  withWriteTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T>;
  /** Lock one state row and run `fn` in the same transaction (see StoreTransaction.lockState). */
  withStateLock<T>(userId: string, conceptId: string, fn: (state: UserSkillStateRow | null, tx: StoreTransaction) => Promise<T>): Promise<T>;
  getState(userId: string, conceptId: string): Promise<UserSkillStateRow | null>;
  /** users.role of the user (as stored, e.g. STUDENT), or null when no such user (or not a UUID). */
  getUserRole(userId: string): Promise<string | null>;
  /** getUserRole for many users in one statement: roles by lower-case user id; users that do not exist (or ids that are not UUIDs) are absent. */
  getUserRoles(userIds: readonly string[]): Promise<Map<string, string>>;
  /** States ordered by p_mastery descending, then user_id, concept_id. */
  listStates(filter?: StateFilter): Promise<UserSkillStateRow[]>;
  /** Every state of each of `userIds` in one statement, by lower-case user id, each user's in listStates' order; users without states are absent. */
  listStatesOfUsers(userIds: readonly string[]): Promise<Map<string, UserSkillStateRow[]>>;
  /**
   * The states bkt holds attempts for, in lock order (user, then concept): pairs in the attempt
   * ledger whose user still exists, and states with n_attempts > 0 (`bkt update --rebuild`).
   */
  listTrackedStates(filter?: { userId?: string; conceptIds?: string[] }): Promise<StateKey[]>;
  /**
   * A session of the app's tables with every answer (`bkt update --session`); null when the
   * session does not exist. Concepts are read from each question's snapshot as readAttempts reads them.
   */
  readSession(sessionId: string): Promise<SessionRead | null>;

  /**
   * Tell the store that the reads that follow visit each row once (an export): SQLite shrinks
   * this connection's page cache and turns its memory map off, which the reads of a fit want but
   * a one-pass scan would only fill; PostgreSQL needs nothing (its cursors keep nothing here).
   */
  preferSinglePassReads(): Promise<void>;

  // constant-memory row streams for export (PostgreSQL: pg-query-stream; SQLite: stmt.iterate());
  // with `labels`, each row carries its labels, joined in the same statement (RowLabels)
  streamParams(filter?: ListParamsFilter & LabelOption): AsyncIterable<SkillParamsRow & RowLabels>;
  streamStates(filter?: StateFilter & LabelOption): AsyncIterable<UserSkillStateRow & RowLabels>;
  streamSnapshots(filter?: SnapshotFilter & LabelOption): AsyncIterable<SnapshotRow & RowLabels>;
  streamRuns(filter?: RunFilter): AsyncIterable<RunRow>;

  /** Row count of one of schema.md's tables (tests, summaries). */
  countRows(table: string): Promise<number>;
  close(): Promise<void>;
}
