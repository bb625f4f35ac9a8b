/**
 * The Store written once over a SqlDriver + Dialect (src/store/sql.ts). SQL text uses `?`
 * placeholders and only the syntax SQLite and PostgreSQL share (ON CONFLICT, NULLS LAST,
 * window-free selects); every difference is a named field of the dialect.
 */
import { parseVariantModel } from '../model/variants/variant-model.js';
import { createHash } from 'node:crypto';
import { mergeAsyncIterables } from './merge-async.js';
import { endOfDayBound, timestampMs } from '../data/parse-values.js';
import { AttemptsTableBuilder } from '../data/attempts-table-builder.js';
import type { AttemptsTable } from '../data/attempts-table.js';
import { NotFoundError, StorageError, UsageError } from '../errors.js';
import { BUILTIN_DEFAULT_PARAMS, type BktParams } from '../model/params.js';
export { conceptsOfSnapshot } from './snapshot-concepts.js';
import { isUuid, nameToUuid, newUuid, toUuid, uuidV7Factory } from './ids.js';
import { ENUMS, TABLES, compareSchema, quoteIdent, type SchemaDifference, type TableDef } from './schema.js';
import type { BinaryColumnType } from './postgres/copy-binary.js';
import type { Dialect, Row, SqlDriver, SqlExecutor, SqlValue } from './sql.js';
import {
  BKT_ALGO_KEY,
  BKT_ALGO_VERSION,
  BUILTIN_ALGO_PARAMS_JSON,
  type BackendName,
  type FinishRunInput,
  type ImportResult,
  type LedgerRow,
  type ListParamsFilter,
  type ReadAttemptsFilter,
  type ReadAttemptsResult,
  type ResolvedParams,
  type RunFilter,
  type RunRow,
  type SaveParamsInput,
  type SaveParamsOptions,
  type SkillParamsRow,
  type SnapshotFilter,
  type SnapshotInput,
  type SnapshotRow,
  type StartRunInput,
  type StateFilter,
  type StateInput,
  type Store,
  type StoreTransaction,
  type UserSkillStateRow,
} from './store.js';

// ------------------------------------------------------------ value decoding (both backends)
// PostgreSQL returns Date, boolean and parsed JSON; SQLite returns ISO text, 0/1 and JSON text.
// These accept either, so row mapping needs no dialect.

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));
const isoNN = (v: unknown): string => iso(v) ?? '';
const bool = (v: unknown): boolean => v === true || v === 1 || v === 1n || v === 't';
const json = (v: unknown): Record<string, unknown> => (typeof v === 'string' ? JSON.parse(v) : ((v ?? {}) as Record<string, unknown>));
const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** ISO-8601 UTC with milliseconds, the one timestamp text bkt writes. */
export function toIsoTimestamp(value: string | Date, flag = 'date'): string {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new UsageError(`${flag} "${String(value)}" is not a date`, 'Use ISO-8601, e.g. 2026-01-21 or 2026-01-21T12:00:00Z');
  return d.toISOString();
}

/** SHA-256 hex of the JSON with keys sorted at every level (algo_params.checksum). */
export function sortedJsonChecksum(value: unknown): string {
  const sort = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sort)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sort((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(sort(value))).digest('hex');
}

const PARAMS_COLUMNS =
  'id, concept_id, algo_version_id, "p_L0", "p_T", "p_S", "p_G", constraints_applied, fitted_at, fitted_on_data_from, fitted_on_data_to, metrics, is_active, created_at, updated_at';
const STATE_COLUMNS = 'user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id, algo_version_id, created_at, updated_at';
const SNAPSHOT_COLUMNS = 'id, user_id, concept_id, p_mastery, n_attempts, algo_version_id, created_at';
const RUN_COLUMNS =
  'id, algo_version_id, params_id, user_id, session_id, "trigger", status, started_at, completed_at, input_summary_json, output_summary_json, error_message';

function paramsRow(r: Row): SkillParamsRow {
  return {
    id: String(r.id),
    concept_id: String(r.concept_id),
    algo_version_id: String(r.algo_version_id),
    p_L0: num(r.p_L0),
    p_T: num(r.p_T),
    p_S: num(r.p_S),
    p_G: num(r.p_G),
    constraints_applied: json(r.constraints_applied),
    fitted_at: isoNN(r.fitted_at),
    fitted_on_data_from: iso(r.fitted_on_data_from),
    fitted_on_data_to: iso(r.fitted_on_data_to),
    metrics: json(r.metrics),
    is_active: bool(r.is_active),
    created_at: isoNN(r.created_at),
    updated_at: isoNN(r.updated_at),
  };
}

function stateRow(r: Row): UserSkillStateRow {
  return {
    user_id: String(r.user_id),
    concept_id: String(r.concept_id),
    p_mastery: num(r.p_mastery),
    n_attempts: num(r.n_attempts),
    last_attempt_at: iso(r.last_attempt_at),
    last_seen_question_id: str(r.last_seen_question_id),
    algo_version_id: str(r.algo_version_id),
    created_at: isoNN(r.created_at),
    updated_at: isoNN(r.updated_at),
  };
}

function ledgerRow(r: Row): LedgerRow {
  return {
    attempt_key: String(r.attempt_key),
    answered_at: iso(r.answered_at),
    applied_at: isoNN(r.applied_at),
    correct: r.correct === null || r.correct === undefined ? null : bool(r.correct),
    question_id: r.question_id === null || r.question_id === undefined ? null : String(r.question_id).toLowerCase(),
  };
}

/**
 * A state's ledger rows in commit order: answered_at (untimed attempts were stamped with
 * max(now, last_attempt_at + 1 ms) when applied, so this is the order they were applied; rows
 * without a time last), then applied_at, then attempt_key (code-unit order, not the database's
 * collation). Sorted here so both backends agree.
 */
export function sortLedger(rows: LedgerRow[]): LedgerRow[] {
  const ms = (v: string | null) => (v === null ? Number.POSITIVE_INFINITY : Date.parse(v));
  return rows.sort(
    (a, b) => ms(a.answered_at) - ms(b.answered_at) || ms(a.applied_at) - ms(b.applied_at) || (a.attempt_key < b.attempt_key ? -1 : a.attempt_key > b.attempt_key ? 1 : 0),
  );
}

