// `npm run bench`: every benchmark script in bench/, one after the other, each printing its figures
// beside their targets. A script may skip itself (e.g. no PostgreSQL) with a notice.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const scripts = readdirSync(dir)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const script of scripts) {
  console.log(`\n=== bench/${script} ===`);
  const result = spawnSync(process.execPath, [`${dir}${script}`], { stdio: 'inherit', cwd: fileURLToPath(new URL('..', import.meta.url)) });
  if (result.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
