/**
 * `bkt serve`: the mastery engine as an HTTP service (Fastify), in front of one store that every
 * request shares. Zod schemas validate each request and response and make the OpenAPI document;
 * Fastify's pino logger writes one structured access-log line per request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import fastifySwagger from '@fastify/swagger';
import { pino } from 'pino';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { StorageError, UsageError } from '../errors.js';
import { openStore } from '../store/open-store.js';
import { type Store } from '../store/store.js';
import { createAuthenticator, type Authenticate } from './auth.js';
import { CoalescedLookup } from './coalesced-lookup.js';
import { forbidden, HttpError, toHttpError } from './http-errors.js';
import { parseServeOptions, type ResolvedServeOptions, type ServeOptions } from './options.js';
import { RecomputeRuns } from './recompute-runs.js';
import { apiRoutes } from './routes.js';
import { healthSchema, readySchema } from './schemas.js';

export interface Service {
  app: FastifyInstance;
  store: Store;
  options: ResolvedServeOptions;
  /** Base URL once listening, e.g. http://127.0.0.1:8080. */
  url: string;
  /**
   * Graceful stop: refuse new requests (503), let those in flight finish, abort running
   * recomputes (each closes its run FAILED after the concept being written), close the store.
   */
  close(): Promise<void>;
}

/**
 * The access log: one line per request when its response is finished, with the request id
 * (req_id, taken from X-Request-Id when the proxy sends one), method, route pattern, status,
 * latency and caller. Fastify's "incoming request" line is dropped: the one line says it all.
 */
class AccessLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'req_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply): void {
    const principal = request.principal;
    const line = {
      method: request.method,
      route: request.routeOptions.url ?? null,
      status: reply.statusCode,
      latency_ms: Math.round(reply.elapsedTime * 100) / 100,
      user_id: principal ? (principal.userId ?? 'service') : undefined,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request');
    else reply.log.info(line, 'request');
  }
}

/** Bytes of log lines gathered before a write to stdout. */
const LOG_BUFFER_BYTES = 4096;
/** Longest a log line waits in the buffer when traffic is light. */
const LOG_FLUSH_MS = 1000;

