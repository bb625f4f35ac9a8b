// Writes oclif.manifest.json from the compiled commands in dist/ (run by `npm run build`, after
// tsc). With it, `bkt <command>` loads only that command's module instead of all of them to list
// the commands: 20-25 ms less start-up for every command (bench/update-throughput.js). The file
// is generated, not committed (.gitignore): a committed one would go stale as commands change.
// bin/dev.js, which runs the TypeScript sources, ignores it.
import { writeFileSync } from 'node:fs';
import { Config } from '@oclif/core';

const root = new URL('..', import.meta.url).pathname;
const config = await Config.load({ root, ignoreManifest: true });
const manifest = config.rootPlugin.manifest;
writeFileSync(new URL('../oclif.manifest.json', import.meta.url), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
