/**
 * Running bkt's oclif command classes in-process (as `bin/run.js` would, without a process start)
 * for tests that need many runs, and digests of a database to tell whether a run changed it.
 */
import { createHash } from 'node:crypto';
import { Config } from '@oclif/core';
import { vi } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { driverOf } from '../store/backends.js';
import { ROOT } from './run-bkt.js';

let config: Promise<Config> | null = null;

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
  config ??= Config.load(ROOT);
  const loaded = await config;
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const exitCodeBefore = process.exitCode;
  try {
    await command.run(argv, loaded);
    return { status: 0, stdout, stderr };
  } catch (error) {
    const exit = (error as { oclif?: { exit?: number } }).oclif?.exit;
    return { status: typeof exit === 'number' ? exit : 1, error, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = exitCodeBefore;
  }
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