function snapshotRow(r: Row): SnapshotRow {
  return {
    id: String(r.id),
    user_id: String(r.user_id),
    concept_id: String(r.concept_id),
    p_mastery: num(r.p_mastery),
    n_attempts: num(r.n_attempts),
    algo_version_id: str(r.algo_version_id),
    created_at: isoNN(r.created_at),
  };
}

function runRow(r: Row): RunRow {
  return {
    id: String(r.id),
    algo_version_id: String(r.algo_version_id),
    params_id: String(r.params_id),
    user_id: str(r.user_id),
    session_id: str(r.session_id),
    trigger: String(r.trigger),
    status: String(r.status) as RunRow['status'],
    started_at: isoNN(r.started_at),
    completed_at: iso(r.completed_at),
    input_summary_json: json(r.input_summary_json),
    output_summary_json: json(r.output_summary_json),
    error_message: str(r.error_message),
  };
}

/** A uuid argument from a user: lower-cased, or a UsageError naming the flag. */
function requireUuid(value: string, what: string): string {
  if (!isUuid(value)) throw new UsageError(`${what} "${value}" is not a UUID`, 'Pass the id as printed by bkt (8-4-4-4-12 hex digits)');
  return value.toLowerCase();
}

/** Render CREATE TABLE for one table with the dialect's types and defaults. */
export function createTableSql(def: TableDef, dialect: Dialect): string {
  const lines: string[] = [];
  for (const column of def.columns) {
    let line = `  ${quoteIdent(column.name)} ${dialect.columnType(column.type)}`;
    if (!column.nullable) line += ' NOT NULL';
    const dflt = dialect.defaultExpression(column);
    if (dflt !== null) line += ` DEFAULT ${dflt}`;
    if (typeof column.type === 'object' && 'enum' in column.type) {
      const enumDef = ENUMS.find((e) => e.name === (column.type as { enum: string }).enum)!;
      const check = dialect.enumCheck(quoteIdent(column.name), enumDef);
      if (check) line += ` CHECK (${check})`;
    }
    lines.push(line);
  }
  const cols = (names: string[]) => names.map(quoteIdent).join(', ');
  lines.push(`  CONSTRAINT ${def.primaryKey.name} PRIMARY KEY (${cols(def.primaryKey.columns)})`);
  for (const unique of def.uniques) lines.push(`  CONSTRAINT ${unique.name} UNIQUE (${cols(unique.columns)})`);
  for (const fk of def.foreignKeys) {
    let line = `  CONSTRAINT ${def.name}_${fk.columns.join('_')}_fkey FOREIGN KEY (${cols(fk.columns)}) REFERENCES ${fk.refTable} (${cols(fk.refColumns)})`;
    if (fk.onDelete) line += ` ON DELETE ${fk.onDelete}`;
    if (fk.onUpdate) line += ` ON UPDATE ${fk.onUpdate}`;
    lines.push(line);
  }
  for (const check of def.checks) lines.push(`  CONSTRAINT ${check.name} CHECK (${check.expression})`);
  return `CREATE TABLE IF NOT EXISTS ${def.name} (\n${lines.join(',\n')}\n)`;
}

export class SqlStore implements Store {
  readonly backend: BackendName;

  constructor(
    /**
     * The SQL driver underneath, for library code that needs a query the Store does not offer
     * (issue 4's session reader, tests). Writes through it bypass the Store's guarantees.
     */
    readonly driver: SqlDriver,
    readonly display: string,
  ) {
    this.backend = driver.dialect.name;
  }

  protected get dialect(): Dialect {
    return this.driver.dialect;
  }

  // ---------------------------------------------------------------- schema

  async migrate(): Promise<{ created: string[] }> {
    return this.driver.transaction(async (tx) => {
      // Two migrations at once: the second waits here, then finds everything made by the first.
      if (this.dialect.advisoryLockSql) await tx.query(this.dialect.advisoryLockSql, ['bkt:migrate']);
      const before = await this.driver.introspect(TABLES);
      const enumsBefore = await this.driver.enumsPresent(ENUMS);
      const created: string[] = [];
      for (const e of ENUMS) {
        const statements = enumsBefore.has(e.name) ? [] : this.dialect.createEnum(e);
        for (const statement of statements) await tx.run(statement);
        if (statements.length) created.push(`type ${e.name}`);
      }
      for (const def of TABLES) {
        if (!before.has(def.name)) {
          await tx.run(createTableSql(def, this.dialect));
          created.push(`table ${def.name}`);
        }
        const live = before.get(def.name);
        // bkt's own tables gain columns over time (bkt_attempt_ledger.correct, .question_id):
        // add a missing nullable one. Never on the app's tables.
        if (live && def.owner === 'bkt') {
          for (const column of def.columns) {
            if (live.columns.has(column.name) || !column.nullable || column.default !== undefined) continue;
            await tx.run(`ALTER TABLE ${def.name} ADD COLUMN ${quoteIdent(column.name)} ${this.dialect.columnType(column.type)}`);
            created.push(`column ${def.name}.${column.name}`);
          }
        }
        for (const index of def.indexes) {
          if (live?.indexNames.has(index.name)) continue;
          await tx.run(`CREATE INDEX IF NOT EXISTS ${index.name} ON ${def.name} (${index.columns.map(quoteIdent).join(', ')})`);
          created.push(`index ${index.name}`);
        }
      }
      created.push(...(await this.seed(tx)));
      return { created };
    });
  }

  /** bkt v1 ACTIVE and its active algo_params row with the built-in defaults, when missing. */
  private async seed(tx: SqlExecutor): Promise<string[]> {
    const created: string[] = [];
    const now = new Date().toISOString();
    let version = await tx.query<{ id: string }>('SELECT id FROM algo_versions WHERE algo_key = ? AND version = ?', [BKT_ALGO_KEY, BKT_ALGO_VERSION]);
    if (version.length === 0) {
      const id = newUuid();
      await tx.run(
        'INSERT INTO algo_versions (id, algo_key, version, status, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [id, BKT_ALGO_KEY, BKT_ALGO_VERSION, 'ACTIVE', 'Bayesian Knowledge Tracing (standard four-parameter model), fitted by bkt', now, now],
      );
      version = [{ id }];
      created.push('row algo_versions bkt v1');
    }
    const versionId = String(version[0].id);
    const active = await tx.query('SELECT id FROM algo_params WHERE algo_version_id = ? AND is_active = ?', [versionId, this.dialect.bool(true)]);
    if (active.length === 0) {
      await tx.run(
        'INSERT INTO algo_params (id, algo_version_id, params_json, checksum, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [newUuid(), versionId, JSON.stringify(BUILTIN_ALGO_PARAMS_JSON), sortedJsonChecksum(BUILTIN_ALGO_PARAMS_JSON), this.dialect.bool(true), now, now],
      );
      created.push('row algo_params bkt v1 defaults');
    }
    return created;
  }

