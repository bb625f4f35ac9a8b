/**
 * The one entry point behind `bkt update`, `bkt mastery` and `bkt snapshot`: validate the
 * options (a bad value is a UsageError naming its flag), open the store `--db` names, run, close.
 */
import { withLabels } from '../store/label-rows.js';
import { z } from 'zod';
import { TIME_RANGE_TEXT } from '../data/input-limits.js';
import { parseTimeString } from '../data/parse-values.js';
import { BktError, UsageError } from '../errors.js';
import { toUuid } from '../store/ids.js';
import { openStore } from '../store/open-store.js';
import { type Store } from '../store/store.js';
import { keyUntimedAttempts, UNTIMED_RULES, type UntimedSummary } from './attempt-key.js';
import { readBatchAttempts, BATCH_FORMATS } from './batch-input.js';
import { queryMastery, snapshotStates, type MasteryResult } from './query.js';
import { ADMIN_SCOPE, learnerScope, type Scope } from './scope.js';
import { applySession, rebuildStates, type RebuildSummary, type SessionSummary } from './session-update.js';
import { applyAttempt, applyBatch, type BatchSummary, type UpdateResult } from './update-service.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An id the app made (a session): must be a UUID. */
const uuid = z.string().regex(UUID_RE, 'is not a UUID').transform((s) => s.toLowerCase());
/**
 * A user, concept or question id: a UUID is kept, any other id maps to the UUID `bkt import`
 * stored for it (toUuid: an integer n is the UUID of value n, other text a version-5 UUID).
 */
const id = z.string().trim().min(1, 'is empty').transform(toUuid);

/**
 * Parse with `schema`, turning the first issue into a UsageError that names the option (in
 * backticks, as every src/ error does; the CLI shows its flag) and the value given.
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, command: string): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = String(issue.path[0] ?? '');
  let value: unknown = (input as Record<string, unknown>)?.[key];
  if (Array.isArray(value) && typeof issue.path[1] === 'number') value = value[issue.path[1]];
  const shown = value === undefined ? '' : ` "${String(value)}"`;
  throw new UsageError(`${key ? `\`${key}\`` : 'options'}${shown} ${issue.message}`, `See bkt ${command} --help`);
}

export const updateOptionsSchema = z
  .object({
    db: z.string().optional(),
    asUser: id.optional(),
    // one attempt
    userId: id.optional(),
    conceptId: id.optional(),
    correct: z.boolean().optional(),
    questionId: id.optional(),
    at: z.string().refine((s) => !Number.isNaN(parseTimeString(s)), `is not an ISO-8601 time ${TIME_RANGE_TEXT}`).optional(),
    attemptKey: z.string().min(1).optional(),
    snapshot: z.boolean().default(false),
    // a batch file
    input: z.string().optional(),
    format: z.enum(BATCH_FORMATS).optional(),
    columns: z.object({ user: z.string(), concept: z.string(), correct: z.string(), time: z.string(), question: z.string(), key: z.string() }).partial().default({}),
    batchSize: z.number().int().min(1, 'must be at least 1').default(1000),
    failFast: z.boolean().default(false),
    untimed: z.enum(UNTIMED_RULES).optional(),
    // a session, or a rebuild
    sessionId: uuid.optional(),
    rebuild: z.boolean().default(false),
    conceptIds: z.array(id).optional(),
  })
  .superRefine((o, ctx) => {
    const modes = [o.input !== undefined, o.sessionId !== undefined, o.rebuild].filter(Boolean).length;
    if (modes > 1) ctx.addIssue({ code: 'custom', path: ['input'], message: 'choose one of `input`, `sessionId` and `rebuild`' });
    if (modes === 0) {
      if (o.conceptIds && o.conceptIds.length > 1) ctx.addIssue({ code: 'custom', path: ['conceptIds'], message: 'is given more than once: one attempt has one concept' });
      const given = { userId: o.userId, conceptId: o.conceptId ?? o.conceptIds?.[0], correct: o.correct };
      for (const k of ['userId', 'conceptId', 'correct'] as const) {
        if (given[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'is required: one attempt needs `userId`, `conceptId` and `correct` (or give `input`, `sessionId` or `rebuild`)' });
      }
    }
  });
export type UpdateOptions = z.input<typeof updateOptionsSchema> & { onProgress?: (done: number, total: number) => void };

/** The names `bkt import` kept for a row's learner and concept (null where an id has none). */
type Labels = { user_label: string | null; concept_label: string | null };

/**
 * `bkt update`'s result in each mode. The learner and concept it names carry their labels (the
 * service's responses keep the app's fields and have none): `user_label` after `user_id`,
 * `concept_label` after `concept_id`; a session's concepts by id in `concept_labels`.
 */
export type UpdateCommandResult =
  | ({ mode: 'attempt' } & UpdateResult & Labels)
  | ({ mode: 'batch'; input: string; untimed: UntimedSummary } & BatchSummary)
  | ({ mode: 'session'; user_label: string | null; concept_labels: Record<string, string | null> } & SessionSummary)
  | ({ mode: 'rebuild' } & Omit<RebuildSummary, 'states_kept'> & { states_kept: Array<RebuildSummary['states_kept'][number] & Labels> });

