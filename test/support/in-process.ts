/**
 * Running bkt in the test's own process, for tests about what a command does rather than about
 * the process: `bktIn` gives what `bkt()` (a spawned bin/run.js) gives without the ~0.45 CPU-s
 * process start, and `runCommand` runs one command class. Also digests of a database, to tell
 * whether a run changed it. test/cli/in-process.test.ts holds bktIn to the spawned results.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Config, execute, settings } from '@oclif/core';
import { Exit } from '@oclif/core/handle';
import { vi } from 'vitest';
import { redactingLogger } from '../../src/cli/redacting-logger.js';
import { openStore } from '../../src/store/open-store.js';
import { driverOf } from '../store/backends.js';
import { type BktOptions, type CliResult, ROOT, cliResult, runEnv } from './run-bkt.js';

let commandClassConfig: Promise<Config> | null = null;
const packageJson = readFileSync(join(ROOT, 'package.json'), 'utf8');

/**
 * What bin/run.js loads oclif's Config from: dist/ (the built commands and their manifest), with
 * its redacting logger. A fresh copy per run, as a process would have: a Config handed to
 * execute() again is reloaded by oclif, and the reload loses commands (`params list` became
 * unknown after one run).
 */
function binLoadOptions() {
  const pjson = JSON.parse(packageJson);
  pjson.oclif.commands = './commands';
  return { root: join(ROOT, 'dist'), pjson, logger: redactingLogger() };
}

/**
 * One run at a time in a test file: stdout, stderr, stdin, the environment, the working directory
 * and process.exitCode are the process's, replaced for the duration of a run.
 */
let queue: Promise<unknown> = Promise.resolve();
function serialised<T>(task: () => Promise<T>): Promise<T> {
  const next = queue.then(task, task);
  queue = next.catch(() => undefined);
  return next;
}

/** Collect what is written to `stream` (as bytes, decoded once at the end like a pipe's reader). */
function captureWrites(stream: NodeJS.WriteStream, chunks: Buffer[]) {
  return vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array, encoding?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => {
    if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk));
    if (callback) process.nextTick(callback);
    return true;
  }) as NodeJS.WriteStream['write']);
}

/** Set `key` of `target` to `value` as an own property; returns how to put the original back. */
function replaceProperty(target: object, key: string, value: unknown): () => void {
  const original = Object.getOwnPropertyDescriptor(target, key);
  Object.defineProperty(target, key, { value, configurable: true, writable: true, enumerable: original?.enumerable ?? true });
  return () => {
    if (original) Object.defineProperty(target, key, original);
    else delete (target as Record<string, unknown>)[key];
  };
}

/** Put process.env back as `saved` holds it (keys added by the run removed, changed ones reset). */
function restoreEnv(saved: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  for (const [key, value] of Object.entries(saved)) if (process.env[key] !== value) process.env[key] = value;
}

interface ProcessOutcome<T> {
  value?: T;
  error?: unknown;
  stdout: string;
  stderr: string;
  /** process.exitCode as the run left it. */
  exitCode: number | undefined;
}

/**
 * Run `task` as a spawned run's process would see it: `cwd`, the environment of runEnv, stdin
 * holding `input` (empty when none, as spawnSync gives), stdout and stderr pipes (not terminals)
 * captured, process.exitCode unset. Everything is put back afterwards.
 */
