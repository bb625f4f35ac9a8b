/**
 * Options of `bkt serve` (and of `startService` for library callers): one zod schema with the
 * defaults, so the command, the tests and the docs agree.
 */
import { z } from 'zod';
import { UsageError } from '../errors.js';

/** HMAC algorithms a shared secret can sign with (the app signs HS256). */
export const JWT_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const DEFAULT_PREFIX = '/api/v1/learning/bkt';

/** Shortest secret accepted: HS256 wants at least as many bytes as its output (RFC 7518 §3.2). */
const MIN_SECRET_BYTES = 32;

/**
 * Longest wait a timer can hold: Node fires a setTimeout of more than 2^31 - 1 ms at once (with a
 * warning), so a longer recompute wait or shutdown timeout would mean no wait at all.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** MAX_TIMER_MS in whole seconds, the unit of `bkt serve`'s --recompute-wait and --shutdown-timeout. */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

export const serveOptionsSchema = z.object({
  /** SQLite file or postgres:// URL (default: $DATABASE_URL, else ./bkt.sqlite). */
  db: z.string().optional(),
  /** Interface to listen on (default 127.0.0.1: loopback only, put a reverse proxy in front). */
  host: z.string().min(1).default('127.0.0.1'),
  /** PostgreSQL connections the service may hold (default 10); SQLite ignores it. */
  poolSize: z.number().int().min(1).max(1000).default(10),
  /** TCP port (default 8080; 0 picks a free one). */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Path prefix of the API routes (default /api/v1/learning/bkt). healthz/readyz/openapi.json sit at the root. */
  prefix: z
    .string()
    .regex(/^\/?$|^(\/[A-Za-z0-9._~-]+)+$/, 'must be / or start with / and hold only path segments')
    .default(DEFAULT_PREFIX),
  /** The app's JWT secret (HMAC key). Required. */
  jwtSecret: z.string().min(MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes`),
  /** JWT signature algorithm (default HS256, as the app). */
  jwtAlgorithm: z.enum(JWT_ALGORITHMS).default('HS256'),
  /** A static token that acts as admin (the app's backend); none when unset. */
  serviceToken: z.string().min(MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes`).optional(),
  /** pino level of the access log (default info). */
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Largest request body in bytes (default 65536); larger bodies get 413. */
  bodyLimit: z.number().int().min(1024).max(64 * 1024 * 1024).default(64 * 1024),
  /** Milliseconds POST /recompute waits for its run before answering 202 with the run id (default 20000). */
  recomputeWaitMs: z.number().int().min(0).max(MAX_TIMER_MS).default(20_000),
  /** Milliseconds a graceful shutdown waits for requests in flight before closing anyway (default 30000). */
  shutdownTimeoutMs: z.number().int().min(0).max(MAX_TIMER_MS).default(30_000),
});
/** What callers pass; a missing secret is reported as such by parseServeOptions. */
export type ServeOptions = Omit<z.input<typeof serveOptionsSchema>, 'jwtSecret'> & { jwtSecret?: string };
export type ResolvedServeOptions = z.output<typeof serveOptionsSchema>;

/**
 * Validate the options; a bad one is a UsageError naming its option (the CLI shows its flag). Secret values are never
 * quoted in the message.
 */
export function parseServeOptions(input: ServeOptions): ResolvedServeOptions {
  const result = serveOptionsSchema.safeParse(input);
  if (result.success) {
    return { ...result.data, prefix: result.data.prefix === '/' ? '' : result.data.prefix };
  }
  const issue = result.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const secret = key === 'jwtSecret' || key === 'serviceToken';
  const value = (input as Record<string, unknown>)[key];
  const shown = secret || value === undefined ? '' : ` "${String(value)}"`;
  const message = key === 'jwtSecret' && value === undefined ? 'is required' : issue.message;
  throw new UsageError(`${key ? `\`${key}\`` : 'options'}${shown} ${message}`, 'See bkt serve --help');
}
