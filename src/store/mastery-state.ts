/**
 * Mastery state: the write transaction of online updates (StoreTransaction) with its one lock
 * and upsert protocol, and the reads of states, snapshots and the attempt ledger.
 *
 * Locking a state (lockStates): where the dialect needs placeholders (PostgreSQL), a new state is
 * first inserted as a placeholder row (n_attempts 0, ON CONFLICT DO NOTHING), so that the SELECT
 * ... FOR UPDATE that follows locks every state of the call, new ones included; a second writer
 * blocks there until this transaction ends. A placeholder nothing was written to is deleted
 * before commit, so a lock alone leaves no row. SQLite's BEGIN IMMEDIATE already holds the one
 * write lock: no placeholders, no FOR UPDATE. States are locked in (user, concept) order.
 */
import { NotFoundError } from '../errors.js';
import { isUuid, newUuid, toUuid } from './ids.js';
import type { JoinedLabels } from './labels.js';
import { resolveParamsIn, resolveParamsManyIn, resolveParamsManyReads } from './params.js';
import { requireUuid, rowCodec, toIsoTimestamp, whereClause, type RowCodec } from './row-codec.js';
import type { SqlContext, SqlValue, TransactionExecutor } from './sql.js';
import {
  stateKeyOf,
  type LedgerInput,
  type LedgerRow,
  type LockedStateRow,
  type ResolvedParams,
  type SnapshotFilter,
  type SnapshotInput,
  type SnapshotRow,
  type StateFilter,
  type StateInput,
  type StateKey,
  type StoreTransaction,
  type UserSkillStateRow,
} from './store.js';

export const STATES = rowCodec<UserSkillStateRow>('bkt_user_skill_state');
export const SNAPSHOTS = rowCodec<SnapshotRow>('mastery_snapshot');
/** A locked state as lockStates reads it: without created_at and updated_at, two timestamps per row a batch would parse for nothing. */
const LOCKED_STATES = rowCodec<LockedStateRow>('bkt_user_skill_state', ['user_id', 'concept_id', 'p_mastery', 'n_attempts', 'last_attempt_at', 'last_seen_question_id', 'algo_version_id']);
const LEDGER = rowCodec<LedgerRow>('bkt_attempt_ledger', ['attempt_key', 'answered_at', 'applied_at', 'correct', 'question_id']);
const LEDGER_COLUMNS = ['user_id', 'concept_id', 'attempt_key', 'answered_at', 'applied_at', 'correct', 'question_id'];

/** Rows per multi-row INSERT (placeholders, upserts): well under both databases' bound-parameter limits. */
const ROWS_PER_STATEMENT = 500;
/** The time text bkt writes (toISOString): written as given, any other form converted. */
const CANONICAL_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
/**
 * lockStates selects the cross product of the states' users and concepts while it is at most
 * this many times the states asked for (one short statement), else the exact pairs.
 */
const CROSS_PRODUCT_SLACK = 2;
/** Attempt keys per ledger lookup. */
const KEYS_PER_LOOKUP = 5000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
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

