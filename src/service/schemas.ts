/**
 * Request and response schemas of every route: the one source of the service's validation and
 * of its OpenAPI document (GET /openapi.json). Field names are the app's (snake_case).
 */
import { z } from 'zod';
import type { Outcome } from '../mastery/apply-core.js';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A UUID in any case, lower-cased (ids are stored lower-case). */
export const uuid = z
  .string()
  .regex(UUID_RE, 'is not a UUID')
  .transform((s) => s.toLowerCase())
  .meta({ format: 'uuid', example: '3f2c9a1b-0000-4000-8000-000000000001' });

const isoTime = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), 'is not an ISO-8601 time')
  .meta({ format: 'date-time', example: '2026-01-21T12:00:00Z' });

const probability = z.number().min(0).max(1);

const OUTCOMES = ['applied', 'duplicate', 'stale'] as const satisfies readonly Outcome[];

// ------------------------------------------------------------------- update

export const updateRequestSchema = z
  .object({
    user_id: uuid.nullish().describe('Whose state to update; default the caller. A student may name only themself.'),
    question_id: uuid.describe('The question answered.'),
    concept_id: uuid.describe('The concept the answer is evidence for.'),
    correct: z.boolean(),
    create_snapshot: z.boolean().default(false).describe('Also append a mastery_snapshot row after an applied update.'),
    answered_at: isoTime.nullish().describe('When the answer was given; default: when it is applied.'),
    attempt_key: z.string().min(1).max(200).nullish().describe('Exactly-once key: a repeated key changes nothing (outcome "duplicate"). Default: a hash of the attempt when answered_at is given, else a fresh key.'),
    meta: z.record(z.string(), z.unknown()).nullish().describe('Accepted and ignored, as by the app.'),
  })
  .meta({ id: 'UpdateRequest' });

const paramsUsedSchema = z.object({
  p_L0: probability,
  p_T: probability,
  p_S: probability,
  p_G: probability,
  concept_id: z.string(),
  params_id: z.string().nullable(),
  algo_version_id: z.string().nullable(),
  is_default: z.boolean(),
});

const bktMetadataSchema = z.object({
  p_L_prior: probability,
  p_correct_predicted: probability,
  p_L_posterior: probability,
  p_L_next: probability,
  observation: z.enum(['correct', 'wrong']),
});

export const updateResponseSchema = z
  .object({
    mode: z.literal('attempt'),
    user_id: z.string(),
    concept_id: z.string(),
    question_id: z.string().nullable(),
    correct: z.boolean(),
    p_mastery_prior: probability,
    p_mastery_new: probability,
    mastery_change: z.number(),
    n_attempts: z.number().int().min(0),
    is_mastered: z.boolean(),
    params_used: paramsUsedSchema,
    bkt_metadata: bktMetadataSchema.nullable().describe('The update step; null when nothing was applied (duplicate or stale).'),
    snapshot_created: z.boolean(),
    outcome: z.enum(OUTCOMES).describe('applied, or duplicate (key seen before) or stale (older than the state), which change nothing.'),
    attempt_key: z.string(),
    answered_at: z.string(),
  })
  .meta({ id: 'UpdateResponse' });

// ------------------------------------------------------------------- mastery

export const masteryQuerySchema = z.object({
  user_id: uuid.optional().describe('Whose states; default the caller. A student may name only themself; the service token must name one.'),
  concept_id: uuid.optional().describe('Only this concept.'),
});

export const masteryItemSchema = z
  .object({
    user_id: z.string(),
    concept_id: z.string(),
    p_mastery: probability,
    n_attempts: z.number().int().min(0),
    last_attempt_at: z.string().nullable(),
    last_seen_question_id: z.string().nullable(),
    is_mastered: z.boolean().describe('p_mastery >= 0.95'),
    updated_at: z.string(),
  })
  .meta({ id: 'MasteryState' });

export const masteryResponseSchema = z.array(masteryItemSchema).describe('Ordered by p_mastery descending.');

// ------------------------------------------------------------------- sessions

export const sessionParamsSchema = z.object({ session_id: uuid.describe('test_sessions id') });

export const sessionResponseSchema = z
  .object({
    mode: z.literal('session'),
    session_id: z.string(),
    user_id: z.string(),
    applied: z.number().int().min(0),
    duplicate: z.number().int().min(0),
    stale: z.number().int().min(0),
    skipped: z.object({
      unanswered: z.array(z.string()).describe('question ids with is_correct null'),
      no_concept: z.array(z.string()).describe('question ids whose snapshot names no concept'),
    }),
    concepts: z.array(z.string()),
  })
  .meta({ id: 'SessionSubmitted' });