/** Build the service on an open store, without listening (tests may call `app.inject`). */
export async function buildService(
  store: Store,
  options: ResolvedServeOptions,
): Promise<{ app: FastifyInstance; runs: RecomputeRuns; closingFlag: { closing: boolean } }> {
  const closingFlag = { closing: false };
  // Lines gather up to LOG_BUFFER_BYTES (or LOG_FLUSH_MS) before a write: under load one write
  // per access line cost the service more CPU than its database work (each an fs.write through
  // the thread pool); this way about twenty lines share one. Flushed when the service closes and
  // at exit.
  const logStream = pino.destination({ dest: 1, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS });
  const app = Fastify({
    logger: {
      level: options.logLevel,
      // Asynchronous, buffered writes to stdout (see logStream), instead of one blocking system
      // call per request.
      stream: logStream,
      // Never log credentials, whatever a log call is given.
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'authorization', 'token', 'secret'], censor: '[redacted]' },
    },
    logController: new AccessLog(),
    bodyLimit: options.bodyLimit,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // A request already on its way when the close began is served (answered with Connection: close,
    // so a connection carries at most one more); Fastify's 503 would lose it. New connections stop
    // when the listener closes, after acceptBacklog.
    return503OnClosing: false,
    // Idle keep-alive connections are closed by drainConnections, which leaves those with a request on the way alone.
    forceCloseConnections: false,
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const runs = new RecomputeRuns(store, (runId, error) => app.log.error({ run_id: runId, err: error }, 'recompute run failed'));
  const roles = new CoalescedLookup<string, string>((userIds) => store.getUserRoles(userIds));
  const authenticate: Authenticate = createAuthenticator({
    jwtSecret: options.jwtSecret,
    jwtAlgorithm: options.jwtAlgorithm,
    serviceToken: options.serviceToken,
    // One users read per turn for every request waiting, each read after its request arrived
    // (a role change still applies at once): see coalesced-lookup.ts.
    userRole: async (userId) => (await roles.get(userId)) ?? null,
  });

  app.decorateRequest('principal', null);
  app.addHook('onClose', async () => {
    logStream.flushSync();
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) return;
    request.principal = await authenticate(request.headers.authorization);
    if (access === 'admin' && request.principal.role !== 'ADMIN') throw forbidden('Admin access required');
  });

  app.addHook('onSend', async (_request, reply) => {
    if (closingFlag.closing) reply.header('connection', 'close');
  });

  app.setErrorHandler((error, request, reply) => {
    const { http, internal } = toHttpError(error);
    if (internal) request.log.error({ err: error }, 'request failed');
    if (http.status === 401) reply.header('www-authenticate', 'Bearer');
    return reply.code(http.status).send(http.body());
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    return reply.code(404).send(new HttpError(404, 'NOT_FOUND', `no route ${request.method} ${path}`).body());
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'bkt mastery service', description: 'Bayesian Knowledge Tracing: online mastery updates, queries and recomputes over the app\u2019s database.', version: '1' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });

  app.get('/healthz', { schema: { summary: 'The process is alive', response: { 200: healthSchema } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { summary: 'The database answers and its tables are as bkt expects', response: { 200: readySchema, 503: readySchema } } }, async (_request, reply) => {
    let problems: string[];
    try {
      problems = (await store.check()).map((d) => `${d.table}${d.object ? `.${d.object}` : ''}: ${d.kind}`);
    } catch (e) {
      problems = [e instanceof StorageError ? 'the database is unreachable' : 'the schema check failed'];
      if (!(e instanceof StorageError)) app.log.error({ err: e }, 'readiness check failed');
    }
    return reply.code(problems.length ? 503 : 200).send({ status: problems.length ? ('not_ready' as const) : ('ready' as const), backend: store.backend, problems });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(apiRoutes({ store, runs, recomputeWaitMs: options.recomputeWaitMs, prefix: options.prefix }), { prefix: options.prefix });

  return { app: app as unknown as FastifyInstance, runs, closingFlag };
}

/**
 * Track each connection's requests so that a graceful close ends only the connections that are
 * truly idle. Node's own close (`closeIdleConnections`) also drops a connection whose request is
 * already sent but not yet read (the event loop was busy), and the client sees a reset: that
 * would lose a request in flight. So the service turns that off, answers with Connection: close
 * while closing (the onSend hook), and `drainConnections` ends a connection only when it has been
 * idle at two sweeps in a row: a poll of the sockets lies between them, so a request that had
 * arrived is read and marks its connection busy first.
 */
function trackConnections(server: Server): void {
  const state = new Map<Socket, { active: number; idleSweeps: number }>();
  server.on('connection', (socket: Socket) => {
    connectionCount.set(server, (connectionCount.get(server) ?? 0) + 1);
    state.set(socket, { active: 0, idleSweeps: 0 });
    socket.once('close', () => state.delete(socket));
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const s = state.get(request.socket);
    if (!s) return;
    s.active += 1;
    s.idleSweeps = 0;
    response.once('close', () => {
      s.active -= 1;
    });
  });
  (server as Server & { [CONNECTIONS]?: typeof state })[CONNECTIONS] = state;
  // Node's close() would drop every connection without a request being processed, including those
  // whose request is still unread; drainConnections does it carefully instead.
  server.closeIdleConnections = () => {};
}

const CONNECTIONS = Symbol('bkt.connections');
const DRAIN_SWEEP_MS = 50;
/** Connections accepted so far, per server (acceptBacklog watches it grow). */
const connectionCount = new WeakMap<Server, number>();
/**
 * Longest acceptBacklog waits for clients that keep connecting. Generous because a starved process
 * accepts slowly: on a 2-core machine at load 20, 60 connections already queued took a second to
 * accept, and at a 1 s cap the last seven were reset.
 */
const ACCEPT_BACKLOG_MAX_MS = 5000;

/**
 * Before the listener closes: a connection the kernel has accepted but Node has not yet taken
 * (the event loop was busy) would be reset when the listener closes, losing the request the
 * client has already sent. So keep accepting until two sweeps in a row see no new connection
 * (a poll of the listener lies between them), at most ACCEPT_BACKLOG_MAX_MS. Requests on them
 * are served as usual, answered with Connection: close.
 */
async function acceptBacklog(server: Server): Promise<void> {
  if (!server.listening) return;
  const started = Date.now();
  let seen = connectionCount.get(server) ?? 0;
  let quietSweeps = 0;
  while (quietSweeps < 2 && Date.now() - started < ACCEPT_BACKLOG_MAX_MS) {
    await new Promise((resolve) => setTimeout(resolve, DRAIN_SWEEP_MS));
    const now = connectionCount.get(server) ?? 0;
    quietSweeps = now === seen ? quietSweeps + 1 : 0;
    seen = now;
  }
}

function drainConnections(server: Server): { stop(): void } {
  const state = (server as Server & { [CONNECTIONS]?: Map<Socket, { active: number; idleSweeps: number }> })[CONNECTIONS];
  if (!state) return { stop() {} };
  const sweep = () => {
    for (const [socket, s] of state) {
      if (s.active > 0) {
        s.idleSweeps = 0;
        continue;
      }
      s.idleSweeps += 1;
      if (s.idleSweeps >= 2) socket.destroy();
    }
  };
  sweep();
  const timer = setInterval(sweep, DRAIN_SWEEP_MS);
  return { stop: () => clearInterval(timer) };
}

/**
 * Open the store, build the service and listen. Throws UsageError for bad options or a port in
 * use, StorageError (exit 5) when the database cannot be opened.
 */
export async function startService(input: ServeOptions): Promise<Service> {
  const options = parseServeOptions(input);
  const store = await openStore(options.db, { poolSize: options.poolSize });
  let built: Awaited<ReturnType<typeof buildService>>;
  try {
    built = await buildService(store, options);
  } catch (e) {
    await store.close();
    throw e;
  }
  const { app, runs, closingFlag } = built;
  trackConnections(app.server);
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (e) {
    await app.close().catch(() => undefined);
    await store.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`\`port\` ${options.port}: the address ${options.host}:${options.port} is in use`, 'Choose another `port` or stop the other server');
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`\`host\` ${options.host}: no such local address`, 'Give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0');
    if (code === 'EACCES') throw new UsageError(`\`port\` ${options.port}: permission denied`, 'Use a port above 1023, or run behind a reverse proxy');
    throw e;
  }
  let closing: Promise<void> | null = null;
  return {
    app,
    store,
    options,
    url: address,
    close() {
      closing ??= (async () => {
        closingFlag.closing = true;
        await acceptBacklog(app.server);
        const drain = drainConnections(app.server);
        try {
          await Promise.all([app.close(), runs.close()]);
        } finally {
          drain.stop();
          await store.close();
        }
      })();
      return closing;
    },
  };
}