  async check(): Promise<SchemaDifference[]> {
    const live = await this.driver.introspect(TABLES);
    const differences = compareSchema(live, (t) => this.dialect.liveType(t));
    const enums = await this.driver.enumsPresent(ENUMS);
    for (const e of ENUMS) {
      if (this.dialect.createEnum(e).length && !enums.has(e.name)) {
        differences.unshift({ table: e.name, object: null, kind: 'missing_enum', expected: `enum (${e.values.join(', ')})`, actual: 'absent' });
      }
    }
    return differences;
  }

  // ---------------------------------------------------------------- attempts

  /**
   * Import layout (docs/store.md "Import"): each learner's attempts, in time order (file order
   * within a concept when the file has no time), fill one SUBMITTED session after another; a new
   * session starts when a question would repeat inside the current one (UNIQUE (session_id,
   * question_id)). Without a question column each attempt gets a fresh question id. Session ids
   * are v5 UUIDs of (content hash, learner, session number), so importing the same content again
   * finds its first session and writes nothing.
   */
  async importAttempts(table: AttemptsTable): Promise<ImportResult> {
    const batch = contentHash(table);
    const learnerUuid = table.learnerIds.map(toUuid);
    const conceptUuid = table.conceptIds.map(toUuid);
    const questionUuid = table.questionIds.map(toUuid);
    const snapshotOfConcept = conceptUuid.map((c) => JSON.stringify({ concept_id: c }));

    // Each learner's rows, in time order (stable; rows without time after timed ones).
    const rowsOfLearner: number[][] = table.learnerIds.map(() => []);
    for (let r = 0; r < table.length; r++) rowsOfLearner[table.learner[r]].push(r);
    const time = table.time;
    if (time) {
      for (const rows of rowsOfLearner) {
        rows.sort((a, b) => {
          const ta = time[a];
          const tb = time[b];
          const na = Number.isNaN(ta);
          const nb = Number.isNaN(tb);
          if (na || nb) return na === nb ? a - b : na ? 1 : -1;
          return ta - tb || a - b;
        });
      }
    }

    // Same content, same first session id: found means imported before, and nothing is written.
    const firstLearner = rowsOfLearner.findIndex((rows) => rows.length > 0);
    if (firstLearner >= 0) {
      const firstId = nameToUuid(`session:${batch}:${learnerUuid[firstLearner]}:0`);
      if ((await this.driver.query('SELECT id FROM test_sessions WHERE id = ?', [firstId])).length > 0) {
        return { already_imported: true, batch_id: batch, users: 0, sessions: 0, answers: 0 };
      }
    }

    // Time-ordered: each row's id (and a generated question id) goes to the end of its index.
    const uuid = uuidV7Factory();
    const importedAt = Date.now();
    const nowIso = new Date(importedAt).toISOString();
    const sessions: SqlValue[][] = [];
    // Each session's rows: rowsOfLearner[learner][start, end).
    const sessionRows: { learner: number; start: number; end: number; id: string }[] = [];
    // A question id per attempt row (table order), so session_questions and session_answers agree.
    const questionOfRow: string[] = new Array(table.length);
    const yes = this.dialect.bool(true);
    const no = this.dialect.bool(false);
    let answerCount = 0;
    for (let l = 0; l < rowsOfLearner.length; l++) {
      const rows = rowsOfLearner[l];
      if (rows.length === 0) continue;
      let k = 0;
      let start = 0;
      while (start < rows.length) {
        // One session: rows[start, end) with no question twice.
        const seen = new Set<number>();
        let end = start;
        while (end < rows.length) {
          const q = table.question ? table.question[rows[end]] : -1;
          if (q >= 0) {
            if (seen.has(q)) break;
            seen.add(q);
          }
          end++;
        }
        const sessionId = nameToUuid(`session:${batch}:${learnerUuid[l]}:${k}`);
        let maxTime = Number.NaN;
        let minTime = Number.NaN;
        for (let i = start; i < end; i++) {
          const r = rows[i];
          const q = table.question ? table.question[r] : -1;
          questionOfRow[r] = q >= 0 ? questionUuid[q] : uuid();
          const t = time ? time[r] : Number.NaN;
          if (!Number.isNaN(t)) {
            if (!(t <= maxTime)) maxTime = t;
            if (!(t >= minTime)) minTime = t;
          }
        }
        // Without times, submitted_at = import time + session number (ms) keeps sessions in order.
        const submitted = new Date(Number.isNaN(maxTime) ? importedAt + k : maxTime).toISOString();
        const started = Number.isNaN(minTime) ? submitted : new Date(minTime).toISOString();
        sessions.push([sessionId, learnerUuid[l], 'SUBMITTED', submitted, started, nowIso]);
        sessionRows.push({ learner: l, start, end, id: sessionId });
        answerCount += end - start;
        start = end;
        k++;
      }
    }
    const firstSessionId = sessionRows.length ? sessionRows[0].id : null;
    // The question and answer rows are made as they are written, not held: 800 k row arrays
    // held at once cost more garbage collection than the writes.
    function* questions(): Iterable<SqlValue[]> {
      for (const { learner, start, end, id } of sessionRows) {
        const rows = rowsOfLearner[learner];
        for (let i = start; i < end; i++) {
          const r = rows[i];
          yield [uuid(), id, i - start + 1, questionOfRow[r], null, snapshotOfConcept[table.concept[r]], nowIso];
        }
      }
    }
    function* answers(): Iterable<SqlValue[]> {
      for (const { learner, start, end, id } of sessionRows) {
        const rows = rowsOfLearner[learner];
        for (let i = start; i < end; i++) {
          const r = rows[i];
          const t = time ? time[r] : Number.NaN;
          yield [uuid(), id, questionOfRow[r], null, table.correct[r] === 1 ? yes : no, Number.isNaN(t) ? null : new Date(t).toISOString(), 0, no, nowIso, null];
        }
      }
    }

    const result = await this.driver.transaction(async (tx): Promise<ImportResult> => {
      if (firstSessionId) {
        const existing = await tx.query('SELECT id FROM test_sessions WHERE id = ?', [firstSessionId]);
        if (existing.length > 0) {
          return { already_imported: true, batch_id: batch, users: 0, sessions: 0, answers: 0 };
        }
      }
      let users = 0;
      for (const id of new Set(learnerUuid)) {
        users += await tx.run('INSERT INTO users (id) VALUES (?) ON CONFLICT (id) DO NOTHING', [id]);
      }
      await tx.bulkInsert('test_sessions', ['id', 'user_id', 'status', 'submitted_at', 'started_at', 'created_at'], sessions);
      await tx.bulkInsert(
        'session_questions',
        ['id', 'session_id', 'position', 'question_id', 'question_version_id', 'snapshot_json', 'created_at'],
        questions(),
      );
      await tx.bulkInsert(
        'session_answers',
        ['id', 'session_id', 'question_id', 'selected_index', 'is_correct', 'answered_at', 'changed_count', 'marked_for_review', 'created_at', 'updated_at'],
        answers(),
      );
      return { already_imported: false, batch_id: batch, users, sessions: sessions.length, answers: answerCount };
    });
    const analyze = this.dialect.analyzeSql(['users', 'test_sessions', 'session_questions', 'session_answers']);
    if (analyze && !result.already_imported) await this.driver.run(analyze);
    return result;
  }

