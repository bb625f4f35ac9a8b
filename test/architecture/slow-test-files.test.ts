import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SLOW_TEST_FILES } from '../support/slow-first-sequencer.js';

describe('the slow-first sequencer list', () => {
  it('names test files that exist (a renamed file would silently fall back to vitest order)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    expect(SLOW_TEST_FILES.filter((file) => !existsSync(root + file))).toEqual([]);
    expect(new Set(SLOW_TEST_FILES).size).toBe(SLOW_TEST_FILES.length);
  });
});