// ------------------------------------------------------------------- recompute

export const recomputeRequestSchema = z
  .object({
    concept_ids: z.array(uuid).nullish().describe('Concepts to fit; null or empty: every concept with data.'),
    from_date: isoTime.nullish().describe('Only answers at or after this time.'),
    to_date: isoTime.nullish().describe('Only answers at or before this time.'),
    min_attempts: z.number().int().min(1).default(10),
    activate: z.boolean().default(false).describe("Make each new parameter set its concept's active one."),
    dry_run: z.boolean().default(false).describe('Fit and report; write no parameter rows (the run row is still written).'),
  })
  .meta({ id: 'RecomputeRequest' });

export const recomputeQuerySchema = z.object({
  wait: z
    .enum(['true', 'false'])
    .default('true')
    .transform((s) => s === 'true')
    .describe('false: answer 202 with the run id at once; true (default): wait for the run up to the service limit, then 202.'),
});

export const recomputeResponseSchema = z
  .object({
    run_id: z.string(),
    algo_version: z.string().describe('"bkt:v1"'),
    concepts_processed: z.number().int().min(0),
    concepts_fitted: z.number().int().min(0),
    concepts_skipped: z.number().int().min(0),
    metrics_summary: z.record(z.string(), z.record(z.string(), z.unknown())).describe('concept_id -> metrics of each fitted concept'),
    dry_run: z.boolean(),
    activated: z.boolean(),
    errors: z.record(z.string(), z.string()).describe('concept_id -> why it has no new parameters'),
    params_ids: z.array(z.string()),
    interrupted: z.boolean().describe('The service shut down mid-run; the run row is FAILED.'),
  })
  .meta({ id: 'RecomputeResponse' });

export const runAcceptedSchema = z
  .object({
    run_id: z.string(),
    status: z.literal('RUNNING'),
    location: z.string().describe('GET this path for the run'),
  })
  .meta({ id: 'RunAccepted' });

export const runParamsSchema = z.object({ run_id: uuid });

export const runResponseSchema = z
  .object({
    run_id: z.string(),
    status: z.enum(['RUNNING', 'SUCCESS', 'FAILED']),
    trigger: z.string(),
    started_at: z.string(),
    completed_at: z.string().nullable(),
    input_summary: z.record(z.string(), z.unknown()),
    output_summary: z.record(z.string(), z.unknown()),
    error_message: z.string().nullable(),
    result: recomputeResponseSchema.nullable().describe('The recompute response, when this service process ran it and it has finished.'),
  })
  .meta({ id: 'Run' });

// ------------------------------------------------------------------- params

export const paramsQuerySchema = z.object({ concept_id: uuid });

export const resolvedParamsSchema = z
  .object({
    concept_id: z.string(),
    p_L0: probability,
    p_T: probability,
    p_S: probability,
    p_G: probability,
    p_F: probability,
    source: z.enum(['fitted', 'algo_params', 'builtin']).describe("fitted: the concept's active fit; algo_params: the defaults of bkt v1's active algo_params row; builtin: bkt's own defaults"),
    is_default: z.boolean(),
    params_id: z.string().nullable(),
    algo_version_id: z.string().nullable(),
    fitted_at: z.string().nullable(),
    metrics: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'ActiveParams' });

export const paramsIdSchema = z.object({ params_id: uuid });

export const paramsRowSchema = z
  .object({
    id: z.string(),
    concept_id: z.string(),
    algo_version_id: z.string(),
    p_L0: probability,
    p_T: probability,
    p_S: probability,
    p_G: probability,
    constraints_applied: z.record(z.string(), z.unknown()),
    fitted_at: z.string(),
    fitted_on_data_from: z.string().nullable(),
    fitted_on_data_to: z.string().nullable(),
    metrics: z.record(z.string(), z.unknown()),
    is_active: z.boolean(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'ParamsRow' });

// ------------------------------------------------------------------- health

export const healthSchema = z.object({ status: z.literal('ok') });
export const readySchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  backend: z.enum(['sqlite', 'postgres']),
  problems: z.array(z.string()).describe('Why the service is not ready (schema differences, database errors); empty when ready.'),
});
