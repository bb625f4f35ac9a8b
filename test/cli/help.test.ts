/**
 * Help that helps: topic texts, clean usage lines, one vocabulary across commands, and one short
 * line with a suggestion for an unknown flag or command.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const COMMANDS = ['evaluate', 'export', 'fit', 'import', 'mastery', 'predict', 'recompute', 'report', 'simulate', 'snapshot', 'update', 'validate', 'db migrate', 'db check', 'params list', 'params activate'];

describe('help', () => {
  it('lists every command, and gives the db and params topics their own text', () => {
    const r = bkt(['--help']);
    expect(r.status, r.describe).toBe(0);
    const text = r.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('db Set up and check the database');
    expect(text).toContain("params Inspect and roll back stored parameter sets");
    expect(text).not.toMatch(/db Compare the live tables/);
    expect(text).not.toMatch(/params Make a parameter set/);
    const files = readdirSync(join(ROOT, 'commands')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, ''));
    for (const command of files) expect(r.stdout).toMatch(new RegExp(`^  ${command}\\s`, 'm'));
  });

  it.each(COMMANDS)('bkt %s --help: a summary, usage lines without empty alternatives, examples', async (command) => {
    const r = await bktIn([...command.split(' '), '--help']);
    expect(r.status, r.describe).toBe(0);
    const usage = r.stdout.slice(r.stdout.indexOf('USAGE'), r.stdout.indexOf('\n\n', r.stdout.indexOf('USAGE')));
    expect(usage).toMatch(new RegExp(`\\$ bkt ${command}`));
    expect(usage).not.toMatch(/\| \]/);
    expect(usage.split('\n').length).toBeLessThanOrEqual(5);
    expect(r.stdout).toContain('EXAMPLES');
    expect(r.stdout).toContain('DESCRIPTION');
  });

  it('speaks one vocabulary: --db, --concept-id (with --concept as an alias), --user', async () => {
    for (const command of ['update', 'mastery', 'snapshot', 'export', 'params list', 'recompute', 'fit', 'validate']) {
      const help = (await bktIn([...command.split(' '), '--help'])).stdout;
      expect(help, command).toMatch(/--concept-id=<value>/);
      expect(help, command).not.toMatch(/^\s+--concept=<value>/m);
      expect(help, command).toMatch(/--db=<value>/);
    }
    for (const command of ['update', 'mastery', 'snapshot', 'export']) expect((await bktIn([command, '--help'])).stdout, command).toMatch(/--user=<value>/);
  });
});

describe('usage errors are one line with a suggestion', () => {
  it('an unknown flag names the closest one, exit 2, instead of printing the help', async () => {
    const r = await bktIn(['fit', '--imput', 'x.csv']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toBe('Error: unknown flag --imput. Did you mean --input? See "bkt fit --help"\n');
    expect(r.stdout).toBe('');
    const alias = await bktIn(['mastery', '--concpt-id', 'x']);
    expect(alias.stderr).toMatch(/^Error: unknown flag --concpt-id\. Did you mean --concept-id\?/);
  });

  it('an unknown command names the closest one, exit 2', async () => {
    const r = await bktIn(['fitt']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toBe('Error: "fitt" is not a bkt command. Did you mean "bkt fit"? Run "bkt help" for the list of commands\n');
    const topic = await bktIn(['db', 'chek']);
    expect(topic.status).toBe(2);
    expect(topic.stderr).toContain('Did you mean "bkt db check"?');
  });

  it('a missing value, a missing argument and conflicting flags are one line each, exit 2', async () => {
    const missing = await bktIn(['fit', '--input']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toBe('Error: Flag --input expects a value. See "bkt fit --help"\n');
    const argument = await bktIn(['params', 'activate']);
    expect(argument.status).toBe(2);
    expect(argument.stderr).toBe('Error: missing argument <params-id>. See "bkt params activate --help"\n');
    const conflict = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--no-bounds', '--L0-min', '0.1']);
    expect(conflict.status).toBe(2);
    expect(conflict.stderr.trim().split('\n')).toHaveLength(1);
    expect(conflict.stderr).toBe('Error: --L0-min and --no-bounds cannot be used together. See "bkt fit --help"\n');
  });

  it('under --json a usage error is also JSON on stdout, so a script never parses prose', async () => {
    const r = await bktIn(['update', '--session', '123', '--rebuild', '--json']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const out = JSON.parse(r.stdout) as { error: { code: string; exit_code: number; message: string } };
    expect(out.error.code).toBe('USAGE');
    expect(out.error.exit_code).toBe(2);
    expect(out.error.message).toMatch(/--rebuild/);
    expect(JSON.parse((await bktIn(['fit', '--imput', 'x.csv', '--json'])).stdout).error.message).toMatch(/unknown flag --imput/);
  });

  it('an option named by src/ is shown as its flag', async () => {
    const r = await bktIn(['fit', '--input', 'fixtures/sample.csv', '--from-date', '2024-02-01', '--to-date', '2024-01-01']);
    expect(r.status, r.describe).toBe(2);
    expect(r.stderr).toBe('Error: --from-date is after --to-date. Swap them\n');
  });
});
