// Reader benchmark: readAttempts on 10 M-row CSV files (generated once into /tmp and cached),
// each read in a fresh child process so its peak RSS is its own. Prints each figure beside its
// target (issue 2): CSV reading >= 2 M rows/s; < 40 bytes per attempt.
//   node bench/read-csv.js            all cases (run `npm run build` first: imports dist/)
//   BENCH_ROWS=1000000 node bench/read-csv.js   smaller files
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const DIR = '/tmp/bkt-bench/v2';
const LEARNERS = 50_000;
const CONCEPTS = 200;
const TARGET_ROWS_PER_S = 2e6;
const TARGET_BYTES_PER_ROW = 40;

/** Seeded generator (mulberry32) so the cached files are the same on every machine. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Write `rows` attempts: learners interleaved as in a real export, answered_at rising (ISO-8601,
 * one second apart) when `withTime`, else pyBKT's three builder columns in file order.
 */
function generate(path, rows, withTime) {
  if (existsSync(path)) return;
  mkdirSync(DIR, { recursive: true });
  const tmp = `${path}.part`;
  const fd = openSync(tmp, 'w');
  const random = rng(42);
  const base = Date.UTC(2024, 0, 1);
  writeSync(fd, withTime ? 'user_id,concept_id,correct,answered_at\n' : 'user_id,skill_name,correct\n');
  const BATCH = 100_000;
  for (let start = 0; start < rows; start += BATCH) {
    let text = '';
    for (let i = start; i < Math.min(rows, start + BATCH); i++) {
      // Each learner works on 5 of the concepts: about 40 attempts per sequence at 10 M rows.
      const learner = Math.floor(random() * LEARNERS);
      const concept = (learner * 7 + Math.floor(random() * 5)) % CONCEPTS;
      const correct = random() < 0.68 ? 1 : 0;
      text += withTime
        ? `u${learner},c${concept},${correct},${new Date(base + i * 1000).toISOString()}\n`
        : `${learner},${concept},${correct}\n`;
    }
    writeSync(fd, text);
  }
  closeSync(fd);
  renameSync(tmp, path);
}

async function child(path, csvParser) {
  const { readAttempts } = await import('../dist/src/data/read-attempts.js');
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { table, summary } = await readAttempts({ input: path, csvParser });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const tableBytes = [table.concept, table.learner, table.correct, table.time, table.question, table.sequenceStart, table.conceptSequenceStart]
    .filter(Boolean)
    .reduce((sum, a) => sum + a.byteLength, 0);
  process.stdout.write(
    JSON.stringify({
      rows: table.length,
      seconds,
      cpuSeconds,
      peakRss: process.resourceUsage().maxRSS * 1024,
      tableBytes,
      parser: summary.parser,
      learners: table.learnerIds.length,
      concepts: table.conceptIds.length,
      sequences: summary.n_sequences,
    }),
  );
}

function verdict(ok) {
  return ok ? 'ok' : 'MISSED';
}

function run(label, path, csvParser, withTargets) {
  const script = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [script, '--child', path, csvParser], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) {
    console.log(`${label}: failed\n${r.stderr}`);
    return false;
  }
  const m = JSON.parse(r.stdout);
  const rate = m.rows / m.seconds;
  const rssPerRow = m.peakRss / m.rows;
  const tablePerRow = m.tableBytes / m.rows;
  const mb = (b) => `${(b / 1048576).toFixed(0)} MB`;
  console.log(`${label} (${path}, ${(statSync(path).size / 1048576).toFixed(0)} MB, parser ${m.parser})`);
  console.log(
    `  rows                 ${m.rows.toLocaleString('en-US')} (${m.learners} learners, ${m.concepts} concepts, ${m.sequences} sequences) in ${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU`,
  );
  const t = (target) => (withTargets ? target : '(no target: comparison only)');
  console.log(`  rows/s               ${(rate / 1e6).toFixed(2)} M   target >= ${TARGET_ROWS_PER_S / 1e6} M   ${withTargets ? verdict(rate >= TARGET_ROWS_PER_S) : t()}`);
  // The machine is shared: rows per CPU-second shows the reader's own cost when the wall clock is inflated by load.
  console.log(`  rows/CPU-s           ${(m.rows / m.cpuSeconds / 1e6).toFixed(2)} M   (load average ${loadavg()[0].toFixed(1)})`);
  console.log(
    `  peak RSS / row       ${rssPerRow.toFixed(1)} B (${mb(m.peakRss)})   target < ${TARGET_BYTES_PER_ROW} B   ${withTargets ? verdict(rssPerRow < TARGET_BYTES_PER_ROW) : t()}`,
  );
  console.log(`  table / row          ${tablePerRow.toFixed(1)} B (${mb(m.tableBytes)})   target < ${TARGET_BYTES_PER_ROW} B   ${verdict(tablePerRow < TARGET_BYTES_PER_ROW)}`);
  return true;
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4]);
} else {
  const timed = `${DIR}/attempts-${ROWS}-time.csv`;
  const builder = `${DIR}/attempts-${ROWS}-builder.csv`;
  const t0 = performance.now();
  generate(timed, ROWS, true);
  generate(builder, ROWS, false);
  const generated = (performance.now() - t0) / 1000;
  if (generated > 1) console.log(`generated the bench files in ${generated.toFixed(1)} s (cached in ${DIR})`);
  if (process.argv[2] === '--generate') process.exit(0);
  let ok = true;
  ok = run('CSV with ISO answered_at, fast path', timed, 'auto', true) && ok;
  ok = run('CSV pyBKT builder columns, fast path', builder, 'auto', true) && ok;
  ok = run('CSV pyBKT builder columns, csv-parse only', builder, 'csv-parse', false) && ok;
  // A missed target is printed, not an exit status; a crash is.
  process.exit(ok ? 0 : 1);
}
