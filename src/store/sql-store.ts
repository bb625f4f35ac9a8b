/**
 * The Store written once over a SqlDriver + Dialect (src/store/sql.ts), for both backends. SQL
 * text uses `?` placeholders and only the syntax SQLite and PostgreSQL share (ON CONFLICT, NULLS
 * LAST, window-free selects); every difference is a named field of the dialect. Each concern
 * lives in its own module; this class only composes them:
 * - migrate.ts: schema setup and check;
 * - attempts-import.ts and attempts-read.ts: the app's attempt tables in and out;
 * - params.ts: parameter sets, activation, resolution;
 * - runs.ts: the run log and abandoned runs;
 * - mastery-state.ts: the online-update transaction (one lock and upsert protocol) and state reads;
 * - row-codec.ts: rows decoded from schema.ts's column definitions.
 */
import type { AttemptsTable } from '../data/attempts-table.js';
import { UsageError } from '../errors.js';
import { importAttempts } from './attempts-import.js';
import { readAttempts, readSession, sessionJoinIndexed } from './attempts-read.js';
import { isUuid, toUuid } from './ids.js';
import { labelJoin, readLabels, withLabelsOf } from './labels.js';
import { SNAPSHOTS, STATES, getState, listTrackedStates, snapshotsQuery, statesQuery, withWriteTransaction } from './mastery-state.js';
import { check, migrate } from './migrate.js';
import { PARAMS, activeAlgoParamsIn, activateParams, activeParamsIn, algoVersionIn, getParams, listParams, paramsQuery, resolveParamsIn, saveParams, type AlgoVersion } from './params.js';
import { decodeNumber, requireUuid } from './row-codec.js';
import { RunLog } from './runs.js';
import { TABLES, type SchemaDifference } from './schema.js';
import type { Dialect, Row, SqlContext, SqlDriver } from './sql.js';
import type {
  AbandonedRun,
  BackendName,
  FinishRunInput,
  ImportResult,
  LabelKind,
  LabelOption,
  ListParamsFilter,
  ReadAttemptsFilter,
  ReadAttemptsResult,
  ResolvedParams,
  RunFilter,
  RowLabels,
  RunRow,
  SaveParamsInput,
  SaveParamsOptions,
  SessionRead,
  SkillParamsRow,
  SnapshotFilter,
  SnapshotRow,
  StartRunInput,
  StateFilter,
  StateKey,
  Store,
  StoreTransaction,
  UserSkillStateRow,
} from './store.js';

export class SqlStore implements Store, SqlContext {
  readonly backend: BackendName;
  readonly dialect: Dialect;
  private readonly runs: RunLog;

  constructor(
    /** The SQL driver underneath; only the store's modules (and tests, through sqlDriverOf) use it. */
    readonly driver: SqlDriver,
    readonly display: string,
  ) {
    this.dialect = driver.dialect;
    this.backend = driver.dialect.name;
    this.runs = new RunLog(this);
  }

  migrate(): Promise<{ created: string[] }> {
    return migrate(this);
  }

  check(): Promise<SchemaDifference[]> {
    return check(this);
  }

  importAttempts(table: AttemptsTable): Promise<ImportResult> {
    return importAttempts(this, table);
  }

  labels(kind: LabelKind, ids?: readonly string[]): Promise<Map<string, string>> {
    return readLabels(this, kind, ids);
  }

  readAttempts(filter?: ReadAttemptsFilter): Promise<ReadAttemptsResult> {
    return readAttempts(this, filter);
  }

  /** Whether the attempts read can merge-join answers to questions (see attempts-read.ts). */
  sessionJoinIndexed(): Promise<boolean> {
    return sessionJoinIndexed(this);
  }

  readSession(sessionId: string): Promise<SessionRead | null> {
    return readSession(this, requireUuid(sessionId, 'session id'));
  }

  saveParams(input: SaveParamsInput, options: SaveParamsOptions): Promise<SkillParamsRow> {
    return saveParams(this, input, options);
  }

  activateParams(paramsId: string): Promise<SkillParamsRow> {
    return activateParams(this, paramsId);
  }

  listParams(filter?: ListParamsFilter): Promise<SkillParamsRow[]> {
    return listParams(this, filter);
  }

  getParams(paramsId: string): Promise<SkillParamsRow | null> {
    return getParams(this, paramsId);
  }

  getActiveParams(conceptId: string): Promise<SkillParamsRow | null> {
    return activeParamsIn(this, this.driver, toUuid(conceptId));
  }

  resolveParams(conceptId: string): Promise<ResolvedParams> {
    return resolveParamsIn(this, this.driver, toUuid(conceptId));
  }

  algoVersion(): Promise<AlgoVersion | null> {
    return algoVersionIn(this, this.driver);
  }

  activeAlgoParams(): Promise<{ id: string; params_json: Record<string, unknown> } | null> {
    return activeAlgoParamsIn(this);
  }

  startRun(input: StartRunInput): Promise<string> {
    return this.runs.start(input);
  }

  finishRun(runId: string, input: FinishRunInput): Promise<void> {
    return this.runs.finish(runId, input);
  }

  updateRun(runId: string, summaries: { input_summary?: Record<string, unknown>; output_summary?: Record<string, unknown> }): Promise<void> {
    return this.runs.update(runId, summaries);
  }

