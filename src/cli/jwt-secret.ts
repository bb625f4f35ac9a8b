/** `bkt serve`'s secret flag: the CLI reads the file, the service takes the secret itself (`jwtSecret`). */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * The JWT secret from `--jwt-secret-file` (trailing newline dropped) or, without it, from
 * `env.BKT_JWT_SECRET`. Undefined when neither is set. Throws UsageError when the file
 * cannot be read (the message names the file, never its content).
 */
export function readJwtSecret(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new UsageError(`--jwt-secret-file ${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot be read'}`, 'Give a readable file holding the secret');
    }
  }
  return env.BKT_JWT_SECRET && env.BKT_JWT_SECRET.length > 0 ? env.BKT_JWT_SECRET : undefined;
}
