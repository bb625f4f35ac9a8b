// Predict benchmark: `runPredict` on the builder training split (407,967 rows) with parameters
// fitted on it, one fresh child process per output format so each peak RSS is its own; the fit's
// own peak RSS on the same file is printed beside them (predict should stay near it).
//   node bench/predict.js     (run `npm run build` first: imports dist/)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const INPUT = 'fixtures/builder/train.csv.gz';
const DIR = '/tmp/bkt-bench/predict';
const PARAMS = `${DIR}/params.json`;

async function child(kind, format) {
  const started = performance.now();
  if (kind === 'fit') {
    const { fitAttempts } = await import('../dist/src/fit/fit-attempts.js');
    await fitAttempts({ source: { kind: 'file', read: { input: INPUT } }, trainer: { workers: 1 }, out: PARAMS });
  } else {
    const { runPredict } = await import('../dist/src/predict/run-predict.js');
    await runPredict({ read: { input: INPUT }, params: PARAMS, out: `${DIR}/out.${format}`, format });
  }
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(JSON.stringify({ seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 }));
}

if (process.argv[2] === 'child') {
  await child(process.argv[3], process.argv[4]);
} else {
  mkdirSync(DIR, { recursive: true });
  const run = (...args) => {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), 'child', ...args], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    if (r.status !== 0) throw new Error(`bench/predict ${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const fit = run('fit');
  if (!existsSync(PARAMS)) throw new Error('the fit wrote no parameters');
  console.log(`fit ${INPUT} (1 worker, for comparison): ${fit.seconds.toFixed(2)} s, peak RSS ${fit.maxRssMb.toFixed(0)} MB`);
  for (const format of ['csv', 'parquet', 'arrow', 'ndjson']) {
    const r = run('predict', format);
    console.log(`predict ${INPUT} -> ${format.padEnd(7)}: ${r.seconds.toFixed(2)} s (${(407_967 / r.seconds / 1e6).toFixed(2)} M rows/s), peak RSS ${r.maxRssMb.toFixed(0)} MB`);
  }
  rmSync(DIR, { recursive: true, force: true });
}