function scopeOf(asUser: string | undefined): Scope {
  return asUser ? learnerScope(asUser) : ADMIN_SCOPE;
}

async function withStore<T>(db: string | undefined, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `bkt update` in any of its four modes. */
export async function runUpdate(options: UpdateOptions): Promise<UpdateCommandResult> {
  const o = parseOptions(updateOptionsSchema, options, 'update');
  const scope = scopeOf(o.asUser);
  if (o.input !== undefined) {
    // Read (and reject bad rows) before opening the store: a bad file touches nothing.
    const batch = await readBatchAttempts({ input: o.input, format: o.format, columns: o.columns, failFast: o.failFast });
    const source = o.input === '-' ? 'stdin' : o.input;
    const untimed = keyUntimedAttempts(batch.attempts, o.untimed, source);
    return withStore(o.db, async (store) => {
      try {
        return {
          mode: 'batch' as const,
          input: o.input!,
          untimed,
          ...(await applyBatch(store, scope, batch, { batchSize: o.batchSize, failFast: o.failFast, onProgress: options.onProgress })),
        };
      } catch (error) {
        // --fail-fast stops at a row the store refuses (`line 7: user ... does not exist`): name the file too.
        if (error instanceof BktError && /^line \d+/.test(error.message)) error.message = `${source} ${error.message}`;
        throw error;
      }
    });
  }
  return withStore(o.db, async (store) => {
    if (o.sessionId !== undefined) {
      const session = await applySession(store, scope, o.sessionId);
      const users = await store.labels('user', [session.user_id]);
      const concepts = session.concepts.length ? await store.labels('concept', session.concepts) : new Map<string, string>();
      return {
        mode: 'session' as const,
        ...session,
        user_label: users.get(session.user_id.toLowerCase()) ?? null,
        concept_labels: Object.fromEntries(session.concepts.map((c) => [c, concepts.get(c.toLowerCase()) ?? null])),
      };
    }
    if (o.rebuild) {
      const concepts = o.conceptIds ?? (o.conceptId ? [o.conceptId] : undefined);
      if (o.asUser) throw new UsageError('`rebuild` cannot run in a learner scope', 'Drop `asUser`');
      const rebuilt = await rebuildStates(store, scope, { userId: o.userId, conceptIds: concepts });
      return { mode: 'rebuild' as const, ...rebuilt, states_kept: await withLabels(store, rebuilt.states_kept) };
    }
    const result = await applyAttempt(
      store,
      scope,
      { userId: o.userId!, conceptId: (o.conceptId ?? o.conceptIds?.[0])!, correct: o.correct!, questionId: o.questionId, answeredAt: o.at, attemptKey: o.attemptKey },
      { snapshot: o.snapshot },
    );
    const [labelled] = await withLabels(store, [result]);
    return { mode: 'attempt' as const, ...labelled };
  });
}

export const masteryOptionsSchema = z.object({
  db: z.string().optional(),
  asUser: id.optional(),
  userId: id.optional(),
  conceptIds: z.array(id).optional(),
  mastered: z.boolean().optional(),
  below: z.coerce.number({ error: 'is not a number' }).min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').optional(),
  threshold: z.coerce.number({ error: 'is not a number' }).min(0, 'must be in [0, 1]').max(1, 'must be in [0, 1]').optional(),
});
export type MasteryOptions = z.input<typeof masteryOptionsSchema>;

/**
 * `bkt mastery`: queryMastery's result, each state or concept row with the labels `bkt import`
 * kept (`concept_label`, `user_label`; null for ids that have none). The service's own items keep
 * the app's fields exactly; the labels are for people reading the CLI's output.
 */
export async function runMastery(options: MasteryOptions): Promise<MasteryResult> {
  const o = parseOptions(masteryOptionsSchema, options, 'mastery');
  return withStore(o.db, async (store) => {
    const result = await queryMastery(store, scopeOf(o.asUser), { userId: o.userId, conceptIds: o.conceptIds, mastered: o.mastered, below: o.below, threshold: o.threshold });
    return result.kind === 'states' ? { ...result, states: await withLabels(store, result.states) } : { ...result, concepts: await withLabels(store, result.concepts) };
  });
}

export const snapshotOptionsSchema = z.object({
  db: z.string().optional(),
  asUser: id.optional(),
  userId: id.optional(),
  conceptIds: z.array(id).optional(),
});
export type SnapshotOptions = z.input<typeof snapshotOptionsSchema>;

/** `bkt snapshot`. */
export async function runSnapshot(options: SnapshotOptions): Promise<{ snapshots: number }> {
  const o = parseOptions(snapshotOptionsSchema, options, 'snapshot');
  return withStore(o.db, (store) => snapshotStates(store, scopeOf(o.asUser), { userId: o.userId, conceptIds: o.conceptIds }));
}
