/**
 * What a person sees of a database: params list's inactive rows, ids as in the imported file, and
 * empty results that say why (output.test.ts has the file commands' tables).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-cli-output-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS_100 = { env: { COLUMNS: '100' } };
const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

describe('a database: ids as in the imported file, inactive rows, empty results that say why', () => {
  const db = join(dir, 'bkt.sqlite');

  it('says why each list is empty, counts inactive parameter sets, and accepts the file ids', async () => {
    for (const args of [['db', 'migrate'], ['import', '--input', 'fixtures/sample.csv']]) expect((await bktIn([...args, '--db', db])).status).toBe(0);
    const none = await bktIn(['params', 'list', '--db', db]);
    expect(none.stdout.trim()).toBe(`no parameter sets in ${db}. Fit some with "bkt fit --db ... --activate" or "bkt recompute --activate"`);
    const fit = await bktIn(['fit', '--db', db, '--concept-id', '7', '--concept-id', '0'], COLUMNS_100);
    expect(fit.status, fit.describe).toBe(0);
    expect(fit.stdout.replace(/\n/g, ' ')).toMatch(/2 parameter set\(s\) written to .*, none activated \(see them with "bkt params list --all"/);
    // Without --activate the rows are inactive: the list says so instead of "no parameter rows".
    const inactive = await bktIn(['params', 'list', '--db', db], COLUMNS_100);
    expect(inactive.status, inactive.describe).toBe(0);
    expect(inactive.stdout.trim().replace(/\n/g, ' ')).toBe(
      `no active parameter sets in ${db} 2 inactive parameter set(s) not shown; "bkt params list --all" lists them; "bkt params activate ID" makes one active`,
    );
    const all = await bktIn(['params', 'list', '--db', db, '--all', '--concept', '7'], COLUMNS_100);
    // At 100 columns the whole ids and the fit time fit; the parameters are named as hidden.
    expect(all.stdout.split('\n')[0]).toMatch(/^id\s+concept_id\s+active\s+fitted_at$/);
    expect(all.stdout).toMatch(/^[0-9a-f-]{36}\s+00000000-0000-0000-0000-000000000007\s+\d{4}-\d\d-\d\d \d\d:\d\d$/m);
    expect(all.stdout.trim().split('\n')).toHaveLength(4);
    expect(all.stdout).toContain('(p_L0, p_T, p_S, p_G, auc hidden to fit 100 columns; --csv or --json show them)');
    expect(widest(all.stdout)).toBeLessThanOrEqual(100);
    const listed = (await bktIn(['params', 'list', '--db', db, '--all', '--concept-id', '7', '--json'])).json();
    expect(listed).toMatchObject({ all: true, inactive: 1, concept_ids: ['00000000-0000-0000-0000-000000000007'] });

    const mastery = await bktIn(['mastery', '--db', db]);
    expect(mastery.stdout.trim()).toBe('no mastery states yet: states are written when attempts are applied ("bkt update")');
    const snapshot = await bktIn(['snapshot', '--db', db]);
    expect(snapshot.stdout.trim()).toBe('wrote 0 snapshot rows: there are no mastery states yet ("bkt update" writes them)');
    // Learner 1 and concept 7 as the file names them: stored as the UUIDs bkt import made.
    const update = await bktIn(['update', '--db', db, '--user', '1', '--concept-id', '7', '--correct', 'true', '--json']);
    expect(update.status, update.describe).toBe(0);
    expect(update.json()).toMatchObject({ user_id: '00000000-0000-0000-0000-000000000001', concept_id: '00000000-0000-0000-0000-000000000007' });
    const states = await bktIn(['mastery', '--db', db, '--user', '1'], COLUMNS_100);
    expect(states.stdout.split('\n')[0]).toBe('user 00000000-0000-0000-0000-000000000001');
    expect(states.stdout.split('\n')[1]).toMatch(/^concept_id\s+p_mastery\s+n_attempts/);
    expect(states.stdout).toMatch(/^00000000-0000-0000-0000-000000000007\s+0\.466667\s+1\s/m);
    expect(widest(states.stdout)).toBeLessThanOrEqual(100);
    const filtered = await bktIn(['mastery', '--db', db, '--user', '1', '--below', '0.0001']);
    expect(filtered.stdout.trim()).toBe('no mastery states for user 00000000-0000-0000-0000-000000000001 match --concept-id, --mastered or --below');
  });
});
