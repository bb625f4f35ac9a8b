/**
 * The package as a user gets it: `npm pack`, install the tarball into an empty project, then use
 * it by name from there. Requires `npm run build` first (as the CLI tests do): the tarball holds
 * dist/, and packing with scripts would rebuild it.
 *
 * The install is offline and leaves this checkout alone: the registry is not reachable here, and
 * `npm install` of a tarball prunes whatever the consumer's package.json does not list, following
 * links into the checkout's node_modules. So the tarball is unpacked where npm would put it
 * (node_modules/bkt, the tarball's package/ folder) and bkt's production dependencies, only those
 * (a type that leaked from a dev dependency must fail the type-check), are linked in one by one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, bkt } from '../support/run-bkt.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let project = '';

function run(command: string, args: string[], cwd: string): { status: number | null; stdout: string; stderr: string; describe: string } {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, DATABASE_URL: '', FORCE_COLOR: '0' }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, describe: `${command} ${args.join(' ')}\n  cwd: ${cwd}\n  status: ${r.status}\n  stdout: ${r.stdout?.slice(0, 3000)}\n  stderr: ${r.stderr?.slice(0, 3000)}` };
}

/** Top-level node_modules entries of bkt's production dependency tree (scoped ones as `@scope/name`). */
function productionModules(): string[] {
  // npm ls exits 1 over an extraneous or missing package elsewhere in the tree; the list still holds.
  const out = spawnSync(npm, ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' }).stdout;
  const prefix = join(ROOT, 'node_modules') + '/';
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const parts = line.slice(prefix.length).split('/');
    names.add(parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]);
  }
  return [...names];
}

function linkModules(names: string[]): void {
  for (const name of names) {
    const target = join(project, 'node_modules', name);
    if (existsSync(target)) continue;
    mkdirSync(join(target, '..'), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), target, 'dir');
  }
}

