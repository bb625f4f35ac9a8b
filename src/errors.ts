/**
 * The BktError family and the exit-code table (README "Exit codes").
 *
 * | exit | meaning                                              |
 * |------|------------------------------------------------------|
 * | 0    | success (also EPIPE on stdout)                       |
 * | 1    | unexpected internal error (a bug)                    |
 * | 2    | usage: bad or missing flags                          |
 * | 3    | input data invalid                                   |
 * | 4    | not found (concept, params id, session, user)        |
 * | 5    | storage unavailable or schema mismatch               |
 * | 6    | quality gate failed (invalid/degenerate parameters)  |
 * | 130  | interrupted (Ctrl-C); the run is recorded as FAILED  |
 *
 * Every message is one line naming the input (file, line, column, flag or id) and ending with
 * what to do. Connection strings are redacted with `redactConnectionString` before they appear.
 */
export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  input: 3,
  notFound: 4,
  storage: 5,
  qualityGate: 6,
  interrupted: 130,
} as const;

/** One of the exit codes of EXIT_CODES. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** Base of every error bkt throws on purpose: `exitCode` is the CLI's exit code, `code` a stable name, `hint` the fix. */
export class BktError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint?: string;
  /** Lines that explain the error in detail (one per failing check), printed before it. */
  readonly details: readonly string[];

  constructor(message: string, options: { code: string; exitCode: ExitCode; hint?: string; cause?: unknown; details?: readonly string[] }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }

  /** The one line printed to stderr: message, then the hint when there is one. */
  toLine(): string {
    return this.hint ? `${this.message}. ${this.hint}` : this.message;
  }
}

/** Bad or missing flags or options (exit 2). */
export class UsageError extends BktError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'USAGE', exitCode: EXIT_CODES.usage, hint });
  }
}

/** Input data that cannot be used: malformed file, missing column, bad value (exit 3). */
export class InputError extends BktError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { code: 'INPUT', exitCode: EXIT_CODES.input, hint, cause });
  }
}

/** A named thing does not exist: concept, parameter set, session, user (exit 4). */
export class NotFoundError extends BktError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'NOT_FOUND', exitCode: EXIT_CODES.notFound, hint });
  }
}

/** The database cannot be reached, or its tables do not match the schema (exit 5). */
export class StorageError extends BktError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(redactConnectionString(message), { code: 'STORAGE', exitCode: EXIT_CODES.storage, hint, cause });
  }
}

/** Parameters failed a quality gate: invalid, degenerate, or below held-out thresholds (exit 6). */
export class QualityGateError extends BktError {
  constructor(message: string, hint?: string, details?: readonly string[]) {
    super(message, { code: 'QUALITY_GATE', exitCode: EXIT_CODES.qualityGate, hint, details });
  }
}

/** A run stopped on request (Ctrl-C) before it finished (exit 130, as a shell reports SIGINT). */
export class InterruptedError extends BktError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'INTERRUPTED', exitCode: EXIT_CODES.interrupted, hint });
  }
}

/**
 * A result that finished its work and still failed a gate (a quality gate, a schema check, an
 * interruption). The service returns its whole result with `failure` set instead of throwing,
 * so the caller has both; the CLI prints the result, then exits with `failure.exitCode` and one
 * stderr line. `failure` is null when every gate passed.
 */
export interface GatedResult {
  failure: BktError | null;
}

/** The JSON form of an error: `{code, exit_code, message}` (the `--json` error object). */
export function errorJson(error: BktError): { code: string; exit_code: number; message: string } {
  return { code: error.code, exit_code: error.exitCode, message: redactConnectionString(error.toLine()) };
}

/** A learner scope tried to read or write another learner's state (exit 2: the call is not allowed). */
export class ScopeError extends BktError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'FORBIDDEN', exitCode: EXIT_CODES.usage, hint });
  }
}

/**
 * Replace the password of every URL-like connection string in `text`, and any `password=`
 * parameter, with `***`, so a message can be printed or logged. The one redactor of the codebase.
 *
 * The userinfo of a URL ends at the LAST `@` of its authority (as WHATWG URL and pg read it), so
 * `postgres://u:pa:ss@S3cr@host/db` hides `pa:ss@S3cr`. When the password holds a `/`, `?` or `#`
 * the authority ends inside it; then everything from the first `:` to the last `@` before any
 * whitespace is hidden: showing too little beats leaking.
 */
export function redactConnectionString(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s'"<>`]*)/gi, (match, scheme: string, rest: string) => {
      const authorityEnd = rest.search(/[/?#]/);
      let at = (authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)).lastIndexOf('@');
      if (at < 0) at = rest.lastIndexOf('@');
      if (at < 0) return match;
      const userinfo = rest.slice(0, at);
      const colon = userinfo.indexOf(':');
      if (colon < 0) return match;
      return `${scheme}${userinfo.slice(0, colon)}:***${rest.slice(at)}`;
    })
    .replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^&\s]+)/gi, '$1***');
}
