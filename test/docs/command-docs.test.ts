import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('command reference', () => {
  it('matches the commands\' own metadata (run "npm run docs" after changing a flag)', () => {
    const r = spawnSync(process.execPath, ['scripts/command-docs.js', '--check'], { encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
