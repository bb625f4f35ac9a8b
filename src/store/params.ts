/**
 * Parameters: bkt v1's version row, fitted parameter sets, activation (one active row per concept
 * even under racing activations), and schema.md's resolution when none are fitted.
 */
import { NotFoundError, StorageError, UsageError } from '../errors.js';
import { BUILTIN_DEFAULT_PARAMS, type BktParams } from '../model/params.js';
import { parseVariantModel } from '../model/variants/variant-model.js';
import { isUuid, newUuid, toUuid } from './ids.js';
import type { JoinedLabels } from './labels.js';
import { decodeJson, requireUuid, rowCodec, toIsoTimestamp, whereClause } from './row-codec.js';
import type { SqlContext, SqlExecutor, SqlValue } from './sql.js';
import { BKT_ALGO_KEY, BKT_ALGO_VERSION, type ListParamsFilter, type ResolvedParams, type SaveParamsInput, type SaveParamsOptions, type SkillParamsRow } from './store.js';

export const PARAMS = rowCodec<SkillParamsRow>('bkt_skill_params');

export interface AlgoVersion {
  algo_version_id: string;
  algo_params_id: string | null;
  key: string;
  version: string;
}

/** bkt v1's algo_versions.id and its active algo_params.id (null when absent), read through `ex`. */
/** bkt v1's active algo_params row with its params_json (the app's defaults and bounds), or null. */
export async function activeAlgoParamsIn(ctx: SqlContext): Promise<{ id: string; params_json: Record<string, unknown> } | null> {
  const v = await algoVersionIn(ctx, ctx.driver);
  if (!v?.algo_params_id) return null;
  const rows = await ctx.driver.query('SELECT id, params_json FROM algo_params WHERE id = ?', [v.algo_params_id]);
  return rows.length ? { id: String(rows[0].id), params_json: decodeJson(rows[0].params_json) } : null;
}

export async function algoVersionIn(ctx: SqlContext, ex: SqlExecutor): Promise<AlgoVersion | null> {
  const v = await ex.query('SELECT id FROM algo_versions WHERE algo_key = ? AND version = ?', [BKT_ALGO_KEY, BKT_ALGO_VERSION]);
  if (v.length === 0) return null;
  const versionId = String(v[0].id);
  const p = await ex.query(
    'SELECT id FROM algo_params WHERE algo_version_id = ? AND is_active = ? ORDER BY created_at DESC, id LIMIT 1',
    [versionId, ctx.dialect.bool(true)],
  );
  return { algo_version_id: versionId, algo_params_id: p.length ? String(p[0].id) : null, key: BKT_ALGO_KEY, version: BKT_ALGO_VERSION };
}

/** algoVersionIn, or a StorageError naming `bkt db migrate`. */
export async function requireAlgoVersion(ctx: SqlContext, ex: SqlExecutor): Promise<AlgoVersion> {
  const v = await algoVersionIn(ctx, ex);
  if (!v) throw new StorageError(`${ctx.display}: no algo_versions row for bkt v1`, 'Run "bkt db migrate" first');
  return v;
}

/** Per-concept activation lock (PostgreSQL advisory lock; nothing where BEGIN IMMEDIATE serialises). */
async function lockConcept(ctx: SqlContext, tx: SqlExecutor, conceptId: string): Promise<void> {
  if (ctx.dialect.advisoryLockSql) await tx.query(ctx.dialect.advisoryLockSql, [`bkt_skill_params:${conceptId}`]);
  await tx.query(`SELECT id FROM bkt_skill_params WHERE concept_id = ? AND is_active = ?${ctx.dialect.forUpdate}`, [conceptId, ctx.dialect.bool(true)]);
}

/** Insert one fitted parameter set; with activate, deactivate the concept's active rows first (one transaction). */
export async function saveParams(ctx: SqlContext, input: SaveParamsInput, options: SaveParamsOptions): Promise<SkillParamsRow> {
  const conceptId = toUuid(input.concept_id);
  for (const name of ['p_L0', 'p_T', 'p_S', 'p_G'] as const) {
    if (!Number.isFinite(input.params[name])) throw new UsageError(`concept ${conceptId}: ${name} = ${input.params[name]} is not a number`);
  }
  const dataFrom = options.dataFrom ? toIsoTimestamp(options.dataFrom, '`dataFrom`') : null;
  const dataTo = options.dataTo ? toIsoTimestamp(options.dataTo, '`dataTo`') : null;
  return ctx.driver.transaction(async (tx) => {
    const versionId = options.algoVersionId ?? (await requireAlgoVersion(ctx, tx)).algo_version_id;
    const now = new Date().toISOString();
    if (options.activate) {
      await lockConcept(ctx, tx, conceptId);
      await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE concept_id = ? AND is_active = ?', [
        ctx.dialect.bool(false),
        now,
        conceptId,
        ctx.dialect.bool(true),
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
        ctx.dialect.bool(options.activate),
        now,
        now,
      ],
    );
    if (options.runProgress) {
      await tx.run('UPDATE algo_runs SET output_summary_json = ? WHERE id = ?', [JSON.stringify(options.runProgress.outputSummary), options.runProgress.runId]);
    }
    const rows = await tx.query(`SELECT ${PARAMS.select} FROM bkt_skill_params WHERE id = ?`, [id]);
    return PARAMS.decode(rows[0]);
  });
}

