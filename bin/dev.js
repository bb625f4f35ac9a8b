#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly: points the loader at ./commands instead of ./dist/commands,
// and ignores oclif.manifest.json (generated from dist/ by npm run build).
import { execute } from '@oclif/core';
import { readFileSync } from 'node:fs';

const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './commands';

await execute({ development: true, dir: import.meta.url, loadOptions: { root: new URL('..', import.meta.url).pathname, pjson, ignoreManifest: true } });
