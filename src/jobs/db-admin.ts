/**
 * What `bkt db migrate`, `bkt db check`, `bkt import` and `bkt params list|activate` do, one
 * function each: open the store `--db` names, do one thing, close it.
 */
import { withLabels } from '../store/label-rows.js';
import { z } from 'zod';
import { readAttempts, type ReadAttemptsInput, type ReadSummary } from '../data/read-attempts.js';
import { StorageError, UsageError, type GatedResult } from '../errors.js';
import { toUuid } from '../store/ids.js';
import { describeDifference, type SchemaDifference } from '../store/schema.js';
import { openStore } from '../store/open-store.js';
import { type AbandonedRun, type ImportResult, type OpenStoreOptions, type SkillParamsRow, type Store } from '../store/store.js';

/** `--db`: a SQLite path or postgres:// URL; undefined = DATABASE_URL, else ./bkt.sqlite. */
export const DbOptionSchema = z.object({ db: z.string().min(1).optional() });

/** Open the store, run `fn`, always close it. */
export async function withStore<T>(db: string | undefined, mode: OpenStoreOptions['mode'], fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db, { mode });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export interface MigrateResult {
  db: string;
  backend: string;
  /** Objects created by this run (`table x`, `index y`, `row algo_versions bkt v1`); empty when up to date. */
  created: string[];
}

/** `bkt db migrate`: create what is missing, in one transaction. */
export async function migrateDatabase(input: z.input<typeof DbOptionSchema>): Promise<MigrateResult> {
  const { db } = DbOptionSchema.parse(input);
  return withStore(db, 'migrate', async (store) => {
    const { created } = await store.migrate();
    return { db: store.display, backend: store.backend, created };
  });
}

export interface CheckResult extends GatedResult {
  db: string;
  backend: string;
  ok: boolean;
  differences: (SchemaDifference & { message: string })[];
  /** RUNNING runs whose process was gone, closed FAILED by this check (Store.closeAbandonedRuns). */
  abandoned_runs: AbandonedRun[];
}

/**
 * `bkt db check`: the live tables against schema.md. Any difference sets `failure` (a
 * StorageError, exit 5) naming how many there are; the result lists each. Then, when algo_runs is
 * as expected, every RUNNING run whose process is gone is closed FAILED ("abandoned") and listed.
 */
export async function checkDatabase(input: z.input<typeof DbOptionSchema>): Promise<CheckResult> {
  const { db } = DbOptionSchema.parse(input);
  return withStore(db, 'inspect', async (store) => {
    const differences = (await store.check()).map((d) => ({ ...d, message: describeDifference(d) }));
    const failure = differences.length
      ? new StorageError(`${store.display}: ${differences.length} difference(s) from the schema`, 'Run "bkt db migrate" for missing objects; fix changed columns by hand')
      : null;
    const runsReadable = !differences.some((d) => d.table === 'algo_runs');
    const abandoned = runsReadable ? await store.closeAbandonedRuns('bkt db check') : [];
    return { db: store.display, backend: store.backend, ok: differences.length === 0, differences, abandoned_runs: abandoned, failure };
  });
}

export interface ImportCommandResult extends ImportResult {
  db: string;
  source: string;
  rows: number;
  read: ReadSummary;
}

/**
 * `bkt import`: read the file first (a bad file never touches the store), then load it into the
 * app's tables in one transaction (Store.importAttempts).
 */
export async function importAttemptsFile(input: { db?: string; read: ReadAttemptsInput }): Promise<ImportCommandResult> {
  const { db } = DbOptionSchema.parse({ db: input.db });
  const { table, summary } = await readAttempts(input.read);
  if (table.length === 0) throw new UsageError(`\`input\` ${summary.source}: no attempts left after the filters`, 'Nothing was imported');
  return withStore(db, 'use', async (store) => {
    const result = await store.importAttempts(table);
    return { db: store.display, source: summary.source, rows: table.length, read: summary, ...result };
  });
}

export const ListParamsOptionsSchema = DbOptionSchema.extend({
  /** `--concept-id` (repeatable). Default all concepts. */
  conceptIds: z.array(z.string().min(1)).default([]),
  /** `--all`: past (inactive) rows too. Default active only. */
  all: z.boolean().default(false),
});

export interface ListParamsResult {
  db: string;
  /** The concepts asked for (ids as stored), empty for all. */
  concept_ids: string[];
  /** Whether inactive rows are included. */
  all: boolean;
  /** Each row with `concept_label`: the concept's id in the imported file, when it was not a UUID. */
  params: Array<SkillParamsRow & { concept_label: string | null }>;
  /** Inactive rows matching the filter (listed only with `all`), so an empty list can say why. */
  inactive: number;
}

/** `bkt params list`: active rows (every row with `all`), and how many inactive rows there are. */
export async function listParams(input: z.input<typeof ListParamsOptionsSchema>): Promise<ListParamsResult> {
  const options = ListParamsOptionsSchema.parse(input);
  return withStore(options.db, 'use', async (store) => {
    const rows = await store.listParams({ conceptIds: options.conceptIds, all: true });
    const inactive = rows.filter((r) => !r.is_active).length;
    return {
      db: store.display,
      concept_ids: options.conceptIds.map(toUuid),
      all: options.all,
      params: await withLabels(store, options.all ? rows : rows.filter((r) => r.is_active)),
      inactive,
    };
  });
}

/** `bkt params activate <id>`: roll the concept back (or forward) to this row, in one transaction. */
export async function activateParams(input: { db?: string; paramsId: string }): Promise<{ db: string; params: SkillParamsRow; previous_active: string[] }> {
  const { db } = DbOptionSchema.parse({ db: input.db });
  return withStore(db, 'use', async (store) => {
    const target = await store.getParams(input.paramsId);
    const before = target ? (await store.listParams({ conceptIds: [target.concept_id] })).map((p) => p.id) : [];
    const params = await store.activateParams(input.paramsId);
    return { db: store.display, params, previous_active: before.filter((id) => id !== params.id) };
  });
}
