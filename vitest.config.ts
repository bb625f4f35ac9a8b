import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './test/support/slow-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Migrated and sample databases made once per run and copied per test (test/support/templates.ts).
    globalSetup: ['test/global-setup.ts'],
    // oclif writes through console.log; without this @oclif/test captures nothing.
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most test time is spent waiting on child bkt processes, PostgreSQL and Chromium, not in the
    // test process: three files at once keep both cores busy (vitest's default on 2 cores is one).
    // Measured on 2 cores: the whole suite in 5.4 min with 3 (725 tests), 11 min serially (368 tests).
    maxWorkers: 3,
    // The slow files start first so that short ones, not a 70 s file, end the run (see the sequencer).
    sequence: { sequencer: SlowFirstSequencer },
  },
});