  getRun(runId: string): Promise<RunRow | null> {
    return this.runs.get(runId);
  }

  closeAbandonedRuns(foundBy: string): Promise<AbandonedRun[]> {
    return this.runs.closeAbandoned(foundBy);
  }

  withWriteTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return withWriteTransaction(this, fn);
  }

  withStateLock<T>(userId: string, conceptId: string, fn: (state: UserSkillStateRow | null, tx: StoreTransaction) => Promise<T>): Promise<T> {
    return withWriteTransaction(this, async (tx) => fn(await tx.lockState(userId, conceptId), tx));
  }

  async getUserRole(userId: string): Promise<string | null> {
    if (!isUuid(userId)) return null;
    const rows = await this.driver.query<{ role: unknown }>('SELECT role FROM users WHERE id = ?', [userId.toLowerCase()]);
    return rows.length ? String(rows[0].role) : null;
  }

  async getUserRoles(userIds: readonly string[]): Promise<Map<string, string>> {
    const roles = new Map<string, string>();
    const ids = [...new Set(userIds.filter(isUuid).map((id) => id.toLowerCase()))];
    if (ids.length === 0) return roles;
    const list = this.dialect.inList('id', ids);
    const rows = await this.driver.query<{ id: unknown; role: unknown }>(`SELECT id, role FROM users WHERE ${list.sql}`, list.params);
    for (const r of rows) roles.set(String(r.id).toLowerCase(), String(r.role));
    return roles;
  }

  getState(userId: string, conceptId: string): Promise<UserSkillStateRow | null> {
    return getState(this, userId, conceptId);
  }

  async listStates(filter: StateFilter = {}): Promise<UserSkillStateRow[]> {
    const q = statesQuery(this, filter);
    return (await this.driver.query(q.sql, q.params)).map(STATES.decode);
  }

  async listStatesOfUsers(userIds: readonly string[]): Promise<Map<string, UserSkillStateRow[]>> {
    const byUser = new Map<string, UserSkillStateRow[]>();
    const ids = [...new Set(userIds.map((id) => requireUuid(id, 'user id')))];
    if (ids.length === 0) return byUser;
    const list = this.dialect.inList('user_id', ids);
    // Per user in listStates' order (p_mastery descending, then concept_id).
    const rows = await this.driver.query(`SELECT ${STATES.select} FROM bkt_user_skill_state WHERE ${list.sql} ORDER BY user_id, p_mastery DESC, concept_id`, list.params);
    for (const r of rows) {
      const state = STATES.decode(r);
      const states = byUser.get(state.user_id);
      if (states) states.push(state);
      else byUser.set(state.user_id, [state]);
    }
    return byUser;
  }

  listTrackedStates(filter?: { userId?: string; conceptIds?: string[] }): Promise<StateKey[]> {
    return listTrackedStates(this, filter);
  }

  async preferSinglePassReads(): Promise<void> {
    for (const statement of this.dialect.singlePassReadSettings) await this.driver.run(statement);
  }

  async *streamParams(filter: ListParamsFilter & LabelOption = {}): AsyncIterable<SkillParamsRow & RowLabels> {
    const labels = filter.labels ? await labelJoin(this, { alias: 't', concept: 'concept_id' }) : undefined;
    const q = paramsQuery(this, filter, labels);
    for await (const r of this.driver.iterate(q.sql, q.params)) yield labels ? withLabelsOf(PARAMS.decode(r), r, labels, false) : PARAMS.decode(r);
  }

  async *streamStates(filter: StateFilter & LabelOption = {}): AsyncIterable<UserSkillStateRow & RowLabels> {
    const labels = filter.labels ? await labelJoin(this, { alias: 't', concept: 'concept_id', user: 'user_id' }) : undefined;
    const q = statesQuery(this, filter, labels);
    for await (const r of this.driver.iterate(q.sql, q.params)) yield labels ? withLabelsOf(STATES.decode(r), r, labels, true) : STATES.decode(r);
  }

  async *streamSnapshots(filter: SnapshotFilter & LabelOption = {}): AsyncIterable<SnapshotRow & RowLabels> {
    const labels = filter.labels ? await labelJoin(this, { alias: 't', concept: 'concept_id', user: 'user_id' }) : undefined;
    const q = snapshotsQuery(this, filter, labels);
    for await (const r of this.driver.iterate(q.sql, q.params)) yield labels ? withLabelsOf(SNAPSHOTS.decode(r), r, labels, true) : SNAPSHOTS.decode(r);
  }

  streamRuns(filter?: RunFilter): AsyncIterable<RunRow> {
    return this.runs.stream(filter);
  }

  async countRows(table: string): Promise<number> {
    if (!TABLES.some((t) => t.name === table)) throw new UsageError(`table "${table}" is not one of bkt's tables`);
    const rows = await this.driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`);
    return decodeNumber(rows[0].n);
  }

  async close(): Promise<void> {
    await this.runs.close();
    await this.driver.close();
  }
}

/**
 * The SQL driver behind a store opened by openStore, for tests and benchmarks that set up or
 * inspect tables directly. Library code uses the Store's methods: writes through the driver
 * bypass its guarantees.
 */
export function sqlDriverOf(store: Store): SqlDriver {
  if (!(store instanceof SqlStore)) throw new TypeError(`store ${store.display} is not a SQL store`);
  return store.driver;
}
