#!/usr/bin/env node
import { execute, settings } from '@oclif/core';
import { readFileSync } from 'node:fs';

// A closed stdout (bkt ... | head) is not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

// oclif's root is dist/, where npm run build compiles the commands and writes their manifest
// (scripts/oclif-manifest.js): a command then loads only its own module. bin/dev.js, rooted at
// the package, has no manifest and reads the TypeScript commands.
// The commands are compiled JavaScript: oclif would otherwise, whenever NODE_ENV is development
// or test (a developer's shell, any test runner), look for their TypeScript sources, reading
// tsconfig.json through the TypeScript compiler and registering tsx, 0.5 s of CPU per command.
settings.enableAutoTranspile = false;
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './commands';
// Under DEBUG=* oclif logs argv, which may hold a --db URL with its password: its logger redacts.
const { redactingLogger } = await import('../dist/src/cli/redacting-logger.js');
await execute({ dir: import.meta.url, loadOptions: { root: new URL('../dist', import.meta.url).pathname, pjson, logger: redactingLogger() } });