/** The fenced ```js block of docs/library.md whose info string names `file`. */
function docExample(file: string): string {
  const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
  const match = new RegExp('```js ' + file.replace('.', '\\.') + '\\n([\\s\\S]*?)```').exec(doc);
  if (!match) throw new Error(`docs/library.md has no \`\`\`js ${file} block`);
  return match[1];
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/src/index.js'))) throw new Error('run `npm run build` before this test');
  project = mkdtempSync(join(tmpdir(), 'bkt-consumer-'));
  const pack = run(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', project], ROOT);
  expect(pack.status, pack.describe).toBe(0);
  const tarball = join(project, (JSON.parse(pack.stdout) as { filename: string }[])[0].filename);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
  // @types/node: what any TypeScript project on Node has; bkt's own dev dependencies stay out.
  linkModules([...productionModules(), '@types/node', 'undici-types']);
  mkdirSync(join(project, 'node_modules/bkt'), { recursive: true });
  const unpack = run('tar', ['-xzf', tarball, '-C', join(project, 'node_modules/bkt'), '--strip-components=1'], project);
  expect(unpack.status, unpack.describe).toBe(0);
  // The examples read the repository's fixtures by relative path.
  symlinkSync(join(ROOT, 'fixtures'), join(project, 'fixtures'), 'dir');
}, 120_000);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('installs with dist/, bin/ and README.md, no sources or tests, and its CLI runs', () => {
    const installed = join(project, 'node_modules/bkt');
    expect(readdirSync(installed).sort()).toEqual(['README.md', 'bin', 'dist', 'package.json']);
    expect(existsSync(join(installed, 'dist/src/index.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist/src/kernels.d.ts'))).toBe(true);
    expect(existsSync(join(installed, 'dist/test'))).toBe(false);
    // The CLI ships in the same tarball and runs from it.
    const version = run(process.execPath, [join(installed, 'bin/run.js'), '--version'], project);
    expect(version.status, version.describe).toBe(0);
    expect(version.stdout).toMatch(/^bkt\/\d+\.\d+\.\d+ /);
  });

  it('type-checks a TypeScript consumer with moduleResolution nodenext, and rejects a deep import', () => {
    // skipLibCheck keeps this fast (bkt's .d.ts are checked by its own build); the next test
    // checks they import nothing a consumer lacks.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, types: ['node'], skipLibCheck: true },
        files: ['consumer.ts'],
      }),
    );
    writeFileSync(
      join(project, 'consumer.ts'),
      `import {
  readAttempts, fitConcepts, TRAINER_DEFAULTS, evaluateParams, validateParams, writeParamsFile, readParamsFile,
  openStore, applyAttempt, applyBatch, readBatchAttempts, queryMastery, learnerScope, ADMIN_SCOPE, updateMastery,
  BktError, InputError, EXIT_CODES,
  type AttemptsTable, type FitReport, type Store, type UserSkillStateRow, type UpdateResult, type TrainerOptions, type Scope,
} from 'bkt';
import { accumulateSequence, STATISTICS_LENGTH, runEm, type EmSettings } from 'bkt/kernels';

const { table }: { table: AttemptsTable } = await readAttempts({ input: 'fixtures/sample.csv', csvParser: 'auto' });
const options: Partial<TrainerOptions> = { restarts: TRAINER_DEFAULTS.restarts, seed: 7 };
const report: FitReport = await fitConcepts(table, options);
const fitted = report.concepts.flatMap((c) => (c.params ? [{ concept_id: c.concept_id, params: c.params }] : []));
const auc: number | null = evaluateParams(table, fitted).report.overall.model?.auc ?? null;
const verdict = validateParams(fitted, { minLearn: 0.01 });
await writeParamsFile('p.json', report);
const entries = await readParamsFile('p.json');
const store: Store = await openStore('x.sqlite', { mode: 'migrate' });
const scope: Scope = learnerScope('00000000-0000-0000-0000-000000000001');
const result: UpdateResult = await applyAttempt(store, scope, { userId: '00000000-0000-0000-0000-000000000001', conceptId: '00000000-0000-0000-0000-000000000007', correct: true });
const batch = await readBatchAttempts({ input: 'fixtures/sample.csv' });
const summary = await applyBatch(store, ADMIN_SCOPE, batch, { batchSize: 100 });
const rows: UserSkillStateRow[] = await store.listStates({});
const mastery = await queryMastery(store, scope, {});
const next: number = updateMastery(0.3, true, { p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 });
const stats = new Float64Array(STATISTICS_LENGTH);
accumulateSequence(0.3, 0.1, 0, 0.1, 0.2, table.correct, 0, 3, new Float64Array(3), new Float64Array(3), stats);
const settings: EmSettings = { maxIterations: 10, tolerance: 1e-6, bounds: TRAINER_DEFAULTS.bounds, forgets: false, fixed: {} };
void runEm;
const code: 3 = new InputError('x').exitCode as 3;
const isBkt: boolean = new InputError('x') instanceof BktError && EXIT_CODES.input === 3;
// @ts-expect-error fitConcepts takes a table, not a path
await fitConcepts('fixtures/sample.csv');
// @ts-expect-error internal modules are not exported
await import('bkt/dist/src/data/read-attempts.js');
export { auc, verdict, entries, result, summary, rows, mastery, next, settings, code, isBkt };
`,
    );
    const tsc = run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
    expect(tsc.status, tsc.describe).toBe(0);

  });

  it('declares types that import only node builtins and production dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const allowed = new Set(Object.keys(pkg.dependencies));
    const imported = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.d.ts')) {
          // `from` after a space or `}`: a quoted key such as 'fix-from' is not a module specifier.
          for (const m of readFileSync(path, 'utf8').matchAll(/^\s*(?:import|export)\b[^;]*?[\s}]from\s*['"]([^'"]+)['"]|\bimport\(['"]([^'"]+)['"]\)/gm)) imported.add(m[1] ?? m[2]);
        }
      }
    };
    walk(join(project, 'node_modules/bkt/dist'));
    const external = [...imported].filter((m) => !m.startsWith('.') && !m.startsWith('node:'));
    const packageOf = (m: string) => m.split('/').slice(0, m.startsWith('@') ? 2 : 1).join('/');
    expect(external.length).toBeGreaterThan(0);
    expect(external.filter((m) => !allowed.has(packageOf(m)))).toEqual([]);
  });

  it('runs the analyst example of docs/library.md, and its log-likelihood equals bkt fit --json on the same file', () => {
    writeFileSync(join(project, 'analyst.mjs'), docExample('analyst.mjs'));
    const example = run(process.execPath, ['analyst.mjs'], project);
    expect(example.status, example.describe).toBe(0);
    expect(example.stdout).toContain('read 407967 attempts of 123 concepts');
    expect(example.stdout).toMatch(/held-out AUC 0\.\d{3}/);
    expect(existsSync(join(project, 'params.json'))).toBe(true);

    // The full-precision figures: params.json is the fit report the example wrote.
    const written = JSON.parse(readFileSync(join(project, 'params.json'), 'utf8')) as {
      summary: { total_log_likelihood: number };
      concepts: { concept_id: string; log_likelihood: number | null }[];
    };
    const cli = bkt(['fit', '--input', join(project, 'fixtures/builder/train.csv.gz'), '--json']);
    expect(cli.status, cli.describe).toBe(0);
    const fromCli = cli.json<{ summary: { total_log_likelihood: number }; concepts: { concept_id: string; log_likelihood: number | null }[] }>();
    // Bit-identical: the same code with the same seed (results do not depend on the worker count).
    expect(written.summary.total_log_likelihood).toBe(fromCli.summary.total_log_likelihood);
    expect(written.concepts.map((c) => [c.concept_id, c.log_likelihood])).toEqual(fromCli.concepts.map((c) => [c.concept_id, c.log_likelihood]));
  });

  it('runs the backend example of docs/library.md: an answer applied once in a learner scope, then read back', () => {
    writeFileSync(join(project, 'backend.mjs'), docExample('backend.mjs'));
    const example = run(process.execPath, ['backend.mjs'], project);
    expect(example.status, example.describe).toBe(0);
    // Hand check: built-in defaults L0 0.1, T 0.2, S 0.1, G 0.2 (no fit stored). After a correct
    // answer: posterior 0.1*0.9 / (0.1*0.9 + 0.9*0.2) = 1/3; then 1/3 + (2/3)*0.2 = 0.4667.
    expect(example.stdout).toContain('applied: p_mastery 0.100 -> 0.467 (attempt 1 of this state)');
    expect(example.stdout).toContain('the same answer again: duplicate');
    expect(example.stdout).toContain('00000000-0000-0000-0000-000000000007 0.467 mastered=false');
    // The store really holds it, read through the CLI.
    const read = bkt(['mastery', '--db', join(project, 'demo.sqlite'), '--user', '00000000-0000-0000-0000-000000000001', '--json']);
    expect(read.status, read.describe).toBe(0);
    expect(JSON.stringify(read.json())).toContain('0.4666666');
  });

  it('runs the kernels example of docs/library.md', () => {
    writeFileSync(join(project, 'kernels.mjs'), docExample('kernels.mjs'));
    const example = run(process.execPath, ['kernels.mjs'], project);
    expect(example.status, example.describe).toBe(0);
    expect(example.stdout).toMatch(/^4945 attempts: AUC 0\.\d{3}, RMSE 0\.\d{3}$/m);
  });

  it('refuses a deep import at run time (ERR_PACKAGE_PATH_NOT_EXPORTED)', () => {
    writeFileSync(join(project, 'deep.mjs'), `await import('bkt/dist/src/errors.js');\n`);
    const deep = run(process.execPath, ['deep.mjs'], project);
    expect(deep.status).not.toBe(0);
    expect(deep.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
