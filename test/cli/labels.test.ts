/** Names survive `bkt import`: the file's concept and learner ids show beside their UUIDs. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { toUuid } from '../../src/store/ids.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const dir = mkdtempSync(join(tmpdir(), 'bkt-labels-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('labels', () => {
  it('params list and mastery name concepts and learners as the imported file did', async () => {
    const db = join(dir, 'labels.sqlite');
    const csv = join(dir, 'named.csv');
    // Four learners x 5 answers of "Long division": enough to fit (10 attempts, 3 learners).
    const rows = ['user_id,skill_name,correct'];
    for (const learner of ['alice', 'bob', 'carol', 'dan']) for (let k = 0; k < 5; k++) rows.push(`${learner},Long division,${k % 3 === 0 ? 0 : 1}`);
    writeFileSync(csv, `${rows.join('\n')}\n`);
    expect((await bktIn(['db', 'migrate', '--db', db])).status).toBe(0);
    const imported = await bktIn(['import', '--db', db, '--input', csv, '--json']);
    expect(imported.status, imported.describe).toBe(0);
    expect(imported.json()).toMatchObject({ labels: 5 });
    const fit = await bktIn(['fit', '--db', db, '--activate', '--restarts', '1', '--json']);
    expect(fit.status, fit.describe).toBe(0);

    const list = await bktIn(['params', 'list', '--db', db, '--json']);
    expect(list.status, list.describe).toBe(0);
    const [row] = list.json().params;
    expect(row).toMatchObject({ concept_id: toUuid('Long division'), concept_label: 'Long division' });
    // The label sits right after the id it names.
    expect(Object.keys(row).slice(0, 3)).toEqual(['id', 'concept_id', 'concept_label']);

    const answered = await bktIn(['update', '--db', db, '--user', toUuid('alice'), '--concept', toUuid('Long division'), '--correct', 'true', '--json']);
    expect(answered.status, answered.describe).toBe(0);
    const mastery = await bktIn(['mastery', '--db', db, '--user', toUuid('alice'), '--json']);
    expect(mastery.status, mastery.describe).toBe(0);
    expect(mastery.json().states[0]).toMatchObject({ user_id: toUuid('alice'), user_label: 'alice', concept_label: 'Long division' });
    const summary = await bktIn(['mastery', '--db', db, '--json']);
    expect(summary.json().concepts[0]).toMatchObject({ concept_id: toUuid('Long division'), concept_label: 'Long division' });
  });
});
