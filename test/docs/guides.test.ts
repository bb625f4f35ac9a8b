/**
 * The task guides (docs/guide-*.md) are run, not just read: every ```sh block of a guide runs,
 * in order, in one bash shell in a new directory holding the shipped fixtures, with `bkt` meaning
 * this checkout's bin/run.js. A command is expected to exit 0 unless its line ends with
 * `# exit N`, the exit code the guide promises. The operations guide runs once on the SQLite
 * default and once on PostgreSQL (DATABASE_URL set), when a server answers.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { BIN, ROOT } from '../support/run-bkt.js';

const DOCS = join(ROOT, 'docs');
// The operations guide picks ids out of JSON with jq, as an operator would.
const HAS_JQ = spawnSync('jq', ['--version']).status === 0;
if (!HAS_JQ) {
  if (process.env.CI === 'true') throw new Error('CI: jq is not installed; the operations guide cannot run');
  console.warn('NOTICE: jq is not installed; the guides that use it are SKIPPED');
}
const needsJq = (guide: string) => readFileSync(join(DOCS, guide), 'utf8').includes('| jq ');
const GUIDES = readdirSync(DOCS).filter((f) => /^guide-.*\.md$/.test(f)).sort();

/** The guide's commands: ```sh blocks, continuation lines joined, comments and blanks dropped. */
export function guideCommands(markdown: string): Array<{ line: number; command: string; exit: number }> {
  const out: Array<{ line: number; command: string; exit: number }> = [];
  const lines = markdown.split('\n');
  let inBlock = false;
  let pending = '';
  let pendingLine = 0;
  lines.forEach((text, i) => {
    if (/^```sh\s*$/.test(text)) return void (inBlock = true);
    if (inBlock && /^```\s*$/.test(text)) return void (inBlock = false);
    if (!inBlock) return;
    if (!pending && (/^\s*#/.test(text) || text.trim() === '')) return;
    if (!pending) pendingLine = i + 1;
    if (text.endsWith('\\')) return void (pending += `${text.slice(0, -1)} `);
    const full = pending + text;
    pending = '';
    const expected = /#\s*exit\s+(\d+)\s*$/.exec(full);
    out.push({ line: pendingLine, command: full.replace(/\s+#.*$/, '').trim(), exit: expected ? Number(expected[1]) : 0 });
  });
  return out;
}

/** One bash script that runs every command and stops at the first unexpected exit code. */
function script(guide: string, commands: ReturnType<typeof guideCommands>): string {
  const body = commands
    .map(
      ({ line, command, exit }) =>
        `${command}\nrc=$?\nif [ "$rc" -ne ${exit} ]; then echo "${guide}:${line}: exit $rc, expected ${exit}: ${command.replace(/["\\$`]/g, '\\$&')}" >&2; exit 90; fi`,
    )
    .join('\n');
  return `set -u -o pipefail\nbkt() { node ${JSON.stringify(BIN)} "$@"; }\n${body}\n`;
}

function runGuide(guide: string, env: NodeJS.ProcessEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'bkt-guide-'));
  try {
    symlinkSync(join(ROOT, 'fixtures'), join(dir, 'fixtures'));
    const commands = guideCommands(readFileSync(join(DOCS, guide), 'utf8'));
    const r = spawnSync('bash', ['-c', script(guide, commands)], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: process.env.CI ?? '', FORCE_COLOR: '0', DATABASE_URL: '', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { commands, status: r.status, stderr: r.stderr, stdout: r.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('guideCommands', () => {
  it('joins continued lines, drops comments and reads the promised exit code', () => {
    const md = ['text', '```sh', '# a comment', 'bkt fit \\', '  --input x.csv', '', 'bkt validate --params p.json  # exit 6', '```', '```json', '{}', '```'].join('\n');
    expect(guideCommands(md)).toEqual([
      { line: 4, command: 'bkt fit    --input x.csv', exit: 0 },
      { line: 7, command: 'bkt validate --params p.json', exit: 6 },
    ]);
  });
});

describe('the guides run as written', () => {
  it('there are guides for analysts, operators and CI', () => {
    expect(GUIDES).toEqual(expect.arrayContaining(['guide-analyst.md', 'guide-ci.md', 'guide-operations.md']));
  });

  for (const guide of GUIDES) {
    it.skipIf(!HAS_JQ && needsJq(guide))(`${guide} on the SQLite default`, () => {
      const r = runGuide(guide);
      expect(r.commands.length).toBeGreaterThan(3);
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
    }, 240_000);
  }

  it.skipIf(!HAS_JQ)('guide-operations.md on PostgreSQL (DATABASE_URL)', async () => {
    if (!(await postgresAvailable())) return;
    const { db, drop } = await createPostgresDatabase();
    try {
      const r = runGuide('guide-operations.md', { DATABASE_URL: db });
      expect(r.status, r.stderr.slice(-3000)).toBe(0);
    } finally {
      await drop();
    }
  }, 240_000);
});
