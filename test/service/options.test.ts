/**
 * `bkt serve` options: defaults, the messages of bad values (naming the flag, never a secret),
 * the secret's sources; the reads concurrent requests share; and the command's start-up failures
 * as one stderr line with exit 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { CoalescedLookup } from '../../src/service/coalesced-lookup.js';
import { readJwtSecret } from '../../src/cli/jwt-secret.js';
import { optionPathsToFlags } from '../../src/cli/option-flags.js';
import { MAX_TIMER_MS, MAX_TIMER_SECONDS, parseServeOptions } from '../../src/service/options.js';
import { createSqliteDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { SECRET } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-serve-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseServeOptions', () => {
  it('fills the defaults: loopback, port 8080, the app prefix, HS256, info', () => {
    expect(parseServeOptions({ jwtSecret: SECRET })).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      prefix: '/api/v1/learning/bkt',
      jwtAlgorithm: 'HS256',
      logLevel: 'info',
      bodyLimit: 65536,
      poolSize: 10,
      recomputeWaitMs: 20000,
    });
    expect(parseServeOptions({ jwtSecret: SECRET, prefix: '/' }).prefix).toBe('');
  });

  it('names the option of a bad value (the CLI shows its flag) and never quotes a secret', () => {
    const message = (input: Parameters<typeof parseServeOptions>[0]) => {
      try {
        parseServeOptions(input);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as UsageError).message;
      }
      throw new Error('no error');
    };
    expect(message({})).toBe('`jwtSecret` is required');
    expect(optionPathsToFlags(message({}))).toBe('the JWT secret (BKT_JWT_SECRET or --jwt-secret-file) is required');
    expect(optionPathsToFlags(message({ jwtSecret: 'short-secret' }))).toBe('the JWT secret (BKT_JWT_SECRET or --jwt-secret-file) must be at least 32 bytes');
    expect(message({ jwtSecret: SECRET, serviceToken: 'tiny-token' })).not.toContain('tiny-token');
    expect(optionPathsToFlags(message({ jwtSecret: SECRET, serviceToken: 'tiny-token' }))).toMatch(/^BKT_SERVICE_TOKEN must be/);
    expect(message({ jwtSecret: SECRET, prefix: 'api' })).toMatch(/^`prefix` "api" must be \/ or start with \//);
    expect(message({ jwtSecret: SECRET, port: 70000 })).toMatch(/^`port` "70000" /);
    expect(optionPathsToFlags(message({ jwtSecret: SECRET, recomputeWaitMs: -1 }))).toMatch(/^--recompute-wait "-1" /);
    // A timer longer than 2^31 - 1 ms would fire at once: refused, not turned into no wait.
    expect(message({ jwtSecret: SECRET, shutdownTimeoutMs: MAX_TIMER_MS + 1 })).toMatch(/^`shutdownTimeoutMs` "2147483648" /);
    expect(parseServeOptions({ jwtSecret: SECRET, recomputeWaitMs: MAX_TIMER_MS }).recomputeWaitMs).toBe(MAX_TIMER_MS);
  });
});

describe('readJwtSecret', () => {
  it('reads the file without its trailing newline, else BKT_JWT_SECRET, else nothing', () => {
    const file = join(dir, 'secret');
    writeFileSync(file, `${SECRET}\n`);
    expect(readJwtSecret(file, { BKT_JWT_SECRET: 'from-env' })).toBe(SECRET);
    expect(readJwtSecret(undefined, { BKT_JWT_SECRET: 'from-env' })).toBe('from-env');
    expect(readJwtSecret(undefined, {})).toBeUndefined();
    expect(() => readJwtSecret(join(dir, 'missing'), {})).toThrow(/--jwt-secret-file .*missing: ENOENT/);
  });
});

describe('CoalescedLookup', () => {
  it('serves the keys asked in one turn with one read, never joins a read already in flight, and fails only the read that failed', async () => {
    // Arrange: a read that takes a while, records its keys, and fails for the key "bad".
    const reads: string[][] = [];
    const lookup = new CoalescedLookup<string, number>(async (keys) => {
      reads.push([...keys].sort());
      await new Promise((r) => setTimeout(r, 20));
      if (keys.includes('bad')) throw new Error('read failed');
      return new Map(keys.filter((k) => k !== 'none').map((k) => [k, k.length]));
    });

    // Act
    const first = [lookup.get('a'), lookup.get('bb'), lookup.get('a'), lookup.get('none')];
    await new Promise((r) => setImmediate(r)); // the first read is now in flight
    const second = [lookup.get('a'), lookup.get('ccc')];
    const firstValues = await Promise.all(first); // the second read starts as the first ends
    const third = lookup.get('bad');
    const [secondValues, thirdSettled] = await Promise.all([Promise.all(second), Promise.allSettled([third])]);
    const fourth = await lookup.get('dddd');

    // Assert
    expect([firstValues, secondValues]).toEqual([
      [1, 2, 1, undefined],
      [1, 3],
    ]);
    expect(reads).toEqual([['a', 'bb', 'none'], ['a', 'ccc'], ['bad'], ['dddd']]);
    expect(thirdSettled[0].status).toBe('rejected');
    expect(fourth).toBe(4);
  });
});

describe('bkt serve start-up errors', () => {
  it('exits 2 with one line naming the secret, the port in use, or a duration past a timer\'s reach in seconds', async () => {
    const testDb = await createSqliteDb();
    try {
      const noSecret = bkt(['serve', '--db', testDb.db], { env: { BKT_JWT_SECRET: '' } });
      expect(noSecret.status, noSecret.describe).toBe(2);
      expect(noSecret.stderr.trim()).toBe('Error: the JWT secret (BKT_JWT_SECRET or --jwt-secret-file) is required. See bkt serve --help');
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      const busy = bkt(['serve', '--db', testDb.db, '--port', String(port)], { env: { BKT_JWT_SECRET: SECRET } });
      await new Promise((resolve) => blocker.close(resolve));
      expect(busy.status, busy.describe).toBe(2);
      expect(busy.stderr.trim().split('\n')).toHaveLength(1);
      expect(busy.stderr).toMatch(new RegExp(`--port ${port}: the address 127\\.0\\.0\\.1:${port} is in use`));
      expect(busy.stderr + busy.stdout).not.toContain(SECRET);
      const noDb = bkt(['serve', '--db', join(dir, 'none.sqlite')], { env: { BKT_JWT_SECRET: SECRET } });
      expect(noDb.status, noDb.describe).toBe(5);
      // The durations are seconds on the command line: a bad one is named in seconds, as given.
      for (const flag of ['--recompute-wait', '--shutdown-timeout']) {
        const tooLong = bkt(['serve', '--db', testDb.db, flag, String(MAX_TIMER_SECONDS + 1)], { env: { BKT_JWT_SECRET: SECRET } });
        expect(tooLong.status, tooLong.describe).toBe(2);
        expect(tooLong.stderr.trim().split('\n')).toHaveLength(1);
        expect(tooLong.stderr).toContain(`${flag}; Expected an integer less than or equal to ${MAX_TIMER_SECONDS} but received: ${MAX_TIMER_SECONDS + 1}`);
        expect(tooLong.stderr).not.toContain(`${(MAX_TIMER_SECONDS + 1) * 1000}`);
      }
    } finally {
      await testDb.drop();
    }
  });
});
