/**
 * Reading mastery (`bkt mastery`, the seed's GET /mastery) and writing snapshots (`bkt snapshot`).
 */
import { z } from 'zod';
import { DEFAULT_MASTERY_THRESHOLD } from '../model/params.js';
import type { StateFilter, Store, UserSkillStateRow } from '../store/store.js';
import { scopedUser, type Scope } from './scope.js';
import { uuidSchema } from './update-service.js';

export const masteryFilterSchema = z
  .object({
    userId: uuidSchema.optional(),
    conceptIds: z.array(uuidSchema).optional(),
    /** Only mastered states (p_mastery >= threshold). */
    mastered: z.boolean().optional(),
    /** Only states with p_mastery < below. */
    below: z.number().min(0).max(1).optional(),
    /** Mastery threshold (default 0.95). */
    threshold: z.number().min(0).max(1).default(DEFAULT_MASTERY_THRESHOLD),
  })
  .refine((f) => !(f.mastered && f.below !== undefined), { message: '`mastered` and `below` exclude each other', path: ['below'] });
/** Filter of `queryMastery` (user, concepts, mastered or below a threshold); omit the user for a per-concept summary. */
export type MasteryFilter = z.input<typeof masteryFilterSchema>;

/** The seed's mastery item. */
export interface MasteryItem {
  user_id: string;
  concept_id: string;
  p_mastery: number;
  n_attempts: number;
  last_attempt_at: string | null;
  last_seen_question_id: string | null;
  is_mastered: boolean;
  updated_at: string;
}

/** Per-concept summary over all learners (`queryMastery` without a user). */
export interface ConceptSummary {
  concept_id: string;
  learners: number;
  mean_mastery: number;
  mastered: number;
  share_mastered: number;
}

/** What `queryMastery` returns: states of one user (or of everyone filtered), or per-concept summaries. */
export type MasteryResult = { kind: 'states'; user_id: string | null; states: MasteryItem[]; total: number } | { kind: 'concepts'; concepts: ConceptSummary[]; total: number };

function storeFilter(f: z.output<typeof masteryFilterSchema>, userId: string | undefined): StateFilter {
  return {
    userId,
    conceptIds: f.conceptIds,
    minMastery: f.mastered ? f.threshold : undefined,
    belowMastery: f.below,
  };
}

export function masteryItem(row: UserSkillStateRow, threshold: number): MasteryItem {
  return {
    user_id: row.user_id,
    concept_id: row.concept_id,
    p_mastery: row.p_mastery,
    n_attempts: row.n_attempts,
    last_attempt_at: row.last_attempt_at,
    last_seen_question_id: row.last_seen_question_id,
    is_mastered: row.p_mastery >= threshold,
    updated_at: row.updated_at,
  };
}

/**
 * States ordered by p_mastery descending. With a user (always, in a learner scope): that user's
 * states. With no user (admin): one summary row per concept (learners, mean mastery, share
 * mastered), ordered by concept id, computed in one streaming pass.
 */
export async function queryMastery(store: Store, scope: Scope, filter: MasteryFilter = {}): Promise<MasteryResult> {
  const f = masteryFilterSchema.parse(filter);
  const userId = scopedUser(scope, f.userId, 'query mastery for');
  if (userId !== undefined) {
    const states = (await store.listStates(storeFilter(f, userId))).map((r) => masteryItem(r, f.threshold));
    return { kind: 'states', user_id: userId, states, total: states.length };
  }
  const byConcept = new Map<string, { n: number; sum: number; mastered: number }>();
  for await (const r of store.streamStates(storeFilter(f, undefined))) {
    let s = byConcept.get(r.concept_id);
    if (!s) byConcept.set(r.concept_id, (s = { n: 0, sum: 0, mastered: 0 }));
    s.n += 1;
    s.sum += r.p_mastery;
    if (r.p_mastery >= f.threshold) s.mastered += 1;
  }
  const concepts = [...byConcept.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([concept_id, s]) => ({ concept_id, learners: s.n, mean_mastery: s.sum / s.n, mastered: s.mastered, share_mastered: s.mastered / s.n }));
  return { kind: 'concepts', concepts, total: concepts.length };
}

/**
 * The states of many users in one read, for a caller answering many users' mastery queries at
 * once (the service coalesces concurrent GET /mastery): by user, each as `queryMastery` lists one
 * user's states (p_mastery descending). The caller checks each user against its caller's scope.
 */
export async function masteryOfUsers(store: Store, userIds: readonly string[], threshold = DEFAULT_MASTERY_THRESHOLD): Promise<Map<string, MasteryItem[]>> {
  const byUser = new Map<string, MasteryItem[]>();
  for (const [userId, rows] of await store.listStatesOfUsers(userIds)) byUser.set(userId, rows.map((r) => masteryItem(r, threshold)));
  return byUser;
}

export const snapshotFilterSchema = z.object({
  userId: uuidSchema.optional(),
  conceptIds: z.array(uuidSchema).optional(),
});
/** Filter of `snapshotStates`: one user and/or some concepts; default every state. */
export type SnapshotFilterInput = z.input<typeof snapshotFilterSchema>;

/**
 * Write one mastery_snapshot row per selected current state, all in one transaction (all or
 * none). Returns the number of rows written.
 */
export async function snapshotStates(store: Store, scope: Scope, filter: SnapshotFilterInput = {}): Promise<{ snapshots: number }> {
  const f = snapshotFilterSchema.parse(filter);
  const userId = scopedUser(scope, f.userId, 'update mastery for');
  const states = await store.listStates({ userId, conceptIds: f.conceptIds });
  const createdAt = new Date().toISOString();
  await store.withWriteTransaction(async (tx) => {
    for (const s of states) {
      await tx.insertSnapshot({ user_id: s.user_id, concept_id: s.concept_id, p_mastery: s.p_mastery, n_attempts: s.n_attempts, algo_version_id: s.algo_version_id, created_at: createdAt });
    }
  });
  return { snapshots: states.length };
}
