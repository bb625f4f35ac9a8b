/**
 * bktIn (a run in the test's process) against bkt (a spawned bin/run.js) on the same invocations:
 * status, stdout and stderr must be equal, so tests that switched to bktIn still test what the
 * command does from a shell. The one normalisation: durations (`"seconds": 0.12` in JSON,
 * `0.01 s` in text), since two runs never take equally long.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BACKENDS, type EmptyDb } from '../store/backends.js';
import { bktIn } from '../support/in-process.js';
import { type BktOptions, ROOT, bkt, cliSampleDatabase } from '../support/run-bkt.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-in-process-'));
const created: EmptyDb[] = [];
let sampleDb: string;
let params: string;
beforeAll(async () => {
  const sample = await cliSampleDatabase(BACKENDS[0]);
  created.push(sample);
  sampleDb = sample.db;
  params = join(dir, 'params.json');
  const fit = bkt(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--concept-id', '11', '--restarts', '1', '--out', params]);
  expect(fit.status, fit.describe).toBe(0);
  writeFileSync(join(dir, 'bad-correct.csv'), 'user_id,concept_id,correct,answered_at\n1,7,1,2026-01-01T00:00:00Z\n1,7,maybe,2026-01-01T00:00:01Z\n');
  const degenerate = bkt(['simulate', '--learners', '300', '--attempts', '10', '--seed', '1', '--out', join(dir, 'degenerate.csv')]);
  expect(degenerate.status, degenerate.describe).toBe(0);
});
afterAll(async () => {
  for (const d of created) await d.drop();
  rmSync(dir, { recursive: true, force: true });
});

const withoutDurations = (text: string): string => text.replace(/"seconds": ?[\d.e-]+/g, '"seconds": 0').replace(/\b\d+(\.\d+)? s\b/g, 'N s');

/** Both runners on `args`, compared; returns the in-process result for further checks. */
async function expectSame(args: string[], options: BktOptions = {}) {
  const spawned = bkt(args, options);
  const inProcess = await bktIn(args, options);
  const view = (r: typeof spawned) => ({ status: r.status, stdout: withoutDurations(r.stdout), stderr: withoutDurations(r.stderr) });
  expect(view(inProcess), `spawned:\n${spawned.describe}\nin process:\n${inProcess.describe}`).toEqual(view(spawned));
  return inProcess;
}

