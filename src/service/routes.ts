/**
 * The API routes under the prefix. Each handler checks the caller's scope with the app's messages,
 * then calls the same src/ services as the CLI (applyAttempt's rules through an UpdateCommitter,
 * masteryOfUsers, applySession, recompute, resolveParams), all against the one store the service
 * holds open.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ScopeError } from '../errors.js';
import { masteryOfUsers, type MasteryItem } from '../mastery/query.js';
import { ADMIN_SCOPE, learnerScope, type Scope } from '../mastery/scope.js';
import { applySession } from '../mastery/session-update.js';
import { UpdateCommitter } from '../mastery/update-committer.js';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';
import { CoalescedLookup } from './coalesced-lookup.js';
import { errorBodySchema, forbidden, notFound, validationError, HttpError } from './http-errors.js';
import type { RecomputeRuns } from './recompute-runs.js';
import {
  masteryQuerySchema,
  masteryResponseSchema,
  paramsIdSchema,
  paramsQuerySchema,
  paramsRowSchema,
  recomputeQuerySchema,
  recomputeRequestSchema,
  recomputeResponseSchema,
  resolvedParamsSchema,
  runAcceptedSchema,
  runParamsSchema,
  runResponseSchema,
  sessionParamsSchema,
  sessionResponseSchema,
  updateRequestSchema,
  updateResponseSchema,
} from './schemas.js';

/** Who may call a route: anyone signed in, or admins (an ADMIN token or the service token). */
export type Access = 'user' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export interface ApiContext {
  store: Store;
  runs: RecomputeRuns;
  /** Milliseconds POST /recompute waits before answering 202. */
  recomputeWaitMs: number;
  /** The prefix, for the run's location. */
  prefix: string;
}

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, errorBodySchema]));

const isAdmin = (p: Principal): boolean => p.role === 'ADMIN';

/** The caller's scope over learners' states: admins any, others only their own. */
function scopeOf(p: Principal): Scope {
  return isAdmin(p) ? ADMIN_SCOPE : learnerScope(p.userId!);
}

/**
 * The user a request acts on: the named one, else the caller. A non-admin naming someone else
 * gets 403 with the app's message; the service token has no user of its own, so it must name one.
 */
function targetUser(p: Principal, requested: string | null | undefined, forbiddenMessage: string): string {
  if (requested !== undefined && requested !== null) {
    if (!isAdmin(p) && requested !== p.userId) throw forbidden(forbiddenMessage);
    return requested;
  }
  if (p.userId === null) throw validationError('user_id: is required when calling with the service token');
  return p.userId;
}