/** Make `paramsId` its concept's only active row; NotFoundError when it does not exist. */
export async function activateParams(ctx: SqlContext, paramsId: string): Promise<SkillParamsRow> {
  const id = requireUuid(paramsId, 'params id');
  return ctx.driver.transaction(async (tx) => {
    const found = await tx.query('SELECT concept_id FROM bkt_skill_params WHERE id = ?', [id]);
    if (found.length === 0) {
      throw new NotFoundError(`params ${id}: no such bkt_skill_params row in ${ctx.display}`, 'List the ids with "bkt params list --all"');
    }
    const conceptId = String(found[0].concept_id);
    await lockConcept(ctx, tx, conceptId);
    const now = new Date().toISOString();
    await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE concept_id = ? AND is_active = ? AND id <> ?', [
      ctx.dialect.bool(false),
      now,
      conceptId,
      ctx.dialect.bool(true),
      id,
    ]);
    await tx.run('UPDATE bkt_skill_params SET is_active = ?, updated_at = ? WHERE id = ?', [ctx.dialect.bool(true), now, id]);
    const rows = await tx.query(`SELECT ${PARAMS.select} FROM bkt_skill_params WHERE id = ?`, [id]);
    return PARAMS.decode(rows[0]);
  });
}

/** The select of listParams and streamParams; with `labels`, each row also carries the labels joined on alias `t`. */
export function paramsQuery(ctx: SqlContext, filter: ListParamsFilter, labels?: JoinedLabels): { sql: string; params: SqlValue[] } {
  const t = labels ? 't.' : '';
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (!filter.all) {
    where.push(`${t}is_active = ?`);
    params.push(ctx.dialect.bool(true));
  }
  if (filter.conceptIds?.length) {
    const list = ctx.dialect.inList(`${t}concept_id`, filter.conceptIds.map(toUuid));
    where.push(list.sql);
    params.push(...list.params);
  }
  const select = labels ? `${PARAMS.selectFrom('t')}, ${labels.select}` : PARAMS.select;
  const from = labels ? `bkt_skill_params t ${labels.joins}` : 'bkt_skill_params';
  return {
    sql: `SELECT ${select} FROM ${from} ${whereClause(where)} ORDER BY ${t}concept_id, ${t}fitted_at DESC, ${t}created_at DESC, ${t}id`,
    params,
  };
}

export async function listParams(ctx: SqlContext, filter: ListParamsFilter = {}): Promise<SkillParamsRow[]> {
  const q = paramsQuery(ctx, filter);
  return (await ctx.driver.query(q.sql, q.params)).map(PARAMS.decode);
}

export async function getParams(ctx: SqlContext, paramsId: string): Promise<SkillParamsRow | null> {
  if (!isUuid(paramsId)) return null;
  const rows = await ctx.driver.query(`SELECT ${PARAMS.select} FROM bkt_skill_params WHERE id = ?`, [paramsId.toLowerCase()]);
  return rows.length ? PARAMS.decode(rows[0]) : null;
}

/** The concept's active row with the latest fitted_at, or null, read through `ex`. */
export async function activeParamsIn(ctx: SqlContext, ex: SqlExecutor, conceptId: string): Promise<SkillParamsRow | null> {
  const rows = await ex.query(
    `SELECT ${PARAMS.select} FROM bkt_skill_params WHERE concept_id = ? AND is_active = ? ORDER BY fitted_at DESC, created_at DESC, id LIMIT 1`,
    [conceptId, ctx.dialect.bool(true)],
  );
  return rows.length ? PARAMS.decode(rows[0]) : null;
}

