/**
 * Errors as the service answers them: `{error: {code, message}}` with a status. Every error that
 * reaches a client goes through `toHttpError`, so no stack trace, SQL or connection string ever
 * leaves the process: known errors keep their one-line message, anything else is a 500 with a
 * fixed message (the details go to the log only).
 */
import { z } from 'zod';
import { BktError, InputError, NotFoundError, ScopeError, StorageError, UsageError } from '../errors.js';

export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'METHOD_NOT_ALLOWED',
  'DATABASE_UNAVAILABLE',
  'SHUTTING_DOWN',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error response. */
export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.enum(ERROR_CODES),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

/** An error with the HTTP status and code it is answered with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export const unauthorized = (message: string): HttpError => new HttpError(401, 'UNAUTHORIZED', message);
export const forbidden = (message: string): HttpError => new HttpError(403, 'FORBIDDEN', message);
export const notFound = (message: string): HttpError => new HttpError(404, 'NOT_FOUND', message);
export const validationError = (message: string): HttpError => new HttpError(422, 'VALIDATION_ERROR', message);

/** Fastify's own error codes that are the client's fault, and how they are answered. */
const FASTIFY_ERRORS: Record<string, (e: Error) => HttpError> = {
  FST_ERR_CTP_INVALID_JSON_BODY: () => validationError('body: is not valid JSON'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => validationError('body: is empty; send a JSON object'),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new HttpError(413, 'PAYLOAD_TOO_LARGE', 'body: is larger than the service accepts'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'body: send Content-Type application/json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => validationError('body: its length does not match Content-Length'),
  FST_ERR_CTP_INVALID_TYPE: () => new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'body: send Content-Type application/json'),
  FST_ERR_BAD_URL: () => validationError('url: is not a valid URL'),
  FST_ERR_ASYNC_CONSTRAINT: () => validationError('url: cannot be routed'),
};

/** Zod issues of a failed request validation, as fastify-type-provider-zod reports them. */
interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { issue?: { path?: PropertyKey[]; message?: string } };
}

function fieldOf(context: string | undefined, issue: ValidationIssue): string {
  const path = issue.params?.issue?.path;
  const parts = path && path.length ? path.map(String) : (issue.instancePath ?? '').split('/').filter(Boolean);
  const where = context === 'querystring' ? 'query' : (context ?? 'request');
  return parts.length ? `${where}.${parts.join('.')}` : where;
}

/**
 * The response for anything thrown while handling a request. `expose` of the result is what
 * the client sees; `internal` marks errors worth logging with their details.
 */
export function toHttpError(error: unknown): { http: HttpError; internal: boolean } {
  if (error instanceof HttpError) return { http: error, internal: false };
  const e = error as Error & { code?: string; validation?: ValidationIssue[]; validationContext?: string; statusCode?: number };
  if (Array.isArray(e?.validation) && e.validation.length) {
    const issue = e.validation[0];
    const message = issue.params?.issue?.message ?? issue.message ?? 'is invalid';
    return { http: validationError(`${fieldOf(e.validationContext, issue)}: ${message}`), internal: false };
  }
  if (typeof e?.code === 'string' && FASTIFY_ERRORS[e.code]) return { http: FASTIFY_ERRORS[e.code](e), internal: false };
  if (error instanceof ScopeError) return { http: forbidden(error.message), internal: false };
  if (error instanceof NotFoundError) return { http: notFound(error.message), internal: false };
  if (error instanceof UsageError) return { http: validationError(error.message), internal: false };
  if (error instanceof InputError) return { http: new HttpError(409, 'CONFLICT', error.message), internal: false };
  if (error instanceof StorageError) return { http: new HttpError(503, 'DATABASE_UNAVAILABLE', 'the database is unavailable; try again later'), internal: true };
  if (error instanceof BktError) return { http: new HttpError(422, 'VALIDATION_ERROR', error.message), internal: false };
  // A client error fastify raised that is not listed above (e.g. a malformed header): keep its status.
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { http: new HttpError(e.statusCode === 413 ? 413 : e.statusCode === 405 ? 405 : 422, e.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : e.statusCode === 405 ? 'METHOD_NOT_ALLOWED' : 'VALIDATION_ERROR', 'request: cannot be processed'), internal: false };
  }
  return { http: new HttpError(500, 'INTERNAL', 'internal error; the service logged the details'), internal: true };
}
