/**
 * Running `bin/run.js` in end-to-end tests (xsv's Workdir idea): each result carries a
 * description of the command, cwd, status, stdout and stderr for assertion messages.
 * Requires `npm run build` first.
 */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend, EmptyDb } from '../store/backends.js';
import { cloneDatabase } from './templates.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Command, cwd, status and output, for `expect(..., r.describe)`. */
  describe: string;
  json<T = any>(): T;
}

/** The result of one run; shared with the in-process runner (support/in-process.ts). */
export function cliResult(args: string[], cwd: string, status: number | null, stdout: string, stderr: string): CliResult {
  const describe = `bkt ${args.join(' ')}\n  cwd: ${cwd}\n  status: ${status}\n  stdout: ${stdout.slice(0, 2000)}\n  stderr: ${stderr.slice(0, 2000)}`;
  return {
    status,
    stdout,
    stderr,
    describe,
    json: () => {
      try {
        return JSON.parse(stdout);
      } catch {
        throw new Error(`stdout is not JSON\n${describe}`);
      }
    },
  };
}

/** How a run is made: its working directory, environment additions and stdin text. */
export interface BktOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
}

/**
 * The environment every run adds to the test's: no colour, no DATABASE_URL picked up from the
 * machine, CI passed on (empty when unset, so `!process.env.CI` holds either way).
 */
export function runEnv(options: BktOptions): NodeJS.ProcessEnv {
  return { CI: process.env.CI ?? '', FORCE_COLOR: '0', DATABASE_URL: '', ...options.env };
}

/**
 * Run bkt synchronously in a new process. Tests about anything but the process itself (signals,
 * pipes, concurrency between processes, memory, the terminal) use bktIn (support/in-process.ts),
 * which gives the same result without a process start.
 */
export function bkt(args: string[], options: BktOptions = {}): CliResult {
  const cwd = options.cwd ?? ROOT;
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, ...runEnv(options) },
    maxBuffer: 256 * 1024 * 1024,
  });
  return cliResult(args, cwd, r.status, r.stdout, r.stderr);
}

/** Run bkt asynchronously (concurrent runs); `onStart` receives the child, e.g. to send SIGINT. */
export function bktAsync(
  args: string[],
  options: { cwd?: string; stdin?: Promise<string>; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliResult> {
  const cwd = options.cwd ?? ROOT;
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, FORCE_COLOR: '0', DATABASE_URL: '' } });
    if (options.stdin) void options.stdin.then((text) => child.stdin.end(text));
    else child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    child.on('close', (status) => resolvePromise(cliResult(args, cwd, status, stdout, stderr)));
  });
}

/**
 * A fresh database of `backend`, migrated and holding fixtures/sample.csv, made with the CLI: once
 * per test run, then copied for each caller (support/templates.ts).
 */
export async function cliSampleDatabase(backend: Backend): Promise<EmptyDb> {
  return cloneDatabase(backend.name, 'cli-sample', async (db) => {
    for (const args of [['db', 'migrate'], ['import', '--input', 'fixtures/sample.csv']]) {
      const r = bkt([...args, '--db', db]);
      if (r.status !== 0) throw new Error(r.describe);
    }
  });
}