/** A concept's active fitted row as the parameters an update uses. */
function fittedParams(active: SkillParamsRow): ResolvedParams {
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

/**
 * The read of the parameters of a concept without an active fit: bkt v1's active algo_params
 * defaults, else the built-in ones (defaultsOf). One query: the LEFT JOIN yields either the
 * version's active algo_params rows or one row without them, so the NULL ordering of the two
 * databases never matters.
 */
function defaultsRead(ctx: SqlContext): { sql: string; params: SqlValue[] } {
  return {
    sql: `SELECT v.id AS version_id, p.params_json FROM algo_versions v LEFT JOIN algo_params p ON p.algo_version_id = v.id AND p.is_active = ?
     WHERE v.algo_key = ? AND v.version = ? ORDER BY p.created_at DESC, p.id LIMIT 1`,
    params: [ctx.dialect.bool(true), BKT_ALGO_KEY, BKT_ALGO_VERSION],
  };
}

function defaultsOf(rows: readonly Record<string, unknown>[]): ResolvedParams {
  if (rows.length && rows[0].params_json !== null && rows[0].params_json !== undefined) {
    const j = decodeJson(rows[0].params_json);
    const pick = (key: string, fallback: number) => (typeof j[key] === 'number' && Number.isFinite(j[key] as number) ? (j[key] as number) : fallback);
    const params: BktParams = {
      p_L0: pick('default_L0', BUILTIN_DEFAULT_PARAMS.p_L0),
      p_T: pick('default_T', BUILTIN_DEFAULT_PARAMS.p_T),
      p_S: pick('default_S', BUILTIN_DEFAULT_PARAMS.p_S),
      p_G: pick('default_G', BUILTIN_DEFAULT_PARAMS.p_G),
      p_F: 0,
    };
    return { params, params_id: null, algo_version_id: String(rows[0].version_id), is_default: true, source: 'algo_params' };
  }
  return { params: { ...BUILTIN_DEFAULT_PARAMS }, params_id: null, algo_version_id: null, is_default: true, source: 'builtin' };
}

async function defaultParamsIn(ctx: SqlContext, ex: SqlExecutor): Promise<ResolvedParams> {
  const q = defaultsRead(ctx);
  return defaultsOf(await ex.query(q.sql, q.params));
}

/** schema.md "Parameters when none are fitted", read through `ex` (a transaction or the driver). */
export async function resolveParamsIn(ctx: SqlContext, ex: SqlExecutor, conceptId: string): Promise<ResolvedParams> {
  const active = await activeParamsIn(ctx, ex, conceptId);
  return active ? fittedParams(active) : defaultParamsIn(ctx, ex);
}

/** Every concept's active rows in one select, in activeParamsIn's order per concept. */
function activeManyRead(ctx: SqlContext, conceptIds: readonly string[]): { sql: string; params: SqlValue[] } {
  const list = ctx.dialect.inList('concept_id', conceptIds);
  return {
    sql: `SELECT ${PARAMS.select} FROM bkt_skill_params WHERE ${list.sql} AND is_active = ? ORDER BY concept_id, fitted_at DESC, created_at DESC, id`,
    params: [...list.params, ctx.dialect.bool(true)],
  };
}

/** The first active row per concept (activeManyRead's rows) as its parameters, the others from `defaults`. */
function paramsByConcept(conceptIds: readonly string[], activeRows: readonly Record<string, unknown>[], defaults: () => ResolvedParams): Map<string, ResolvedParams> {
  const out = new Map<string, ResolvedParams>();
  for (const r of activeRows) {
    const active = PARAMS.decode(r);
    if (!out.has(active.concept_id)) out.set(active.concept_id, fittedParams(active));
  }
  for (const c of conceptIds) if (!out.has(c)) out.set(c, defaults());
  return out;
}

/**
 * resolveParamsIn for many concepts (canonical ids) in at most two queries, whatever their number:
 * every concept's active rows in one select (the first per concept in activeParamsIn's order), then
 * the defaults once if any concept has no fit. Keyed by concept id.
 */
export async function resolveParamsManyIn(ctx: SqlContext, ex: SqlExecutor, conceptIds: readonly string[]): Promise<Map<string, ResolvedParams>> {
  const wanted = [...new Set(conceptIds)];
  if (wanted.length === 0) return new Map();
  const active = activeManyRead(ctx, wanted);
  const rows = await ex.query(active.sql, active.params);
  const fitted = new Set(rows.map((r) => PARAMS.decode(r).concept_id));
  const defaults = wanted.every((c) => fitted.has(c)) ? null : await defaultParamsIn(ctx, ex);
  return paramsByConcept(wanted, rows, () => defaults!);
}

/**
 * resolveParamsManyIn as statements to send in one batch with others (both reads, the defaults
 * whether needed or not: a statement costs less than a round trip), and how to read their rows.
 */
export function resolveParamsManyReads(
  ctx: SqlContext,
  conceptIds: readonly string[],
): { statements: { sql: string; params: SqlValue[] }[]; decode(results: readonly (readonly Record<string, unknown>[])[]): Map<string, ResolvedParams> } {
  const wanted = [...new Set(conceptIds)];
  if (wanted.length === 0) return { statements: [], decode: () => new Map() };
  return {
    statements: [activeManyRead(ctx, wanted), defaultsRead(ctx)],
    decode: ([activeRows, defaultRows]) => {
      let defaults: ResolvedParams | undefined;
      return paramsByConcept(wanted, activeRows, () => (defaults ??= defaultsOf(defaultRows)));
    },
  };
}