  async readAttempts(filter: ReadAttemptsFilter = {}): Promise<ReadAttemptsResult> {
    const d = this.dialect;
    const conceptText = d.jsonText('sq.snapshot_json', 'concept_id');
    const conceptArray = d.jsonMember('sq.snapshot_json', 'concept_ids');
    const params: SqlValue[] = [];
    // The session filter (SUBMITTED or EXPIRED) is applied through the sessions read below.
    const where: string[] = [];
    if (filter.fromDate) {
      where.push('sa.answered_at >= ?');
      params.push(toIsoTimestamp(filter.fromDate, '--from-date'));
    }
    if (filter.toDate) {
      // As the file readers do: a date without a time includes that whole day.
      const nextMidnight = endOfDayBound(filter.toDate);
      if (nextMidnight !== null) {
        where.push('sa.answered_at < ?');
        params.push(new Date(nextMidnight).toISOString());
      } else {
        where.push('sa.answered_at <= ?');
        params.push(toIsoTimestamp(filter.toDate, '--to-date'));
      }
    }
    const wanted = filter.conceptIds?.length ? new Set(filter.conceptIds.map(toUuid)) : null;
    if (wanted) {
      // Rows naming a wanted concept, plus rows naming none (they are counted as skipped).
      const values = [...wanted];
      // A prefilter, in lower case as UUIDs are compared (an upper-case UUID is the same concept);
      // the rows are decided in JS.
      const single = d.inList(`lower(${conceptText})`, values);
      const multi = d.jsonArrayContainsAny('sq.snapshot_json', 'concept_ids', values);
      where.push(`(${single.sql} OR ${multi.sql} OR (${conceptText} IS NULL AND ${conceptArray} IS NULL))`);
      params.push(...single.params, ...multi.params);
    }
    const fallback = filter.questionsFallback === true;
    const withQuestions = filter.includeQuestions === true;
    const builder = new AttemptsTableBuilder();

    // Sessions first (a few per learner): their order gives each learner's dictionary index
    // (user ids in code-unit order, whatever order the answers arrive in) and each session's rank
    // among its learner's sessions by submitted_at. The answers then need no ORDER BY, which was
    // most of the read (a sort of every answer row): the builder orders each sequence by
    // answered_at, ties by (session rank, position), packed into one order key.
    // Whether the join can be a merge join is asked at the same time.
    const [sessions, mergeJoin] = await Promise.all([
      this.driver.queryArrays(`SELECT id, user_id FROM test_sessions WHERE status IN ('SUBMITTED', 'EXPIRED') ORDER BY user_id, submitted_at NULLS LAST, id`),
      fallback ? false : this.sessionJoinIndexed(),
    ]);
    const sessionRank = new Map<unknown, number>();
    const sessionLearner = new Uint32Array(sessions.length);
    for (let r = 0; r < sessions.length; r++) {
      sessionRank.set(sessions[r][0], r);
      sessionLearner[r] = builder.learnerIndex(String(sessions[r][1]));
    }

    const snapshot = d.snapshotConcepts('sq.snapshot_json');
    // NULL instead of a 36-character id per answer when nobody asked for question ids.
    const selected: [string, BinaryColumnType][] = [
      ['sa.session_id', 'uuid'],
      ['sa.is_correct', 'bool'],
      [d.epochMs('sa.answered_at'), 'float8'],
      ['sq.position', 'int4'],
      [withQuestions ? 'sa.question_id' : 'NULL', 'uuid'],
      ...snapshot.columns.map((c): [string, BinaryColumnType] => [c, 'key']),
      ...(fallback ? [['q.concept_id', 'int4'] as [string, BinaryColumnType]] : []),
    ];
    const columns = selected.map(([expr, type], i) => `${d.typed(expr, type)} AS c${i}`);
    if (d.rowidChunks) columns.push('sa.rowid AS bkt_rowid');
    // PostgreSQL: answers in partitions by session id, each read on its own connection, so the
    // join runs on several server processes at once (this process only decodes).
    const pivots = await this.sessionPivots(d.readPartitions);
    const bounds = [null, ...pivots, null];
    const reads = pivots.length + 1;
    const partitionSql = (p: number) => {
      const lo = bounds[p];
      const hi = bounds[p + 1];
      const on = [...(lo ? ['sq.session_id >= ?'] : []), ...(hi ? ['sq.session_id < ?'] : [])];
      const range = [...(lo ? ['sa.session_id >= ?'] : []), ...(hi ? ['sa.session_id < ?'] : [])];
      const conditions = [...where, ...range];
      const sql = `SELECT ${columns.join(', ')}
      FROM session_answers sa
      LEFT JOIN session_questions sq ON sq.session_id = sa.session_id AND sq.question_id = sa.question_id${on.map((c) => ` AND ${c}`).join('')}
      ${fallback ? 'LEFT JOIN questions q ON q.id = sa.question_id' : ''}
      ${conditions.length ? `WHERE ${conditions.join(' AND ')}` : ''}`;
      const bound = [lo, hi].filter((b): b is string => b !== null);
      return { sql, params: [...bound, ...params, ...bound] };
    };
    const fallbackAt = 5 + snapshot.columns.length;

    let lastSession: unknown = undefined;
    let rank = -1;
    let unanswered = 0;
    let noConcept = 0;
    let rowsRead = 0;
    const concepts = new Set<string>();
    // Snapshot cache key -> indexes of its wanted concepts (null: it names none).
    const conceptCache = new Map<string, number[] | null>();
    const consume = (row: unknown[]) => {
      // Rows arrive grouped by session (table order): look each session up once per run of rows.
      if (row[0] !== lastSession) {
        lastSession = row[0];
        rank = sessionRank.get(lastSession) ?? -1;
      }
      if (rank < 0) return; // an ACTIVE session's answer, or one of a session that is gone
      rowsRead++;
      const isCorrect = row[1];
      if (isCorrect === null || isCorrect === undefined) {
        unanswered++;
        return;
      }
      const correct = bool(isCorrect) ? 1 : 0;
      const t = timestampMs(row[2]);
      const order = orderKey(rank, row[3]);
      const learner = sessionLearner[rank];
      const question = withQuestions && row[4] !== null ? builder.questionIndex(String(row[4])) : -1;
      const key = snapshot.cacheKey(row, 5);
      let targets = key === null ? undefined : conceptCache.get(key);
      if (targets === undefined) {
        concepts.clear();
        snapshot.all(row, 5, concepts);
        const named = concepts.size > 0;
        const fallbackConcept = row[fallbackAt];
        if (!named && fallback && fallbackConcept !== null && fallbackConcept !== undefined) concepts.add(toUuid(String(fallbackConcept)));
        targets = concepts.size === 0 ? null : [...concepts].filter((c) => !wanted || wanted.has(c)).map((c) => builder.conceptIndex(c));
        // Without a concept of its own the row's concept may come from its question: not cacheable.
        if (key !== null && (named || !fallback)) conceptCache.set(key, targets);
      }
      if (targets === null) {
        noConcept++;
        return;
      }
      for (let i = 0; i < targets.length; i++) builder.addIndexed(learner, targets[i], correct, t, order, question);
    };
    const options = {
      joinMemory: ATTEMPTS_JOIN_MEMORY,
      mergeJoin,
      binaryTypes: selected.map(([, type]) => type),
      rowidChunks: d.rowidChunks ? { table: 'session_answers', column: 'bkt_rowid' } : undefined,
    };
    const partitions = Array.from({ length: reads }, (_, p) => partitionSql(p)).map(({ sql, params: bound }) => this.driver.streamRows(sql, bound, options, consume));
    for await (const _ of mergeAsyncIterables(partitions));
    return { table: builder.build({ conceptOrder: 'sorted' }), skipped: { unanswered, no_concept: noConcept }, rows_read: rowsRead };
  }