describe('bktIn gives what a spawned bkt gives', () => {
  it('success: a table, --json, CSV on stdout, metrics of a parameters file', async () => {
    expect((await expectSame(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--restarts', '1'])).stdout).toMatch(/^concept +status/);
    expect((await expectSame(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--restarts', '1', '--json'])).json().concepts).toHaveLength(1);
    expect((await expectSame(['simulate', '--learners', '3', '--attempts', '4', '--seed', '7'])).stdout.trim().split('\n')).toHaveLength(13);
    expect((await expectSame(['evaluate', '--input', 'fixtures/sample.csv', '--params', params, '--json'])).status).toBe(0);
  });

  it('usage errors: an unknown flag (with and without --json), a bad value, conflicting flags, a missing value', async () => {
    expect((await expectSame(['fit', '--inptu', 'fixtures/sample.csv'])).status).toBe(2);
    expect((await expectSame(['fit', '--inptu', 'fixtures/sample.csv', '--json'])).stdout).toMatch(/"error"/);
    expect((await expectSame(['fit', '--input', 'fixtures/sample.csv', '--restarts', 'many'])).status).toBe(2);
    expect((await expectSame(['fit', '--input', '-', '--fix-from', '-'], { input: 'concept_id,p_G\n10,0.2\n' })).status).toBe(2);
    expect((await expectSame(['fit', '--input'])).status).toBe(2);
  });

  it('BktError exit codes: 3 (bad input), 4 (not found), 5 (storage), 6 (a gate, through process.exitCode)', async () => {
    expect((await expectSame(['fit', '--input', join(dir, 'bad-correct.csv')])).status).toBe(3);
    expect((await expectSame(['fit', '--input', 'fixtures/nothing-here.csv'])).status).toBe(3);
    expect((await expectSame(['fit', '--input', 'fixtures/sample.csv', '--concept-id', 'nonexistent', '--concept-id', '10', '--restarts', '1', '--json'])).status).toBe(4);
    expect((await expectSame(['db', 'check', '--db', join(dir, 'missing.sqlite')])).status).toBe(5);
    const gate = await expectSame(['fit', '--input', join(dir, 'degenerate.csv'), '--fix', 'p_G=0.6', '--fix', 'p_S=0.35', '--strict', '--json']);
    expect(gate.status).toBe(6);
    expect(gate.json().concepts[0].degenerate).toBe(true);
  });

  it('stdin: CSV attempts, parameters to hold, and an empty stdin when no input is given', async () => {
    const csv = readFileSync(join(ROOT, 'fixtures/sample.csv'), 'utf8');
    expect((await expectSame(['fit', '--input', '-', '--concept-id', '11', '--restarts', '1', '--json'], { input: csv })).status).toBe(0);
    expect((await expectSame(['fit', '--input', 'fixtures/sample.csv', '--concept-id', '10', '--fix-from', '-', '--restarts', '1', '--json'], { input: '[{"skill_name":"10","slips":0.15}]' })).json().concepts[0].params.p_S).toBe(0.15);
    expect((await expectSame(['predict', '--input', '-', '--params', params], { input: csv.split('\n').slice(0, 40).join('\n') })).stdout).toMatch(/correct_predictions/);
    expect((await expectSame(['fit', '--input', '-', '--json'])).status).not.toBe(0);
  });

  it('--db commands, the environment (DATABASE_URL) and the working directory', async () => {
    expect((await expectSame(['db', 'check', '--db', sampleDb])).status).toBe(0);
    expect((await expectSame(['params', 'list', '--db', sampleDb, '--json'])).status).toBe(0);
    expect((await expectSame(['mastery', '--db', sampleDb, '--user', '1'])).status).toBe(0);
    const fromEnv = await expectSame(['db', 'check'], { env: { DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/y' } });
    expect(fromEnv.status).toBe(5);
    expect(fromEnv.stderr).not.toContain('hunter2');
    expect((await expectSame(['fit', '--input', 'sample.csv', '--concept-id', '10', '--restarts', '1'], { cwd: join(ROOT, 'fixtures') })).status).toBe(0);
  });

  it("oclif's own paths: help, a topic, --version, an unknown command", async () => {
    expect((await expectSame(['--help'])).stdout).toMatch(/^Bayesian Knowledge Tracing/);
    expect((await expectSame(['params', 'list', '--help'])).stdout).toMatch(/USAGE/);
    expect((await expectSame(['params'])).stdout).toMatch(/params list/);
    expect((await expectSame(['--version'])).stdout).toMatch(/^bkt\/\d/);
    expect((await expectSame(['fitt'])).stderr).toMatch(/Did you mean "bkt fit"\?/);
  });

  it('puts the process back: environment, working directory, exit code, stdin and stdout', async () => {
    const env = { ...process.env };
    const cwd = process.cwd();
    const { stdin, stdout } = process;
    process.exitCode = undefined;
    const r = await bktIn(['fit', '--input', 'sample.csv', '--strict', '--fix', 'p_G=0.6', '--fix', 'p_S=0.35', '--concept-id', '10'], { cwd: join(ROOT, 'fixtures'), env: { BKT_IN_PROCESS_PROBE: '1' } });
    expect(r.status, r.describe).toBe(6);
    expect(process.env).toEqual(env);
    expect(process.cwd()).toBe(cwd);
    expect(process.exitCode).toBeUndefined();
    expect(process.stdin).toBe(stdin);
    expect(process.stdout).toBe(stdout);
    expect(vi.isMockFunction(process.stdout.write)).toBe(false);
  });
});
