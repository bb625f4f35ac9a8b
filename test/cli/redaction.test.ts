/**
 * No password in any output, log or row: the one redactor on every URL shape, and the CLI end to
 * end under DEBUG=* (oclif logs argv before any command code runs).
 */
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { redactConnectionString } from '../../src/errors.js';
import { postgresAvailable, postgresBackend, type EmptyDb } from '../store/backends.js';
import { bkt } from '../support/run-bkt.js';

if (process.env.FC_SEED) fc.configureGlobal({ seed: Number(process.env.FC_SEED) });

describe('redactConnectionString', () => {
  it.each([
    ['postgres://u:pa:ss@S3cr@127.0.0.1/db', 'postgres://u:***@127.0.0.1/db'],
    ['postgres://u:S3cr@127.0.0.1:5432/db?sslmode=disable', 'postgres://u:***@127.0.0.1:5432/db?sslmode=disable'],
    ['postgres://u:pa/S3cr@127.0.0.1/db', 'postgres://u:***@127.0.0.1/db'],
    ['postgresql://127.0.0.1/db?user=u&password=S3cr', 'postgresql://127.0.0.1/db?user=u&password=***'],
    ["host=127.0.0.1 password='S3 cr' user=u", 'host=127.0.0.1 password=*** user=u'],
    ['at postgres://u@127.0.0.1/db and postgres://127.0.0.1/db', 'at postgres://u@127.0.0.1/db and postgres://127.0.0.1/db'],
    ['"postgres://u:S3cr@h/db" failed', '"postgres://u:***@h/db" failed'],
  ])('%s', (text, expected) => {
    expect(redactConnectionString(text)).toBe(expected);
  });

  it('property: whatever the password holds, it never survives in a URL, a message around it, or a password= parameter', () => {
    const char = fc.constantFrom(...'abcXYZ019@:/?#%!$&*()+,;=[]~.-_'.split(''));
    const password = fc.array(char, { minLength: 1, maxLength: 16 }).map((cs) => `Pw${cs.join('')}`);
    fc.assert(
      fc.property(password, fc.constantFrom('postgres', 'postgresql'), fc.constantFrom('', ':5432'), (pw, scheme, port) => {
        const url = `${scheme}://bkt:${pw}@db.example${port}/bkt`;
        for (const text of [url, `cannot connect to ${url}: refused`, `(${url})`, `${scheme}://db.example/bkt?password=${pw}`]) {
          expect(redactConnectionString(text)).not.toContain(pw);
        }
      }),
      { numRuns: 500 },
    );
  });
});

const pgOk = await postgresAvailable();
const created: EmptyDb[] = [];
afterAll(async () => {
  for (const d of created) await d.drop();
});

describe.skipIf(!pgOk)('the CLI on PostgreSQL with a password holding @ and :', () => {
  it('prints it nowhere (stdout, stderr, DEBUG=* logs) and stores it in no row', async () => {
    const empty = await postgresBackend.create();
    created.push(empty);
    // The test server trusts every login, so any password connects.
    const secret = 'pa:ss@S3cr';
    const url = empty.db.replace('postgres://postgres@', `postgres://postgres:${secret}@`);
    const env = { DEBUG: '*' };
    const runs = [
      bkt(['db', 'migrate', '--db', url], { env }),
      bkt(['import', '--input', 'fixtures/sample.csv', '--db', url], { env }),
      bkt(['fit', '--input', 'fixtures/sample.csv', '--db', url, '--json'], { env }),
      bkt(['params', 'list', '--db', url], { env }),
      bkt(['db', 'check', '--db', url.replace(/\/[^/]*$/, '/bkt_no_such_db')], { env }),
    ];
    expect(runs.slice(0, 4).map((r) => r.status)).toEqual([0, 0, 0, 0]);
    expect(runs[4].status).toBe(5);
    // DEBUG=* really logged the argv (else the check below proves nothing).
    expect(runs[0].stderr).toMatch(/process\.argv/);
    for (const r of runs) {
      for (const text of [r.stdout, r.stderr]) {
        expect(text, r.describe.slice(0, 300)).not.toMatch(/S3cr|pa:ss/);
      }
    }
    const client = new pg.Client({ connectionString: empty.db });
    await client.connect();
    try {
      for (const table of ['algo_runs', 'bkt_skill_params', 'algo_params', 'algo_versions', 'users', 'test_sessions']) {
        const rows = await client.query(`SELECT * FROM ${table}`);
        expect(JSON.stringify(rows.rows), table).not.toMatch(/S3cr|pa:ss/);
      }
    } finally {
      await client.end();
    }
  });
});