/** One write transaction's StoreTransaction over `ex`; `finish` must run last (it queues the removal of unused placeholders for the commit). */
function transactionOver(ctx: SqlContext, ex: TransactionExecutor): { tx: StoreTransaction; finish(): void } {
  const d = ctx.dialect;
  /** Placeholder rows this transaction inserted and has not written a state to, by stateKeyOf. */
  const placeholders = new Set<string>();
  /** States this transaction locked, by stateKeyOf of their canonical ids. */
  const locked = new Set<string>();
  /**
   * A state's ids as written: those of a state this transaction locked are canonical already (one
   * Set lookup instead of two id checks per row of a bulk write); others are checked and mapped.
   */
  const idsOf = (userId: string, conceptId: string): [string, string] =>
    locked.has(stateKeyOf(userId, conceptId)) ? [userId, conceptId] : [requireUuid(userId, 'user id'), toUuid(conceptId)];
  const timeText = (value: string | null): string | null => (value === null ? null : CANONICAL_TIME.test(value) ? value : toIsoTimestamp(value));

  /**
   * Whether each user (lower-case) is in users, as this transaction read it: lockWith checks a
   * user once, and resolveParamsAndUsers reads it ahead in the same round trip as the parameters.
   */
  const usersChecked = new Map<string, boolean>();
  const usersCheck = (userIds: readonly string[]) => {
    const usersIn = d.inList('id', userIds);
    return {
      sql: `SELECT id FROM users WHERE ${usersIn.sql}`,
      params: usersIn.params,
      record: (rows: readonly Record<string, unknown>[]) => {
        const known = new Set(rows.map((r) => String(r.id).toLowerCase()));
        for (const u of userIds) usersChecked.set(u, known.has(u));
      },
    };
  };

  /**
   * Ledger lookups of `attemptKeys` for the states `keys`: a superset (users x concepts), the
   * caller looks up exact keys (ledgerKeysOf).
   */
  const ledgerLookups = (keys: readonly StateKey[], attemptKeys: readonly string[]): { sql: string; params: SqlValue[] }[] => {
    if (keys.length === 0 || attemptKeys.length === 0) return [];
    const u = d.inList('user_id', [...new Set(keys.map((k) => requireUuid(k.userId, 'user id')))]);
    const c = d.inList('concept_id', [...new Set(keys.map((k) => toUuid(k.conceptId)))]);
    return chunks([...new Set(attemptKeys)], KEYS_PER_LOOKUP).map((part) => {
      const k = d.inList('attempt_key', part);
      return { sql: `SELECT user_id, concept_id, attempt_key FROM bkt_attempt_ledger WHERE ${u.sql} AND ${c.sql} AND ${k.sql}`, params: [...u.params, ...c.params, ...k.params] };
    });
  };
  const ledgerKeysOf = (results: readonly Record<string, unknown>[][]): Set<string> => {
    const found = new Set<string>();
    for (const rows of results) for (const r of rows) found.add(`${stateKeyOf(String(r.user_id).toLowerCase(), String(r.concept_id).toLowerCase())}|${String(r.attempt_key)}`);
    return found;
  };

  /**
   * The lock protocol; `codec` picks the columns read back (a batch skips the timestamps it never
   * uses). One batch (one round trip on PostgreSQL, with BEGIN when it is the transaction's
   * first), in this order: the parameters of `paramsConcepts` (if any), the users check with the
   * placeholders, the locking selects, and the ledger lookup of `attemptKeys` (if any). The lookup
   * runs once the states are locked, so its answer holds until commit. Where the dialect needs
   * placeholders, each chunk's users check and placeholder insert are one statement (a
   * data-modifying WITH, one snapshot): placeholders go only to users it finds, so a missing user
   * fails nothing but its own states, and it answers which users exist.
   */
  const lockWith = async <Row extends StateInput>(
    keys: readonly StateKey[],
    codec: RowCodec<Row>,
    attemptKeys: readonly string[] = [],
    paramsConcepts: readonly string[] = [],
  ): Promise<{ rows: Map<string, Row>; missingUsers: Set<string>; appliedKeys: Set<string>; params: Map<string, ResolvedParams> }> => {
    const wanted = new Map<string, { u: string; c: string }>();
    for (const k of keys) {
      const u = requireUuid(k.userId, 'user id');
      const c = toUuid(k.conceptId);
      wanted.set(stateKeyOf(u, c), { u, c });
    }
    const reads = resolveParamsManyReads(ctx, paramsConcepts.map(toUuid));
    const rows = new Map<string, Row>();
    const missingUsers = new Set<string>();
    if (wanted.size === 0) return { rows, missingUsers, appliedKeys: new Set(), params: reads.decode(await ex.queryBatch(reads.statements)) };
    // Users this transaction already found missing are not locked again.
    const candidates = [...wanted.values()].filter((k) => usersChecked.get(k.u) !== false);
    if (candidates.length === 0) {
      for (const k of wanted.values()) missingUsers.add(k.u);
      return { rows, missingUsers, appliedKeys: new Set(), params: reads.decode(await ex.queryBatch(reads.statements)) };
    }
    const userStatements: { sql: string; params: SqlValue[]; record(rows: readonly Record<string, unknown>[]): void }[] = [];
    if (d.placeholderLocks) {
      const now = new Date().toISOString();
      for (const part of chunks(candidates, ROWS_PER_STATEMENT)) {
        const partUsers = [...new Set(part.map((k) => k.u))];
        userStatements.push({
          sql: `WITH known AS (SELECT id FROM users WHERE id = ANY(?::uuid[])),
           placed AS (INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, created_at, updated_at)
             SELECT w.user_id, w.concept_id, 0, 0, ?::timestamptz, ?::timestamptz FROM unnest(?::uuid[], ?::uuid[]) AS w(user_id, concept_id)
             JOIN known ON known.id = w.user_id ORDER BY w.user_id, w.concept_id
             ON CONFLICT (user_id, concept_id) DO NOTHING RETURNING user_id, concept_id)
           SELECT id AS user_id, NULL::uuid AS concept_id FROM known UNION ALL SELECT user_id, concept_id FROM placed`,
          params: [partUsers, now, now, part.map((k) => k.u), part.map((k) => k.c)],
          record: (found) => {
            const known = new Set<string>();
            for (const r of found) {
              const u = String(r.user_id).toLowerCase();
              if (r.concept_id === null) known.add(u);
              else placeholders.add(stateKeyOf(u, String(r.concept_id).toLowerCase()));
            }
            for (const u of partUsers) usersChecked.set(u, known.has(u));
          },
        });
      }
    } else {
      const unchecked = [...new Set(candidates.map((k) => k.u))].filter((u) => !usersChecked.has(u));
      if (unchecked.length) userStatements.push(usersCheck(unchecked));
    }
    // Locked in (user, concept) order; the states of a user found missing have no rows to lock.
    const users = [...new Set(candidates.map((k) => k.u))];
    const concepts = [...new Set(candidates.map((k) => k.c))];
    const selects: { sql: string; params: SqlValue[] }[] = [];
    if (users.length * concepts.length <= CROSS_PRODUCT_SLACK * candidates.length) {
      // One select locks them all, in (user, concept) order; it may return more rows than asked
      // (the cross product of the users and concepts), which are locked too and harmless.
      const u = d.inList('user_id', users);
      const c = d.inList('concept_id', concepts);
      selects.push({ sql: `SELECT ${codec.select} FROM bkt_user_skill_state WHERE ${u.sql} AND ${c.sql} ORDER BY user_id, concept_id${d.forUpdate}`, params: [...u.params, ...c.params] });
    } else {
      // Scattered states (many users, each with few of many concepts: a service's group of
      // updates): the cross product would read, and on PostgreSQL lock (a tuple write each), many
      // times the states asked for. Select the exact pairs, in chunks in (user, concept) order.
      const pairs = candidates.map((k) => [k.u, k.c] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0));
      for (const part of chunks(pairs, ROWS_PER_STATEMENT)) {
        const p = d.uuidPairIn('user_id', 'concept_id', part);
        selects.push({ sql: `SELECT ${codec.select} FROM bkt_user_skill_state WHERE ${p.sql} ORDER BY user_id, concept_id${d.forUpdate}`, params: p.params });
      }
    }
    const lookups = ledgerLookups(
      candidates.map((k) => ({ userId: k.u, conceptId: k.c })),
      attemptKeys,
    );
    const results = await ex.queryBatch([...reads.statements, ...userStatements, ...selects, ...lookups]);
    let at = reads.statements.length;
    const params = reads.decode(results.slice(0, at));
    for (const s of userStatements) s.record(results[at++]);
    for (const [key, k] of wanted) {
      if (usersChecked.get(k.u)) locked.add(key);
      else missingUsers.add(k.u);
    }
    for (const selected of results.slice(at, at + selects.length)) {
      for (const r of selected) {
        const state = codec.decode(r);
        const key = stateKeyOf(state.user_id, state.concept_id);
        if (wanted.has(key) && !placeholders.has(key) && usersChecked.get(state.user_id)) rows.set(key, state);
      }
    }
    return { rows, missingUsers, appliedKeys: ledgerKeysOf(results.slice(at + selects.length)), params };
  };

  const upsertStates = async (states: readonly StateInput[]): Promise<void> => {
    const now = new Date().toISOString();
    const byKey = new Map<string, SqlValue[]>();
    for (const s of states) {
      const [u, c] = idsOf(s.user_id, s.concept_id);
      byKey.set(stateKeyOf(u, c), [u, c, s.p_mastery, s.n_attempts, timeText(s.last_attempt_at || null), s.last_seen_question_id, s.algo_version_id, now, now]);
    }
    // Nothing later in the transaction reads them back: they go with COMMIT (one round trip on PostgreSQL).
    for (const part of chunks([...byKey.values()], ROWS_PER_STATEMENT)) {
      ex.deferUntilCommit(
        `INSERT INTO bkt_user_skill_state (user_id, concept_id, p_mastery, n_attempts, last_attempt_at, last_seen_question_id, algo_version_id, created_at, updated_at)
         VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (user_id, concept_id) DO UPDATE SET p_mastery = excluded.p_mastery, n_attempts = excluded.n_attempts,
           last_attempt_at = excluded.last_attempt_at, last_seen_question_id = excluded.last_seen_question_id,
           algo_version_id = excluded.algo_version_id, updated_at = excluded.updated_at`,
        part.flat(),
      );
    }
    for (const key of byKey.keys()) placeholders.delete(key);
  };

  const tx: StoreTransaction = {
    lockState: async (userId, conceptId) => {
      const { rows, missingUsers } = await lockWith([{ userId, conceptId }], STATES);
      const u = requireUuid(userId, 'user id');
      if (missingUsers.size) throw new NotFoundError(`user ${u}: not in the users table of ${ctx.display}`, 'Import the user first (bkt import) or check `userId`');
      return rows.get(stateKeyOf(u, toUuid(conceptId))) ?? null;
    },
    lockStates: (keys, attemptKeys, paramsConcepts) => lockWith(keys, LOCKED_STATES, attemptKeys, paramsConcepts),
    appliedAttemptKeys: async (keys, attemptKeys) => ledgerKeysOf(await ex.queryBatch(ledgerLookups(keys, attemptKeys))),
    recordAttempts: async (rows: readonly LedgerInput[]) => {
      if (rows.length === 0) return;
      const appliedAt = new Date().toISOString();
      const values = rows.map((r): SqlValue[] => {
        const [u, c] = idsOf(r.user_id, r.concept_id);
        return [u, c, r.attempt_key, timeText(r.answered_at), appliedAt, d.bool(r.correct), r.question_id ? toUuid(r.question_id) : null];
      });
      if (values.length > ROWS_PER_STATEMENT) {
        await ex.bulkInsert('bkt_attempt_ledger', LEDGER_COLUMNS, values);
        return;
      }
      // A service's group: one insert that goes with COMMIT, where COPY would cost two round trips of its own.
      ex.deferUntilCommit(`INSERT INTO bkt_attempt_ledger (${LEDGER_COLUMNS.join(', ')}) VALUES ${values.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`, values.flat());
    },
    recordAttempt: async (userId, conceptId, attemptKey, answeredAt, outcome) => {
      const n = await ex.run(
        `INSERT INTO bkt_attempt_ledger (${LEDGER_COLUMNS.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, concept_id, attempt_key) DO NOTHING`,
        [
          requireUuid(userId, 'user id'),
          toUuid(conceptId),
          attemptKey,
          answeredAt ? toIsoTimestamp(answeredAt) : null,
          new Date().toISOString(),
          outcome ? d.bool(outcome.correct) : null,
          outcome?.questionId ? toUuid(outcome.questionId) : null,
        ],
      );
      return n > 0;
    },
    readLedger: async (userId, conceptId) => {
      const rows = await ex.query(`SELECT ${LEDGER.select} FROM bkt_attempt_ledger WHERE user_id = ? AND concept_id = ?`, [requireUuid(userId, 'user id'), toUuid(conceptId)]);
      return sortLedger(rows.map(LEDGER.decode));
    },
    upsertState: (state) => upsertStates([state]),
    upsertStates,
    insertSnapshot: async (s: SnapshotInput) => {
      const id = newUuid();
      await ex.run(`INSERT INTO mastery_snapshot (${SNAPSHOTS.select}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        id,
        requireUuid(s.user_id, 'user id'),
        toUuid(s.concept_id),
        s.p_mastery,
        s.n_attempts,
        s.algo_version_id,
        s.created_at ? toIsoTimestamp(s.created_at) : new Date().toISOString(),
      ]);
      return id;
    },
    insertSnapshots: async (snapshots) => {
      const now = new Date().toISOString();
      const rows = snapshots.map((s): SqlValue[] => [
        newUuid(),
        requireUuid(s.user_id, 'user id'),
        toUuid(s.concept_id),
        s.p_mastery,
        s.n_attempts,
        s.algo_version_id,
        s.created_at ? toIsoTimestamp(s.created_at) : now,
      ]);
      // Nothing later in the transaction reads them back: they go with COMMIT (one round trip on PostgreSQL).
      for (const part of chunks(rows, ROWS_PER_STATEMENT)) {
        ex.deferUntilCommit(`INSERT INTO mastery_snapshot (${SNAPSHOTS.select}) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`, part.flat());
      }
      return rows.map((r) => String(r[0]));
    },
    resolveParams: (conceptId) => resolveParamsIn(ctx, ex, toUuid(conceptId)),
    resolveParamsMany: (conceptIds) => resolveParamsManyIn(ctx, ex, conceptIds.map(toUuid)),
    resolveParamsAndUsers: async (conceptIds, userIds) => {
      const reads = resolveParamsManyReads(ctx, conceptIds.map(toUuid));
      const users = [...new Set(userIds.map((u) => requireUuid(u, 'user id')))];
      const check = users.length ? usersCheck(users) : null;
      const results = await ex.queryBatch(check ? [...reads.statements, check] : reads.statements);
      check?.record(results[reads.statements.length]);
      return { params: reads.decode(results), missingUsers: new Set(users.filter((u) => !usersChecked.get(u))) };
    },
  };

  const finish = () => {
    for (const part of chunks([...placeholders], ROWS_PER_STATEMENT)) {
      const pairs = part.map((k) => k.split('|'));
      ex.deferUntilCommit(
        `DELETE FROM bkt_user_skill_state WHERE n_attempts = 0 AND (${pairs.map(() => '(user_id = ? AND concept_id = ?)').join(' OR ')})`,
        pairs.flat(),
      );
    }
    placeholders.clear();
  };
  return { tx, finish };
}

/** Run `fn` in one write transaction with the StoreTransaction operations; rolled back if it throws. */
export function withWriteTransaction<T>(ctx: SqlContext, fn: (tx: StoreTransaction) => Promise<T>): Promise<T> {
  return ctx.driver.transaction(async (ex) => {
    const { tx, finish } = transactionOver(ctx, ex);
    const result = await fn(tx);
    // A locked state the callback never wrote (e.g. a duplicate attempt) must not stay as a placeholder.
    finish();
    return result;
  });
}

export async function getState(ctx: SqlContext, userId: string, conceptId: string): Promise<UserSkillStateRow | null> {
  if (!isUuid(userId)) return null;
  const rows = await ctx.driver.query(`SELECT ${STATES.select} FROM bkt_user_skill_state WHERE user_id = ? AND concept_id = ?`, [userId.toLowerCase(), toUuid(conceptId)]);
  return rows.length ? STATES.decode(rows[0]) : null;
}

/** Conditions on user_id and concept_id shared by the state, snapshot and ledger reads. */
function userConceptConditions(ctx: SqlContext, filter: { userId?: string; conceptIds?: string[] }, alias = ''): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.userId) {
    where.push(`${alias}user_id = ?`);
    params.push(requireUuid(filter.userId, 'user id'));
  }
  if (filter.conceptIds?.length) {
    const list = ctx.dialect.inList(`${alias}concept_id`, filter.conceptIds.map(toUuid));
    where.push(list.sql);
    params.push(...list.params);
  }
  return { where, params };
}

/**
 * The select of listStates and streamStates: p_mastery descending, then user_id, concept_id. With
 * `labels`, each row also carries the labels joined on the state's alias `t`.
 */
export function statesQuery(ctx: SqlContext, filter: StateFilter, labels?: JoinedLabels): { sql: string; params: SqlValue[] } {
  const t = labels ? 't.' : '';
  const { where, params } = userConceptConditions(ctx, filter, t);
  if (filter.minMastery !== undefined) {
    where.push(`${t}p_mastery >= ?`);
    params.push(filter.minMastery);
  }
  if (filter.belowMastery !== undefined) {
    where.push(`${t}p_mastery < ?`);
    params.push(filter.belowMastery);
  }
  const select = labels ? `${STATES.selectFrom('t')}, ${labels.select}` : STATES.select;
  const from = labels ? `bkt_user_skill_state t ${labels.joins}` : 'bkt_user_skill_state';
  return { sql: `SELECT ${select} FROM ${from} ${whereClause(where)} ORDER BY ${t}p_mastery DESC, ${t}user_id, ${t}concept_id`, params };
}

/** The select of streamSnapshots: created_at, then id; with `labels`, joined on the snapshot's alias `t`. */
export function snapshotsQuery(ctx: SqlContext, filter: SnapshotFilter, labels?: JoinedLabels): { sql: string; params: SqlValue[] } {
  const t = labels ? 't.' : '';
  const { where, params } = userConceptConditions(ctx, filter, t);
  const select = labels ? `${SNAPSHOTS.selectFrom('t')}, ${labels.select}` : SNAPSHOTS.select;
  const from = labels ? `mastery_snapshot t ${labels.joins}` : 'mastery_snapshot';
  return { sql: `SELECT ${select} FROM ${from} ${whereClause(where)} ORDER BY ${t}created_at, ${t}id`, params };
}

/** See Store.listTrackedStates. */
export async function listTrackedStates(ctx: SqlContext, filter: { userId?: string; conceptIds?: string[] } = {}): Promise<StateKey[]> {
  const l = userConceptConditions(ctx, filter, 'l.');
  const s = userConceptConditions(ctx, filter, 's.');
  const and = (where: string[]) => where.map((x) => ` AND ${x}`).join('');
  const rows = await ctx.driver.query<{ user_id: unknown; concept_id: unknown }>(
    `SELECT l.user_id, l.concept_id FROM bkt_attempt_ledger l JOIN users u ON u.id = l.user_id WHERE 1 = 1${and(l.where)}
     UNION SELECT s.user_id, s.concept_id FROM bkt_user_skill_state s WHERE s.n_attempts > 0${and(s.where)}`,
    [...l.params, ...s.params],
  );
  const seen = new Map<string, StateKey>();
  for (const r of rows) {
    const userId = String(r.user_id).toLowerCase();
    const conceptId = String(r.concept_id).toLowerCase();
    seen.set(stateKeyOf(userId, conceptId), { userId, conceptId });
  }
  return [...seen.values()].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.conceptId < b.conceptId ? -1 : a.conceptId > b.conceptId ? 1 : 0));
}