export function apiRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const { store, runs } = ctx;
    const security = [{ bearerAuth: [] }];
    // Concurrent updates share transactions (group commit): see src/mastery/update-committer.ts.
    // One group in flight: on this project's 2-core machine two or four (PostgreSQL) gave no more
    // updates a second and cost more CPU per update (smaller groups); see docs/service.md "Speed".
    const committer = new UpdateCommitter(store);
    // Concurrent mastery queries share one read per turn (see coalesced-lookup.ts).
    const masteryReads = new CoalescedLookup<string, MasteryItem[]>((userIds) => masteryOfUsers(store, userIds));

    app.post('/update', {
      config: { access: 'user' },
      schema: {
        summary: 'Apply one answer to its (user, concept) mastery state, exactly once per attempt_key',
        security,
        body: updateRequestSchema,
        response: { 200: updateResponseSchema, ...errors(401, 403, 404, 413, 415, 422, 503) },
      },
      handler: async (request) => {
        const p = request.principal!;
        const b = request.body;
        const userId = targetUser(p, b.user_id, 'Cannot update mastery for other users');
        const result = await committer.apply(
          scopeOf(p),
          { userId, conceptId: b.concept_id, correct: b.correct, questionId: b.question_id, answeredAt: b.answered_at ?? undefined, attemptKey: b.attempt_key ?? undefined },
          { snapshot: b.create_snapshot },
        );
        return { mode: 'attempt' as const, ...result };
      },
    });

    app.get('/mastery', {
      config: { access: 'user' },
      schema: {
        summary: "A user's mastery states, highest p_mastery first",
        security,
        querystring: masteryQuerySchema,
        response: { 200: masteryResponseSchema, ...errors(401, 403, 422, 503) },
      },
      handler: async (request) => {
        const p = request.principal!;
        const userId = targetUser(p, request.query.user_id, 'Cannot query mastery for other users');
        // targetUser has checked the scope: a learner reads only their own states.
        const states = (await masteryReads.get(userId)) ?? [];
        const conceptId = request.query.concept_id;
        return conceptId ? states.filter((s) => s.concept_id === conceptId) : states;
      },
    });

    app.post('/sessions/:session_id/submitted', {
      config: { access: 'user' },
      schema: {
        summary: "The app's session-submit hook: apply a submitted session's answers, exactly once",
        security,
        params: sessionParamsSchema,
        response: { 200: sessionResponseSchema, ...errors(401, 403, 404, 409, 422, 503) },
      },
      handler: async (request) => {
        const p = request.principal!;
        try {
          return { mode: 'session' as const, ...(await applySession(store, scopeOf(p), request.params.session_id)) };
        } catch (e) {
          if (e instanceof ScopeError) throw forbidden("Cannot update mastery for other users: the session belongs to another user");
          throw e;
        }
      },
    });

    app.post('/recompute', {
      config: { access: 'admin' },
      schema: {
        summary: 'Refit concepts from the database and log the run (admin)',
        security,
        querystring: recomputeQuerySchema,
        body: recomputeRequestSchema,
        response: { 200: recomputeResponseSchema, 202: runAcceptedSchema, ...errors(401, 403, 413, 415, 422, 503) },
      },
      handler: async (request, reply) => {
        const b = request.body;
        if (runs.isClosing) throw new HttpError(503, 'SHUTTING_DOWN', 'the service is shutting down; start the recompute again later');
        const { runId, done } = await runs.start({
          conceptIds: b.concept_ids ?? [],
          fromDate: b.from_date ?? null,
          toDate: b.to_date ?? null,
          minAttempts: b.min_attempts,
          activate: b.activate,
          dryRun: b.dry_run,
          trigger: 'api',
        });
        const accepted = () => reply.code(202).header('location', `${ctx.prefix}/runs/${runId}`).send({ run_id: runId, status: 'RUNNING' as const, location: `${ctx.prefix}/runs/${runId}` });
        if (!request.query.wait) return accepted();
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, ctx.recomputeWaitMs, null)));
        try {
          const response = await Promise.race([done, timeout]);
          return response === null ? accepted() : response;
        } finally {
          clearTimeout(timer);
        }
      },
    });

    app.get('/runs/:run_id', {
      config: { access: 'admin' },
      schema: {
        summary: 'A recompute run: its algo_runs row, and its response once finished (admin)',
        security,
        params: runParamsSchema,
        response: { 200: runResponseSchema, ...errors(401, 403, 404, 422, 503) },
      },
      handler: async (request) => {
        const row = await store.getRun(request.params.run_id);
        if (!row) throw notFound(`run ${request.params.run_id}: no such run`);
        return {
          run_id: row.id,
          status: row.status,
          trigger: row.trigger,
          started_at: row.started_at,
          completed_at: row.completed_at,
          input_summary: row.input_summary_json,
          output_summary: row.output_summary_json,
          error_message: row.error_message,
          // A finished row may be read in the moment between the job's last commit and its
          // response being kept: wait for that response rather than answer SUCCESS without it.
          result: row.status === 'RUNNING' ? runs.result(row.id) : await runs.settledResult(row.id),
        };
      },
    });

    app.get('/params', {
      config: { access: 'user' },
      schema: {
        summary: 'The parameters the online update uses for a concept, and where they come from',
        security,
        querystring: paramsQuerySchema,
        response: { 200: resolvedParamsSchema, ...errors(401, 422, 503) },
      },
      handler: async (request) => {
        const conceptId = request.query.concept_id;
        const resolved = await store.resolveParams(conceptId);
        const row = resolved.params_id ? await store.getParams(resolved.params_id) : null;
        return {
          concept_id: conceptId,
          p_L0: resolved.params.p_L0,
          p_T: resolved.params.p_T,
          p_S: resolved.params.p_S,
          p_G: resolved.params.p_G,
          p_F: resolved.params.p_F ?? 0,
          source: resolved.source,
          is_default: resolved.is_default,
          params_id: resolved.params_id,
          algo_version_id: resolved.algo_version_id,
          fitted_at: row?.fitted_at ?? null,
          metrics: row?.metrics ?? null,
        };
      },
    });

    app.get('/params/:params_id', {
      config: { access: 'user' },
      schema: {
        summary: 'One stored parameter set (bkt_skill_params row)',
        security,
        params: paramsIdSchema,
        response: { 200: paramsRowSchema, ...errors(401, 404, 422, 503) },
      },
      handler: async (request) => {
        const row = await store.getParams(request.params.params_id);
        if (!row) throw notFound(`params ${request.params.params_id}: no such parameter set`);
        return row;
      },
    });
  };
}
