import { Flags } from '@oclif/core';
import { BktCommand } from '../src/cli/base-command.js';
import { dbFlag } from '../src/cli/flags.js';
import { MAX_TIMER_SECONDS } from '../src/service/options.js';

export default class Serve extends BktCommand {
  static override summary = 'Serve mastery updates, queries and recomputes over HTTP, with the app\u2019s tokens and roles.';

  static override description = `Listens for the app's BKT endpoints under --prefix: POST update, GET mastery, POST
sessions/{id}/submitted, POST recompute (admin), GET runs/{id}, GET params; plus GET /healthz, /readyz
and /openapi.json at the root. Callers send the app's access tokens (Authorization: Bearer <JWT>,
signed with the app's secret: BKT_JWT_SECRET or --jwt-secret-file); BKT_SERVICE_TOKEN, when set, is a
static token that acts as admin. One JSON access-log line per request goes to stdout. SIGTERM or
SIGINT stops accepting, finishes requests in flight, closes the database and exits 0. See
docs/service.md.`;

  static override examples = [
    'BKT_JWT_SECRET=... <%= config.bin %> serve --db postgres://bkt@127.0.0.1/app',
    '<%= config.bin %> serve --jwt-secret-file /run/secrets/jwt --port 9000 --log-level warn',
  ];

  static override enableJsonFlag = false;

  static override flags = {
    db: dbFlag,
    host: Flags.string({ summary: 'Interface to listen on (0.0.0.0 for every interface).', default: '127.0.0.1' }),
    port: Flags.integer({ summary: 'TCP port (0 picks a free one).', default: 8080, min: 0, max: 65535 }),
    'pool-size': Flags.integer({ summary: 'PostgreSQL connections the service may hold.', default: 10, min: 1, max: 1000 }),
    prefix: Flags.string({ summary: 'Path prefix of the API routes.', default: '/api/v1/learning/bkt' }),
    'jwt-secret-file': Flags.string({ summary: 'File holding the app\u2019s JWT secret (default: $BKT_JWT_SECRET).' }),
    'jwt-algorithm': Flags.string({ summary: 'JWT signature algorithm.', options: ['HS256', 'HS384', 'HS512'], default: 'HS256' }),
    'log-level': Flags.string({ summary: 'Access-log level.', options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' }),
    'body-limit': Flags.integer({ summary: 'Largest request body in bytes (larger: 413).', default: 65_536, min: 1024 }),
    // Checked here, in seconds: past this point they are milliseconds, which a message would show.
    'recompute-wait': Flags.integer({ summary: 'Seconds POST recompute waits for its run before answering 202 with the run id (at most 2147483, about 24 days).', default: 20, min: 0, max: MAX_TIMER_SECONDS }),
    'shutdown-timeout': Flags.integer({ summary: 'Seconds a shutdown waits for requests in flight before exiting anyway (at most 2147483).', default: 30, min: 0, max: MAX_TIMER_SECONDS }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Serve);
    const { serveUntilSignal } = await import('../src/service/server.js');
    const { readJwtSecret } = await import('../src/cli/jwt-secret.js');
    const serviceToken = process.env.BKT_SERVICE_TOKEN;
    await serveUntilSignal({
      db: flags.db,
      host: flags.host,
      port: flags.port,
      prefix: flags.prefix,
      poolSize: flags['pool-size'],
      jwtSecret: readJwtSecret(flags['jwt-secret-file']),
      jwtAlgorithm: flags['jwt-algorithm'] as 'HS256',
      serviceToken: serviceToken && serviceToken.length > 0 ? serviceToken : undefined,
      logLevel: flags['log-level'] as 'info',
      bodyLimit: flags['body-limit'],
      recomputeWaitMs: flags['recompute-wait'] * 1000,
      shutdownTimeoutMs: flags['shutdown-timeout'] * 1000,
    });
  }
}
