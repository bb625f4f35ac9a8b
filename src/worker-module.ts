import { existsSync } from 'node:fs';

/**
 * The URL of a worker module beside the calling module (`here` = its import.meta.url). Running
 * from TypeScript sources (vitest, bin/dev.js), workers still load the compiled copy in dist/
 * (npm test builds first): Node 20 workers do not inherit the tsx loader, and the compiled code
 * computes the same results.
 */
export function workerModuleUrl(here: string, file: string): URL {
  if (!here.endsWith('.ts')) return new URL(file, here);
  // .../src/model/fit-pool.ts -> .../dist/src/model/<file>
  const compiled = new URL(new URL(file, here).href.replace(/\/src\/(?!.*\/src\/)/, '/dist/src/'));
  if (!existsSync(compiled)) {
    throw new Error(`worker threads need the compiled module at ${compiled.pathname}: run "npm run build" first`);
  }
  return compiled;
}