  /**
   * Whether session_answers and session_questions both have a btree index leading with
   * (session_id, question_id), as schema.md's unique constraints make: the attempts read then
   * merge-joins them in key order (BulkReadOptions.mergeJoin). PostgreSQL's hash join sent no
   * row until it had hashed a part's answers (90 ms of 280 here), and each part scanned both
   * whole tables; the merge join sends from the first row and reads only its part's range.
   */
  async sessionJoinIndexed(): Promise<boolean> {
    const sql = this.dialect.leadingIndexSql;
    if (sql === null) return false;
    const counts = await Promise.all(
      ['session_answers', 'session_questions'].map((table) => this.driver.queryArrays(sql, [table, 'session_id', 'question_id'])),
    );
    return counts.every(([[count]]) => Number(count) > 0);
  }

  /**
   * Up to `partitions` - 1 session ids splitting test_sessions into parts of equal session
   * counts (ascending; none for one partition or too few sessions).
   */
  private async sessionPivots(partitions: number): Promise<string[]> {
    if (partitions <= 1) return [];
    const [[count]] = await this.driver.queryArrays('SELECT count(*) FROM test_sessions');
    const n = Number(count);
    if (n < partitions * 16) return [];
    const pivots: string[] = [];
    for (let p = 1; p < partitions; p++) {
      const rows = await this.driver.queryArrays('SELECT id FROM test_sessions ORDER BY id LIMIT 1 OFFSET ?', [Math.floor((n * p) / partitions)]);
      if (rows.length) pivots.push(String(rows[0][0]));
    }
    return [...new Set(pivots)];
  }

  // ---------------------------------------------------------------- parameters

  async algoVersion(): Promise<{ algo_version_id: string; algo_params_id: string | null; key: string; version: string } | null> {
    return this.algoVersionIn(this.driver);
  }

  async activeAlgoParams(): Promise<{ id: string; params_json: Record<string, unknown> } | null> {
    const v = await this.algoVersionIn(this.driver);
    if (!v?.algo_params_id) return null;
    const rows = await this.driver.query('SELECT id, params_json FROM algo_params WHERE id = ?', [v.algo_params_id]);
    return rows.length ? { id: String(rows[0].id), params_json: json(rows[0].params_json) } : null;
  }

  private async algoVersionIn(ex: SqlExecutor) {
    const v = await ex.query('SELECT id FROM algo_versions WHERE algo_key = ? AND version = ?', [BKT_ALGO_KEY, BKT_ALGO_VERSION]);
    if (v.length === 0) return null;
    const versionId = String(v[0].id);
    const p = await ex.query(
      'SELECT id FROM algo_params WHERE algo_version_id = ? AND is_active = ? ORDER BY created_at DESC, id LIMIT 1',
      [versionId, this.dialect.bool(true)],
    );
    return { algo_version_id: versionId, algo_params_id: p.length ? String(p[0].id) : null, key: BKT_ALGO_KEY, version: BKT_ALGO_VERSION };
  }

  private async requireAlgoVersion(ex: SqlExecutor) {
    const v = await this.algoVersionIn(ex);
    if (!v) throw new StorageError(`${this.display}: no algo_versions row for bkt v1`, 'Run "bkt db migrate" first');
    return v;
  }

  /** Per-concept activation lock (PostgreSQL advisory lock; nothing where BEGIN IMMEDIATE serialises). */
  private async lockConcept(tx: SqlExecutor, conceptId: string): Promise<void> {
    if (this.dialect.advisoryLockSql) await tx.query(this.dialect.advisoryLockSql, [`bkt_skill_params:${conceptId}`]);
    await tx.query(`SELECT id FROM bkt_skill_params WHERE concept_id = ? AND is_active = ?${this.dialect.forUpdate}`, [conceptId, this.dialect.bool(true)]);
  }

