#!/usr/bin/env -S node --import tsx
// Runs the TypeScript sources directly: points the loader at ./commands instead of ./dist/commands
// (rooted at the package, where there is no manifest: bin/run.js's is in dist/).
import { execute } from '@oclif/core';
import { readFileSync } from 'node:fs';

const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './commands';

const { redactingLogger } = await import('../src/cli/redacting-logger.ts');
await execute({
  development: true,
  dir: import.meta.url,
  loadOptions: { root: new URL('..', import.meta.url).pathname, pjson, logger: redactingLogger() },
});
