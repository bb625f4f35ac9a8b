/**
 * Output targets for exports: `-` is stdout; a file is written to `<file>.tmp-<pid>` and renamed
 * into place only when the export finished, so a failed export never leaves a half-written file.
 */
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';

export interface OutputTarget {
  stream: Writable;
  /** Flush and move the file into place (no-op for stdout). */
  commit(): Promise<void>;
  /** Remove the partial file (no-op for stdout). */
  abort(): void;
}

export function openOutput(path: string): OutputTarget {
  if (path === '-') {
    return { stream: process.stdout, commit: async () => {}, abort: () => {} };
  }
  const temporary = `${path}.tmp-${process.pid}`;
  const stream = createWriteStream(temporary);
  return {
    stream,
    async commit() {
      stream.end();
      await finished(stream);
      renameSync(temporary, path);
    },
    abort() {
      stream.destroy();
      rmSync(temporary, { force: true });
    },
  };
}
