// Model-variant EM speed: `npm run bench variants` (or `node bench/variants.js` after `npm run build`).
// Prints each figure beside its target: a variant fit costs at most 2x the standard model per
// attempt-iteration. Figures, not assertions: nothing here fails a build.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (p) => new URL(`../dist/src/${p}`, import.meta.url).href;
const line = (name, value, target) => console.log(`${name.padEnd(58)} ${String(value).padStart(14)}   target ${target}`);

const { readAttempts } = await import(dist('data/read-attempts.js'));
const { runEm } = await import(dist('model/em-trainer.js'));
const { NO_BOUNDS } = await import(dist('model/params.js'));
const { DEFAULT_PRIOR } = await import(dist('model/fit-methods.js'));
const { resolveVariants, buildVariantLayout } = await import(dist('model/variants/variant-spec.js'));
const { problemOf } = await import(dist('model/variants/fit-variants.js'));
const { runVariantEm, thetaFromParams, thetaLayout, VariantWorkspace } = await import(dist('model/variants/variant-trainer.js'));

console.log(`bkt variant EM bench on ${availableParallelism()} cores, node ${process.version}`);
console.log('-'.repeat(100));

// Synthetic dataset A, family gs (158,176 attempts, 4 skills with 6-10 templates, 2,400 learners).
const input = 'fixtures/pybkt-variants/gs/train.csv.gz';
const { table, summary } = await readAttempts({ input, classColumns: [{ name: 'template_id', required: true }] });
const start = { p_L0: 0.4, p_T: 0.15, p_S: 0.1, p_G: 0.2, p_F: 0 };
const ITERATIONS = 20;
const settings = { maxIterations: ITERATIONS, tolerance: 0, bounds: NO_BOUNDS, forgets: false, fixed: {}, acceleration: 'none' };

/**
 * M attempt-iterations per second (one core, plain EM) of each fit function, best of 7 runs, the
 * runs of all functions interleaved so a busy machine slows them alike.
 */
function throughputs(fits) {
  for (const fit of fits) fit(); // warm-up
  const best = fits.map(() => 0);
  for (let rep = 0; rep < 7; rep++) {
    fits.forEach((fit, k) => {
      const t0 = process.hrtime.bigint();
      const work = fit();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      best[k] = Math.max(best[k], work / seconds / 1e6);
    });
  }
  return best;
}

// The standard kernel on the same rows, every sequence visited (no identical-sequence grouping).
const standardFit = () => {
  let work = 0;
  for (let c = 0; c < table.conceptIds.length; c++) {
    const slice = { correct: table.correct, sequenceStart: table.sequenceStart, firstSequence: table.conceptSequenceStart[c], lastSequence: table.conceptSequenceStart[c + 1] };
    const r = runEm(start, slice, settings);
    work += r.iterations * (table.sequenceStart[slice.lastSequence] - table.sequenceStart[slice.firstSequence]);
  }
  return work;
};

const configs = [
  ['multigs', { multigs: true }],
  ['multilearn', { multilearn: true }],
  ['multigs + multilearn', { multigs: true, multilearn: true }],
  ['multipair', { multipair: true }],
  ['multiprior user_id (2,400 classes)', { multiprior: 'user_id' }],
  // map's priors (split over the classes) add a log prior per E-step and pseudo-counts per M-step.
  ['multigs + multilearn, map priors', { multigs: true, multilearn: true }, DEFAULT_PRIOR],
  ['multiprior user_id, map priors', { multiprior: 'user_id' }, DEFAULT_PRIOR],
];
const variantFits = configs.map(([, spec, prior]) => {
  const layout = buildVariantLayout(table, resolveVariants(table, spec, summary.columns));
  const workspace = new VariantWorkspace();
  return () => {
    let work = 0;
    for (let c = 0; c < table.conceptIds.length; c++) {
      const problem = problemOf(table, layout, c);
      const shape = thetaLayout(problem.priorClasses, problem.learnClasses, problem.gsClasses);
      const r = runVariantEm(thetaFromParams(start, shape), problem, prior ? { ...settings, prior } : settings, workspace);
      work += r.iterations * (table.sequenceStart[problem.lastSequence] - table.sequenceStart[problem.firstSequence]);
    }
    return work;
  };
});
const [standard, ...rates] = throughputs([standardFit, ...variantFits]);
line('standard EM, one core (M attempt-iterations/s)', standard.toFixed(1), 'reference for the ratios below');
configs.forEach(([name], k) => {
  line(`${name}: cost per attempt-iteration vs standard`, `${(standard / rates[k]).toFixed(2)}x (${rates[k].toFixed(1)})`, '<= 2x');
});

// The whole `bkt fit --multigs` of the gs family, 5 restarts, converged, start to finish (best of 3).
const pybkt = { multigs: [1.07, 1.35], 'multigs --multilearn': [1.23, 0.97] };
for (const flags of [['--multigs'], ['--multigs', '--multilearn']]) {
  const times = [];
  let fit;
  for (let rep = 0; rep < 3; rep++) {
    const t0 = process.hrtime.bigint();
    const out = execFileSync(process.execPath, ['bin/run.js', 'fit', '--input', input, ...flags, '--no-bounds', '--json'], { cwd: root, maxBuffer: 1 << 28 });
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    fit = JSON.parse(out.toString()).summary;
  }
  const [released, patched] = pybkt[flags.join(' ').replace(/^--/, '')];
  line(`bkt fit ${flags.join(' ')} gs/train (158,176 attempts), wall s`, Math.min(...times).toFixed(2), `beside pyBKT ${released} (1.4.2), ${patched} (fixed E-step), idle VM`);
  line('  of which EM and metrics (s)', fit.seconds.toFixed(2), `${fit.workers} worker(s)`);
}