  async saveParams(input: SaveParamsInput, options: SaveParamsOptions): Promise<SkillParamsRow> {
    const conceptId = toUuid(input.concept_id);
    for (const name of ['p_L0', 'p_T', 'p_S', 'p_G'] as const) {
      if (!Number.isFinite(input.params[name])) throw new UsageError(`concept ${conceptId}: ${name} = ${input.params[name]} is not a number`);
    }
    const dataFrom = options.dataFrom ? toIsoTimestamp(options.dataFrom, '--from-date') : null;
    const dataTo = options.dataTo ? toIsoTimestamp(options.dataTo, '--to-date') : null;
    return this.driver.transaction(async (tx) => {
      const versionId = options.algoVersionId ?? (await this.requireAlgoVersion(tx)).algo_version_id;
      const now = new Date().toISOString();
      if (options.activate) {
        await this.lockConcept(tx, conceptId);
        await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE concept_id = ? AND is_active = ?', [
          this.dialect.bool(false),
          now,
          conceptId,
          this.dialect.bool(true),
        ]);
      }
      const id = input.id ? requireUuid(input.id, 'params id') : newUuid();
      await tx.run(
        `INSERT INTO bkt_skill_params (id, concept_id, algo_version_id, "p_L0", "p_T", "p_S", "p_G", constraints_applied, fitted_at,
           fitted_on_data_from, fitted_on_data_to, metrics, is_active, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          conceptId,
          versionId,
          input.params.p_L0,
          input.params.p_T,
          input.params.p_S,
          input.params.p_G,
          JSON.stringify(options.constraints ?? {}),
          now,
          dataFrom,
          dataTo,
          JSON.stringify(options.metrics ?? {}),
          this.dialect.bool(options.activate),
          now,
          now,
        ],
      );
      if (options.runProgress) {
        await tx.run('UPDATE algo_runs SET output_summary_json = ? WHERE id = ?', [JSON.stringify(options.runProgress.outputSummary), options.runProgress.runId]);
      }
      const rows = await tx.query(`SELECT ${PARAMS_COLUMNS} FROM bkt_skill_params WHERE id = ?`, [id]);
      return paramsRow(rows[0]);
    });
  }

  async activateParams(paramsId: string): Promise<SkillParamsRow> {
    const id = requireUuid(paramsId, 'params id');
    return this.driver.transaction(async (tx) => {
      const found = await tx.query('SELECT concept_id FROM bkt_skill_params WHERE id = ?', [id]);
      if (found.length === 0) {
        throw new NotFoundError(`params ${id}: no such bkt_skill_params row in ${this.display}`, 'List the ids with "bkt params list --all"');
      }
      const conceptId = String(found[0].concept_id);
      await this.lockConcept(tx, conceptId);
      const now = new Date().toISOString();
      await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE concept_id = ? AND is_active = ? AND id <> ?', [
        this.dialect.bool(false),
        now,
        conceptId,
        this.dialect.bool(true),
        id,
      ]);
      await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE id = ?', [this.dialect.bool(true), now, id]);
      const rows = await tx.query(`SELECT ${PARAMS_COLUMNS} FROM bkt_skill_params WHERE id = ?`, [id]);
      return paramsRow(rows[0]);
    });
  }

  private paramsQuery(filter: ListParamsFilter): { sql: string; params: SqlValue[] } {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (!filter.all) {
      where.push('is_active = ?');
      params.push(this.dialect.bool(true));
    }
    if (filter.conceptIds?.length) {
      const list = this.dialect.inList('concept_id', filter.conceptIds.map(toUuid));
      where.push(list.sql);
      params.push(...list.params);
    }
    return {
      sql: `SELECT ${PARAMS_COLUMNS} FROM bkt_skill_params ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY concept_id, fitted_at DESC, created_at DESC, id`,
      params,
    };
  }

  async listParams(filter: ListParamsFilter = {}): Promise<SkillParamsRow[]> {
    const q = this.paramsQuery(filter);
    return (await this.driver.query(q.sql, q.params)).map(paramsRow);
  }

  async getParams(paramsId: string): Promise<SkillParamsRow | null> {
    if (!isUuid(paramsId)) return null;
    const rows = await this.driver.query(`SELECT ${PARAMS_COLUMNS} FROM bkt_skill_params WHERE id = ?`, [paramsId.toLowerCase()]);
    return rows.length ? paramsRow(rows[0]) : null;
  }

  async getActiveParams(conceptId: string): Promise<SkillParamsRow | null> {
    return this.activeParamsIn(this.driver, toUuid(conceptId));
  }

  private async activeParamsIn(ex: SqlExecutor, conceptId: string): Promise<SkillParamsRow | null> {
    const rows = await ex.query(
      `SELECT ${PARAMS_COLUMNS} FROM bkt_skill_params WHERE concept_id = ? AND is_active = ? ORDER BY fitted_at DESC, created_at DESC, id LIMIT 1`,
      [conceptId, this.dialect.bool(true)],
    );
    return rows.length ? paramsRow(rows[0]) : null;
  }

  async resolveParams(conceptId: string): Promise<ResolvedParams> {
    return this.resolveIn(this.driver, toUuid(conceptId));
  }

  private async resolveIn(ex: SqlExecutor, conceptId: string): Promise<ResolvedParams> {
    const active = await this.activeParamsIn(ex, conceptId);
    if (active) {
      const model = (active.metrics.model ?? {}) as Record<string, unknown>;
      const pF = typeof model.p_F === 'number' ? model.p_F : 0;
      const variant = parseVariantModel(active.metrics.model);
      return {
        params: { p_L0: active.p_L0, p_T: active.p_T, p_S: active.p_S, p_G: active.p_G, p_F: pF },
        params_id: active.id,
        algo_version_id: active.algo_version_id,
        is_default: false,
        source: 'fitted',
        ...(variant ? { model: variant } : {}),
      };
    }
    const v = await ex.query('SELECT id FROM algo_versions WHERE algo_key = ? AND version = ?', [BKT_ALGO_KEY, BKT_ALGO_VERSION]);
    if (v.length) {
      const versionId = String(v[0].id);
      const p = await ex.query(
        'SELECT params_json FROM algo_params WHERE algo_version_id = ? AND is_active = ? ORDER BY created_at DESC, id LIMIT 1',
        [versionId, this.dialect.bool(true)],
      );
      if (p.length) {
        const j = json(p[0].params_json);
        const pick = (key: string, fallback: number) => (typeof j[key] === 'number' && Number.isFinite(j[key] as number) ? (j[key] as number) : fallback);
        const params: BktParams = {
          p_L0: pick('default_L0', BUILTIN_DEFAULT_PARAMS.p_L0),
          p_T: pick('default_T', BUILTIN_DEFAULT_PARAMS.p_T),
          p_S: pick('default_S', BUILTIN_DEFAULT_PARAMS.p_S),
          p_G: pick('default_G', BUILTIN_DEFAULT_PARAMS.p_G),
          p_F: 0,
        };
        return { params, params_id: null, algo_version_id: versionId, is_default: true, source: 'algo_params' };
      }
    }
    return { params: { ...BUILTIN_DEFAULT_PARAMS }, params_id: null, algo_version_id: null, is_default: true, source: 'builtin' };
  }

  // ---------------------------------------------------------------- runs

  async startRun(input: StartRunInput): Promise<string> {
    return this.driver.transaction(async (tx) => {
      const v = await this.requireAlgoVersion(tx);
      if (!v.algo_params_id) throw new StorageError(`${this.display}: no active algo_params row for bkt v1`, 'Run "bkt db migrate" first');
      const id = newUuid();
      await tx.run(
        `INSERT INTO algo_runs (id, algo_version_id, params_id, user_id, session_id, "trigger", status, started_at, input_summary_json, output_summary_json)
         VALUES (?, ?, ?, ?, ?, ?, 'RUNNING', ?, ?, '{}')`,
        [id, v.algo_version_id, v.algo_params_id, input.user_id ?? null, input.session_id ?? null, input.trigger, new Date().toISOString(), JSON.stringify(input.input_summary)],
      );
      return id;
    });
  }

  async updateRun(runId: string, summaries: { input_summary?: Record<string, unknown>; output_summary?: Record<string, unknown> }): Promise<void> {
    await this.driver.transaction(async (tx) => {
      if (summaries.input_summary) await tx.run('UPDATE algo_runs SET input_summary_json = ? WHERE id = ?', [JSON.stringify(summaries.input_summary), runId]);
      if (summaries.output_summary) await tx.run('UPDATE algo_runs SET output_summary_json = ? WHERE id = ?', [JSON.stringify(summaries.output_summary), runId]);
    });
  }

  async finishRun(runId: string, input: FinishRunInput): Promise<void> {
    await this.driver.transaction(async (tx) => {
      if (input.input_summary) await tx.run('UPDATE algo_runs SET input_summary_json = ? WHERE id = ?', [JSON.stringify(input.input_summary), runId]);
      const n = await tx.run('UPDATE algo_runs SET status = ?, completed_at = ?, output_summary_json = ?, error_message = ? WHERE id = ?', [
        input.status,
        new Date().toISOString(),
        JSON.stringify(input.output_summary),
        input.error_message ?? null,
        runId,
      ]);
      if (n === 0) throw new NotFoundError(`run ${runId}: no such algo_runs row`);
    });
  }

  async getRun(runId: string): Promise<RunRow | null> {
    if (!isUuid(runId)) return null;
    const rows = await this.driver.query(`SELECT ${RUN_COLUMNS} FROM algo_runs WHERE id = ?`, [runId.toLowerCase()]);
    return rows.length ? runRow(rows[0]) : null;
  }

  // ---------------------------------------------------------------- online mastery

  async withWriteTransaction<T>(fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.driver.transaction(async (ex) => {
      const placeholders = new Set<string>();
      const key = (u: string, c: string) => `${u}|${c}`;
      const tx: StoreTransaction = {
        lockState: async (userId, conceptId) => {
          const u = requireUuid(userId, 'user id');
          const c = toUuid(conceptId);
          const user = await ex.query('SELECT id FROM users WHERE id = ?', [u]);
          if (user.length === 0) throw new NotFoundError(`user ${u}: not in the users table of ${this.display}`, 'Import the user first (bkt import) or check --user');
          const now = new Date().toISOString();
          const inserted = await ex.run(
            'INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, created_at, updated_at) VALUES (?, ?, 0, 0, ?, ?) ON CONFLICT (user_id, concept_id) DO NOTHING',
            [u, c, now, now],
          );
          if (inserted > 0) {
            placeholders.add(key(u, c));
            return null;
          }
          if (placeholders.has(key(u, c))) return null;
          const rows = await ex.query(`SELECT ${STATE_COLUMNS} FROM bkt_user_skill_state WHERE user_id = ? AND concept_id = ?${this.dialect.forUpdate}`, [u, c]);
          return rows.length ? stateRow(rows[0]) : null;
        },
        recordAttempt: async (userId, conceptId, attemptKey, answeredAt, outcome) => {
          const n = await ex.run(
            `INSERT INTO bkt_attempt_ledger (user_id, concept_id, attempt_key, answered_at, applied_at, correct, question_id) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (user_id, concept_id, attempt_key) DO NOTHING`,
            [
              requireUuid(userId, 'user id'),
              toUuid(conceptId),
              attemptKey,
              answeredAt ? toIsoTimestamp(answeredAt) : null,
              new Date().toISOString(),
              outcome ? this.dialect.bool(outcome.correct) : null,
              outcome?.questionId ? toUuid(outcome.questionId) : null,
            ],
          );
          return n > 0;
        },
        readLedger: async (userId, conceptId) => {
          const rows = await ex.query(
            'SELECT attempt_key, answered_at, applied_at, correct, question_id FROM bkt_attempt_ledger WHERE user_id = ? AND concept_id = ?',
            [requireUuid(userId, 'user id'), toUuid(conceptId)],
          );
          return sortLedger(rows.map(ledgerRow));
        },
        upsertState: async (s: StateInput) => {
          const u = requireUuid(s.user_id, 'user id');
          const c = toUuid(s.concept_id);
          const now = new Date().toISOString();
          await ex.run(
            `INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id, algo_version_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (user_id, concept_id) DO UPDATE SET p_mastery = excluded.p_mastery, n_attempts = excluded.n_attempts,
               last_attempt_at = excluded.last_attempt_at, last_seen_question_id = excluded.last_seen_question_id,
               algo_version_id = excluded.algo_version_id, updated_at = excluded.updated_at`,
            [u, c, s.p_mastery, s.n_attempts, s.last_attempt_at ? toIsoTimestamp(s.last_attempt_at) : null, s.last_seen_question_id, s.algo_version_id, now, now],
          );
          placeholders.delete(key(u, c));
        },
        insertSnapshot: async (s: SnapshotInput) => {
          const id = newUuid();
          await ex.run(
            'INSERT INTO mastery_snapshot (id, user_id, concept_id, p_mastery, n_attempts, algo_version_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
            [id, requireUuid(s.user_id, 'user id'), toUuid(s.concept_id), s.p_mastery, s.n_attempts, s.algo_version_id, s.created_at ? toIsoTimestamp(s.created_at) : new Date().toISOString()],
          );
          return id;
        },
        resolveParams: (conceptId) => this.resolveIn(ex, toUuid(conceptId)),
      };
      const result = await fn(tx);
      // A locked state the callback never wrote (e.g. a duplicate attempt) must not stay as a placeholder.
      for (const k of placeholders) {
        const [u, c] = k.split('|');
        await ex.run('DELETE FROM bkt_user_skill_state WHERE user_id = ? AND concept_id = ? AND n_attempts = 0', [u, c]);
      }
      return result;
    });
  }

  async withStateLock<T>(userId: string, conceptId: string, fn: (state: UserSkillStateRow | null, tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.withWriteTransaction(async (tx) => fn(await tx.lockState(userId, conceptId), tx));
  }

  async getState(userId: string, conceptId: string): Promise<UserSkillStateRow | null> {
    if (!isUuid(userId)) return null;
    const rows = await this.driver.query(`SELECT ${STATE_COLUMNS} FROM bkt_user_skill_state WHERE user_id = ? AND concept_id = ?`, [
      userId.toLowerCase(),
      toUuid(conceptId),
    ]);
    return rows.length ? stateRow(rows[0]) : null;
  }

  async getUserRole(userId: string): Promise<string | null> {
    if (!isUuid(userId)) return null;
    const rows = await this.driver.query<{ role: unknown }>('SELECT role FROM users WHERE id = ?', [userId.toLowerCase()]);
    return rows.length ? String(rows[0].role) : null;
  }

  private stateQuery(filter: StateFilter): { sql: string; params: SqlValue[] } {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.userId) {
      where.push('user_id = ?');
      params.push(requireUuid(filter.userId, 'user id'));
    }
    if (filter.conceptIds?.length) {
      const list = this.dialect.inList('concept_id', filter.conceptIds.map(toUuid));
      where.push(list.sql);
      params.push(...list.params);
    }
    if (filter.minMastery !== undefined) {
      where.push('p_mastery >= ?');
      params.push(filter.minMastery);
    }
    if (filter.belowMastery !== undefined) {
      where.push('p_mastery < ?');
      params.push(filter.belowMastery);
    }
    return {
      sql: `SELECT ${STATE_COLUMNS} FROM bkt_user_skill_state ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY p_mastery DESC, user_id, concept_id`,
      params,
    };
  }

  async listStates(filter: StateFilter = {}): Promise<UserSkillStateRow[]> {
    const q = this.stateQuery(filter);
    return (await this.driver.query(q.sql, q.params)).map(stateRow);
  }

  async *streamParams(filter: ListParamsFilter = {}): AsyncIterable<SkillParamsRow> {
    const q = this.paramsQuery(filter);
    for await (const r of this.driver.iterate(q.sql, q.params)) yield paramsRow(r);
  }

  async *streamStates(filter: StateFilter = {}): AsyncIterable<UserSkillStateRow> {
    const q = this.stateQuery(filter);
    for await (const r of this.driver.iterate(q.sql, q.params)) yield stateRow(r);
  }

  async *streamSnapshots(filter: SnapshotFilter = {}): AsyncIterable<SnapshotRow> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.userId) {
      where.push('user_id = ?');
      params.push(requireUuid(filter.userId, 'user id'));
    }
    if (filter.conceptIds?.length) {
      const list = this.dialect.inList('concept_id', filter.conceptIds.map(toUuid));
      where.push(list.sql);
      params.push(...list.params);
    }
    const sql = `SELECT ${SNAPSHOT_COLUMNS} FROM mastery_snapshot ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`;
    for await (const r of this.driver.iterate(sql, params)) yield snapshotRow(r);
  }

  async *streamRuns(filter: RunFilter = {}): AsyncIterable<RunRow> {
    const sql = `SELECT ${RUN_COLUMNS} FROM algo_runs ${filter.status ? 'WHERE status = ?' : ''} ORDER BY started_at, id`;
    for await (const r of this.driver.iterate(sql, filter.status ? [filter.status] : [])) yield runRow(r);
  }

  async countRows(table: string): Promise<number> {
    if (!TABLES.some((t) => t.name === table)) throw new UsageError(`table "${table}" is not one of bkt's tables`);
    const rows = await this.driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`);
    return num(rows[0].n);
  }

  async close(): Promise<void> {
    await this.driver.close();
  }
}

/** Epoch ms from what `Dialect.epochMs` selects (number, numeric text or ISO text); NaN for null. */
/**
 * Memory PostgreSQL may give the answers-to-questions hash join of one attempts read (work_mem,
 * for that read only): enough to keep 400 k answers in one batch (30 MB), where the server
 * default of 4 MB spills them to disk in 8 batches and the read takes 10% longer.
 */
const ATTEMPTS_JOIN_MEMORY = '64MB';

/** Positions at or above this (none in practice: positions count a session's questions) sort last in their session. */
const POSITION_LIMIT = 2 ** 21;

/**
 * One order key for (session rank, position): exact in a float64 for up to 2^32 sessions.
 * A missing position (no session_questions row) sorts last in its session, as NULLS LAST did.
 */
function orderKey(sessionRank: number, position: unknown): number {
  const p = position === null || position === undefined ? POSITION_LIMIT - 1 : Number(position);
  return sessionRank * POSITION_LIMIT + (p >= 0 && p < POSITION_LIMIT ? p : POSITION_LIMIT - 1);
}


/** SHA-256 (hex, first 32 digits) of an attempts table's content: ids, columns and order. */
function contentHash(table: AttemptsTable): string {
  const h = createHash('sha256');
  h.update(table.learnerIds.join('\n')).update('\0').update(table.conceptIds.join('\n')).update('\0').update(table.questionIds.join('\n'));
  const feed = (a: ArrayBufferView | null) => {
    h.update('\0');
    if (a) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  feed(table.learner);
  feed(table.concept);
  feed(table.correct);
  feed(table.time);
  feed(table.question);
  return h.digest('hex').slice(0, 32);
}
