import { Command, toConfiguredId } from '@oclif/core';
import { BktError, EXIT_CODES, UsageError, errorJson, redactConnectionString } from '../errors.js';
import { optionPathsToFlags } from './option-flags.js';
import { closestName } from './suggest.js';

/**
 * Base of every bkt command and the one place that turns an outcome into an exit code:
 * - a result whose `failure` is set (a gate failed after the work was done, see GatedResult) is
 *   printed as usual, then its detail lines and one `Error:` line go to stderr and the process
 *   exits with the failure's code;
 * - a thrown BktError becomes one `Error:` line on stderr (and `{error}` on stdout under --json)
 *   and its exit code; an error naming an option path (`maxIterations`) names the flag instead;
 * - an oclif parse error (unknown flag, missing value, conflicting flags) becomes one line with a
 *   suggestion, exit 2, instead of oclif's message followed by the whole help (and `{error}` on
 *   stdout when the argv asked for --json);
 * - EPIPE on stdout (a closed pipe, `bkt ... | head`) is success, as xsv does.
 * Commands never set process.exitCode or write stderr themselves.
 */
export abstract class BktCommand extends Command {
  static override enableJsonFlag = true;

  override async _run<T>(): Promise<T> {
    const result = await super._run<T>();
    const failure = failureOf(result);
    // process.exitCode rather than this.exit(): exiting now could cut off a large result still
    // being written to a pipe.
    if (failure) process.exitCode = this.report(failure);
    return result;
  }

  /** `--json`: a result's failure is printed as `{code, exit_code, message}`, like a thrown error. */
  protected override toSuccessJson(result: unknown): unknown {
    const failure = failureOf(result);
    return failure ? { ...(result as object), failure: errorJson(translateOptionPaths(failure)) } : result;
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') this.exit(EXIT_CODES.ok);
    if (error instanceof BktError) {
      const translated = translateOptionPaths(error);
      if (this.jsonEnabled()) this.logJson({ error: errorJson(translated) });
      this.fail(translated);
    }
    const parseError = this.usageErrorFromParse(error);
    if (parseError) {
      // --json promises machine-readable failures too: a script must not parse oclif's prose.
      if (this.argv.includes('--json')) this.logJson({ error: errorJson(parseError) });
      this.fail(parseError);
    }
    // Anything else is a bug (exit 1): oclif prints it with its stack under DEBUG.
    if (error.message) error.message = redactConnectionString(error.message);
    return super.catch(error);
  }

  /**
   * A note for the person at the terminal (what an interruption will do, where a file went) on
   * stderr, so stdout stays the result; unlike oclif's logToStderr it is printed under --json too.
   */
  protected note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  /** Print `error` on stderr (its detail lines, then one `Error:` line); returns its exit code. */
  private report(error: BktError): number {
    const translated = translateOptionPaths(error);
    for (const line of translated.details) process.stderr.write(`${redactConnectionString(line)}\n`);
    process.stderr.write(`Error: ${redactConnectionString(translated.toLine())}\n`);
    return translated.exitCode;
  }

  /** Report `error` and exit with its code. */
  private fail(error: BktError): never {
    return this.exit(this.report(error));
  }

  /** oclif's parse errors as one UsageError line; null for anything else. */
  private usageErrorFromParse(error: Error & { oclif?: { exit?: number }; flags?: string[]; args?: { name: string }[] }): UsageError | null {
    const name = error.constructor?.name ?? '';
    if (!('parse' in error) && error.oclif?.exit !== EXIT_CODES.usage) return null;
    const help = `See "${[this.config.bin, this.id ? toConfiguredId(this.id, this.config) : '', '--help'].filter(Boolean).join(' ')}"`;
    if (name === 'NonExistentFlagsError' && Array.isArray(error.flags)) {
      const known = Object.entries(this.ctor.flags ?? {}).flatMap(([flag, definition]) => [flag, ...((definition as { aliases?: string[] }).aliases ?? [])]);
      const unknown = error.flags[0];
      const suggestion = closestName(unknown.replace(/^-+/, '').replace(/=.*$/, ''), known);
      return new UsageError(`unknown flag ${unknown}${error.flags.length > 1 ? ` (and ${error.flags.slice(1).join(', ')})` : ''}`, `${suggestion ? `Did you mean --${suggestion}? ` : ''}${help}`);
    }
    const lines = error.message
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !/^See more help with --help$/.test(line) && !/^The following errors? occurred:$/.test(line));
    if (name === 'RequiredArgsError' && Array.isArray(error.args)) {
      return new UsageError(`missing argument ${error.args.map((a) => `<${a.name}>`).join(' ')}`, help);
    }
    // oclif states each exclusive pair twice, with the values ("--a=x cannot also be provided when
    // using --b; --b=y cannot also ..."): one plain sentence per pair reads better.
    const conflicts = new Set<string>();
    const rest = lines.filter((line) => {
      const pair = /^--([\w-]+)=.* cannot also be provided when using --([\w-]+)\.?$/.exec(line);
      if (!pair) return true;
      conflicts.add([pair[1], pair[2]].sort().map((f) => `--${f}`).join(' and '));
      return false;
    });
    const text = [...[...conflicts].map((pair) => `${pair} cannot be used together`), ...rest].join('; ');
    return new UsageError(text.replace(/[.:]$/, '') || name, help);
  }
}

/** The failure a result carries (GatedResult), or null. */
function failureOf(result: unknown): BktError | null {
  const failure = result !== null && typeof result === 'object' ? (result as { failure?: unknown }).failure : null;
  return failure instanceof BktError ? failure : null;
}

/**
 * src/ names options by their path in backticks (`maxIterations`, `columns.user`); on the command
 * line they are flags, so the message and hint name the flag instead (--max-iterations).
 */
function translateOptionPaths(error: BktError): BktError {
  error.message = optionPathsToFlags(error.message);
  if (error.hint) (error as { hint?: string }).hint = optionPathsToFlags(error.hint);
  return error;
}
