import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/run-bkt.js';

/**
 * bin/run.js runs the compiled commands whatever NODE_ENV says. Under NODE_ENV=test (set by every
 * test runner for the bkt processes it starts) or development (many developers' shells), oclif
 * would otherwise look for TypeScript sources: tsconfig.json read through the compiler and tsx
 * registered on each command, tripling a command's start-up CPU.
 */
describe('bin/run.js start-up', () => {
  it.each(['test', 'development'])('loads no TypeScript tooling under NODE_ENV=%s', (nodeEnv) => {
    // A command that loads its module (--help and --version are answered from the manifest).
    const r = spawnSync(process.execPath, [BIN, 'validate', '--params', 'no-such-params.json'], {
      encoding: 'utf8',
      env: { ...process.env, NODE_ENV: nodeEnv, DEBUG: 'oclif:config:ts-path' },
    });
    expect(r.status, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/enableAutoTranspile is explicitly set to false/);
    expect(r.stderr).not.toMatch(/tsx/);
  });
});