function asProcess<T>(options: BktOptions, task: () => Promise<T>): Promise<ProcessOutcome<T>> {
  return serialised(async () => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    const savedEnv = { ...process.env };
    const savedCwd = process.cwd();
    const savedExitCode = process.exitCode;
    const stdin = new Readable({ read() {} });
    stdin.push(Buffer.from(options.input ?? ''));
    stdin.push(null);
    const restore = [
      replaceProperty(process, 'stdin', stdin),
      replaceProperty(process.stdout, 'isTTY', undefined),
      replaceProperty(process.stderr, 'isTTY', undefined),
    ];
    const spies = [captureWrites(process.stdout, stdout), captureWrites(process.stderr, stderr)];
    // oclif's flush() waits for a 'drain' that a write accepted at once never brings: a process
    // ends with the listener, a run here must take it away (11 of them print a leak warning).
    const drainListeners = [process.stdout, process.stderr].map((stream) => ({ stream, before: new Set(stream.listeners('drain')) }));
    const outcome = (rest: { value?: T; error?: unknown }): ProcessOutcome<T> => ({
      ...rest,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      exitCode: process.exitCode === undefined || process.exitCode === null ? undefined : Number(process.exitCode),
    });
    try {
      for (const [key, value] of Object.entries(runEnv(options))) {
        // As spawn does: an undefined value leaves the variable out.
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      if (options.cwd) process.chdir(options.cwd);
      process.exitCode = undefined;
      try {
        return outcome({ value: await task() });
      } catch (error) {
        return outcome({ error });
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
      for (const { stream, before } of drainListeners) {
        for (const listener of stream.listeners('drain')) if (!before.has(listener)) stream.removeListener('drain', listener as () => void);
      }
      for (const undo of restore.reverse()) undo();
      process.chdir(savedCwd);
      restoreEnv(savedEnv);
      process.exitCode = savedExitCode;
    }
  });
}

/**
 * Run bkt in this process as bin/run.js would (oclif's execute with bin/run.js's Config: command
 * ids with spaces, help, version, unknown commands, oclif's error printing), for the same
 * CliResult as `bkt()`: the status is the code oclif's error handler exits with, else
 * process.exitCode (a result's failure, src/cli/base-command.ts), else 0. For tests about the
 * command, not the process: signals, pipes, concurrency between processes, memory and terminals
 * still need `bkt()`.
 */
export async function bktIn(args: string[], options: BktOptions = {}): Promise<CliResult> {
  const cwd = options.cwd ?? ROOT;
  let exitedWith: number | undefined;
  const outcome = await asProcess({ ...options, cwd }, async () => {
    // oclif's handle() ends the process through Exit.exit, its seam for tests.
    const exit = vi.spyOn(Exit, 'exit').mockImplementation(((code = 0) => {
      exitedWith ??= code;
    }) as typeof Exit.exit);
    // The commands run are dist/'s compiled JavaScript: under NODE_ENV=test oclif would look for
    // their TypeScript sources (and register tsx in this process) unless told not to.
    const autoTranspile = settings.enableAutoTranspile;
    settings.enableAutoTranspile = false;
    try {
      await execute({ args, loadOptions: binLoadOptions() });
    } finally {
      settings.enableAutoTranspile = autoTranspile;
      exit.mockRestore();
    }
  });
  // execute() hands every error to handle(): one escaping it is a bug of this runner.
  if (outcome.error) throw outcome.error;
  return cliResult(args, cwd, exitedWith ?? outcome.exitCode ?? 0, outcome.stdout, outcome.stderr);
}

export interface InProcessResult {
  /** The exit status bkt would give: 0, a BktError's code (via oclif's exit), or 1 for anything else. */
  status: number;
  error?: unknown;
  /** What the command wrote to stdout and stderr. */
  stdout: string;
  stderr: string;
}

/** Run a command class with `argv`, its stdout and stderr captured (not printed). */
export async function runCommand(command: { run(argv: string[], config: Config): Promise<unknown> }, argv: string[]): Promise<InProcessResult> {
  commandClassConfig ??= Config.load(ROOT);
  const loaded = await commandClassConfig;
  const outcome = await asProcess({}, () => command.run(argv, loaded));
  const { stdout, stderr, error } = outcome;
  if (!('error' in outcome)) return { status: 0, stdout, stderr };
  const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
  return { status: typeof exit === 'number' ? exit : 1, error, stdout, stderr };
}

/** A digest of every row of every table bkt reads or writes (sorted, so equal contents give equal digests). */
export async function databaseDigest(db: string): Promise<string> {
  const store = await openStore(db);
  try {
    const hash = createHash('sha256');
    const driver = driverOf(store);
    for (const t of ['users', 'test_sessions', 'session_questions', 'session_answers', 'bkt_skill_params', 'bkt_user_skill_state', 'mastery_snapshot', 'algo_runs', 'algo_params', 'algo_versions', 'bkt_attempt_ledger']) {
      const rows = (await driver.queryArrays(`SELECT * FROM ${t}`)).map((r) => JSON.stringify(r)).sort();
      hash.update(`${t}:${rows.length}\n${rows.join('\n')}\n`);
    }
    return hash.digest('hex');
  } finally {
    await store.close();
  }
}
