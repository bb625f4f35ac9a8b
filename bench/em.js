// EM speed and memory: `npm run bench` (or `node bench/em.js` after `npm run build`).
// Prints each figure beside its target (issue 2). Figures, not assertions: nothing here fails a build.
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const line = (name, value, target) => console.log(`${name.padEnd(58)} ${String(value).padStart(14)}   target ${target}`);

if (process.argv[2] === '--child-memory') {
  // Child: simulate N attempts of one concept and fit them (5 restarts, all cores); report peak RSS.
  const n = Number(process.argv[3]);
  const { simulateAttempts } = await import(dist('model/simulate.js'));
  const { fitConcepts } = await import(dist('model/fit-concepts.js'));
  const baseline = process.memoryUsage().rss;
  const table = simulateAttempts({ params: [{ p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 }], learners: n / 20, attemptsPerLearner: 20, seed: 1 });
  const report = await fitConcepts(table, { restarts: 5, maxIterations: 30 });
  const peak = process.resourceUsage().maxRSS * 1024;
  console.log(JSON.stringify({ baseline, peak, workers: report.summary.workers, seconds: report.summary.seconds }));
  process.exit(0);
}

const { simulateAttempts } = await import(dist('model/simulate.js'));
const { runEm } = await import(dist('model/em-trainer.js'));
const { NO_BOUNDS } = await import(dist('model/params.js'));

console.log(`bkt EM bench on ${availableParallelism()} cores, node ${process.version}`);
console.log('-'.repeat(100));

// 1. Single-core EM throughput, flat as the data grows (synthetic: 20 attempts per learner, like pyBKT's anchor).
for (const n of [1_000_000, 5_000_000]) {
  const table = simulateAttempts({ params: [{ p_L0: 0.3, p_T: 0.1, p_S: 0.1, p_G: 0.2, p_F: 0 }], learners: n / 20, attemptsPerLearner: 20, seed: 1 });
  const slice = { correct: table.correct, sequenceStart: table.sequenceStart, firstSequence: 0, lastSequence: n / 20 };
  const settings = { maxIterations: 20, tolerance: 0, bounds: NO_BOUNDS, forgets: false, fixed: {}, acceleration: 'none' };
  runEm({ p_L0: 0.5, p_T: 0.2, p_S: 0.2, p_G: 0.3, p_F: 0 }, slice, { ...settings, maxIterations: 2 }); // warm-up
  let best = 0;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    const r = runEm({ p_L0: 0.5, p_T: 0.2, p_S: 0.2, p_G: 0.3, p_F: 0 }, slice, settings);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    best = Math.max(best, (n * r.iterations) / seconds / 1e6);
  }
  line(`EM, one core, ${n / 1e6} M attempts (M attempt-iterations/s)`, best.toFixed(1), '>= 50 (pyBKT: 20 at 1 M, 6.4 at 5 M)');
}

// 2. The whole `bkt fit` of train.csv, 5 restarts, converged, start to finish (best of 3 process runs).
const times = [];
let fitSummary;
for (let rep = 0; rep < 3; rep++) {
  const t0 = process.hrtime.bigint();
  const out = execFileSync(process.execPath, ['bin/run.js', 'fit', '--input', 'fixtures/builder/train.csv.gz', '--json'], { cwd: root, maxBuffer: 1 << 28 });
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  fitSummary = JSON.parse(out.toString()).summary;
}
line('bkt fit train.csv (407,967 attempts), 5 restarts, wall s', Math.min(...times).toFixed(2), '< 1.5 (pyBKT 3.25)');
line('  of which EM and metrics (s)', fitSummary.seconds.toFixed(2), `${fitSummary.workers} worker(s)`);

// 3. Both cores, identical results.
{
  const { readAttempts } = await import(dist('data/read-attempts.js'));
  const { fitConcepts } = await import(dist('model/fit-concepts.js'));
  const { table } = await readAttempts({ input: `${root}fixtures/builder/train.csv.gz` });
  const timed = async (workers) => {
    const t0 = process.hrtime.bigint();
    const report = await fitConcepts(table, { workers });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, json: JSON.stringify(report.concepts) };
  };
  const one = await timed(1);
  const two = await timed(2);
  line('fitConcepts train.csv, 1 worker (s)', one.seconds.toFixed(2), '');
  line('fitConcepts train.csv, 2 workers (s)', two.seconds.toFixed(2), `speed-up ${(one.seconds / two.seconds).toFixed(2)}x`);
  line('  results identical to one worker', one.json === two.json ? 'yes' : 'NO', 'yes');
}

// 4. Peak memory while fitting 10 M attempts (separate process, so its peak RSS is its own).
{
  const n = 10_000_000;
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child-memory', String(n)], { cwd: root, encoding: 'utf8' });
  if (child.status !== 0) {
    console.log(child.stderr);
  } else {
    const { baseline, peak, workers } = JSON.parse(child.stdout.trim().split('\n').pop());
    line('peak RSS fitting 10 M attempts, bytes/attempt (all)', (peak / n).toFixed(1), '< 40 (pyBKT ~178 at 5 M)');
    line('  above the idle process, bytes/attempt', ((peak - baseline) / n).toFixed(1), `${workers} worker(s)`);
  }
}
