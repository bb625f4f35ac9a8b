/** Run `node bin/run.js` (after `npm run build`) and report everything on failure (xsv's Workdir idea). */
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  describe: string;
}

export function bkt(args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, CI: 'true', DATABASE_URL: '', ...options.env },
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    describe: `bkt ${args.join(' ')}\ncwd: ${options.cwd}\nstatus: ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`,
  };
}

/** The same, asynchronously (for concurrent processes). */
export function bktAsync(args: string[], options: { cwd?: string; stdin?: Promise<string> } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...process.env, CI: 'true', DATABASE_URL: '' } });
    if (options.stdin) void options.stdin.then((text) => child.stdin.end(text));
    else child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr, describe: `bkt ${args.join(' ')}\nstatus: ${status}\nstdout: ${stdout}\nstderr: ${stderr}` }));
  });
}
