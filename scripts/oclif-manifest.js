// Writes dist/oclif.manifest.json from the compiled commands (run by `npm run build`, after tsc).
// bin/run.js roots oclif at dist/, so with the manifest `bkt <command>` loads only that command's
// module instead of every command's to list them: 20-25 ms less start-up for every command
// (bench/update-throughput.js). Generated with the code it describes, never committed.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Config } from '@oclif/core';

const dist = new URL('../dist/', import.meta.url);
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './commands';
// oclif reads an existing manifest instead of the commands: remove it first.
rmSync(new URL('oclif.manifest.json', dist), { force: true });
const config = await Config.load({ root: dist.pathname, pjson });
const manifest = config.rootPlugin.manifest;
writeFileSync(new URL('oclif.manifest.json', dist), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`dist/oclif.manifest.json: ${Object.keys(manifest.commands).length} commands`);
