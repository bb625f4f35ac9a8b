import { Command } from '@oclif/core';
import { BktError, EXIT_CODES, redactConnectionString } from '../errors.js';

/**
 * Base of every bkt command: turns a thrown BktError into one line on stderr and its exit code,
 * and treats EPIPE on stdout (a closed pipe, `bkt ... | head`) as success, as xsv does.
 */
export abstract class BktCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') this.exit(EXIT_CODES.ok);
    if (error instanceof BktError) {
      process.exitCode = error.exitCode;
      if (this.jsonEnabled()) {
        this.logJson({ error: { code: error.code, exit_code: error.exitCode, message: error.toLine() } });
      }
      process.stderr.write(`Error: ${redactConnectionString(error.toLine())}\n`);
      this.exit(error.exitCode);
    }
    // oclif's own parse errors carry exit 2; anything else is a bug (exit 1).
    if (error.message) error.message = redactConnectionString(error.message);
    return super.catch(error);
  }
}

/** True when progress may be drawn: stderr is a real terminal with a width, and not CI. */
export function progressAllowed(): boolean {
  return Boolean(process.stderr.isTTY && (process.stderr.columns ?? 0) > 0 && !process.env.CI);
}
