/**
 * Output targets for exports: `-` is stdout; a file is written to `<file>.tmp-<pid>` and renamed
 * into place only when the export finished, so the target is only ever a whole file: a failed
 * export leaves no file, an interrupted one (SIGINT, SIGTERM, any exit) removes its temp file.
 */
import { createWriteStream, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { BktError, StorageError, UsageError } from '../errors.js';

export interface OutputTarget {
  stream: Writable;
  /** Flush and move the file into place (no-op for stdout). Throws a typed error naming the path. */
  commit(): Promise<void>;
  /** Remove the partial file (no-op for stdout). */
  abort(): void;
  /** `error` as the one-line typed error to report (a file system error names the target, not the temp file). */
  describe(error: unknown): unknown;
}

/** Exit statuses of a process ended by a signal, as shells report them (128 + number). */
const SIGNAL_EXIT: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/**
 * The typed error for a file system failure on `--out path`: a path that cannot be opened (no
 * such folder, a directory, no permission) is a usage error (exit 2); a failure while writing or
 * renaming (disk full, I/O error) is a storage error (exit 5). Errors that are already typed pass.
 */
export function outputError(path: string, error: unknown): unknown {
  if (error instanceof BktError) return error;
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return new UsageError(`\`out\` ${path}: the folder ${dirname(path)} does not exist`, 'Create it first, or give another `out` path');
    case 'ENOTDIR':
      return new UsageError(`\`out\` ${path}: a part of the path is a file, not a folder`, 'Give another `out` path');
    case 'EISDIR':
      return new UsageError(`\`out\` ${path} is a folder`, 'Give a file name, e.g. `out` states.csv');
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UsageError(`\`out\` ${path}: no permission to write there (${e.code})`, 'Give a writable `out` path');
    case undefined:
      return error;
    default:
      return new StorageError(`\`out\` ${path}: writing failed (${e.code}: ${e.message.split('\n')[0]})`, 'Check the disk (space, permissions) and try again', error);
  }
}

/**
 * Open `path` for an export (`-`: stdout). The temp file is created at once, so a bad path fails
 * before any row is read, with an error naming `path`.
 * @throws UsageError (exit 2) for a path that cannot be written.
 */
export function openOutput(path: string): OutputTarget {
  if (path === '-') {
    return { stream: process.stdout, commit: async () => {}, abort: () => {}, describe: (error) => error };
  }
  let isFolder = false;
  try {
    isFolder = statSync(path).isDirectory();
  } catch {
    // Not there yet: the usual case.
  }
  if (isFolder) throw outputError(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
  const temporary = `${path}.tmp-${process.pid}`;
  let fd: number;
  try {
    fd = openSync(temporary, 'w');
  } catch (error) {
    throw outputError(path, error);
  }
  const stream = createWriteStream(temporary, { fd });
  // A write error surfaces through the writers (stream.errored, a rejected 'drain' wait) and
  // commit(); without a listener it would also be an uncaught 'error' event.
  stream.on('error', () => {});
  let done = false;
  const removeTemporary = (): void => {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // Best effort: the process is ending, or the folder went away.
    }
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    removeTemporary();
    process.exit(SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT] ?? 1);
  };
  const onExit = (): void => {
    if (!done) removeTemporary();
  };
  for (const signal of Object.keys(SIGNAL_EXIT)) process.once(signal, onSignal);
  process.once('exit', onExit);
  const release = (): void => {
    done = true;
    for (const signal of Object.keys(SIGNAL_EXIT)) process.off(signal, onSignal);
    process.off('exit', onExit);
  };
  return {
    stream,
    async commit() {
      try {
        stream.end();
        await finished(stream);
        renameSync(temporary, path);
        release();
      } catch (error) {
        this.abort();
        throw outputError(path, error);
      }
    },
    abort() {
      stream.destroy();
      removeTemporary();
      release();
    },
    describe: (error) => outputError(path, error),
  };
}