/**
 * Run the service until SIGTERM or SIGINT, then shut down gracefully and resolve (the process
 * then exits 0). A second signal, or a shutdown that outlasts `shutdownTimeoutMs`, ends the
 * process at once with exit code 1.
 */
export async function serveUntilSignal(input: ServeOptions): Promise<void> {
  const service = await startService(input);
  const log = service.app.log;
  // Every request's errors are caught by the error handler; this is the net under a bug elsewhere
  // (a stray promise), which must not take the service and every other request down with it.
  const onUnhandled = (reason: unknown) => log.error({ err: reason }, 'unhandled rejection');
  process.on('unhandledRejection', onUnhandled);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn({ signal }, 'second signal: exiting without finishing requests in flight');
        process.exit(1);
      }
      stopping = true;
      log.info({ signal }, 'shutting down: finishing requests in flight');
      const timer = setTimeout(() => {
        log.error({ timeout_ms: service.options.shutdownTimeoutMs }, 'shutdown timed out: exiting');
        process.exit(1);
      }, service.options.shutdownTimeoutMs);
      timer.unref();
      service
        .close()
        .catch((e) => log.error({ err: e }, 'error while shutting down'))
        .finally(() => {
          clearTimeout(timer);
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          process.off('unhandledRejection', onUnhandled);
          log.info('stopped');
          resolve();
        });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
