import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { updateMastery } from '../../src/model/online-update.js';
import { seededRandom } from '../../src/model/random.js';
import { addUsers, createSqliteDb, type TestDb } from '../mastery/backends.js';
import { bkt } from '../support/run-bkt.js';
import { bktIn } from '../support/in-process.js';

const U1 = '11111111-1111-4111-8111-111111111111';
const U2 = '22222222-2222-4222-8222-222222222222';
const C1 = 'cccccccc-0000-4000-8000-000000000001';
const Q1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const Q2 = 'aaaaaaaa-0000-4000-8000-000000000002';
const Q_NEW = 'aaaaaaaa-0000-4000-8000-0000000000ff';

describe('a multigs fit in the database drives the online update per question', () => {
  let testDb: TestDb;
  let dir: string;
  let file: string;
  beforeAll(async () => {
    testDb = await createSqliteDb();
    const store = await openStore(testDb.db);
    await addUsers(store, U1, U2);
    await store.close();
    dir = mkdtempSync(join(tmpdir(), 'bkt-cli-update-variants-'));
    // Two questions of one concept: Q1 is hard to guess (0.05), Q2 easy (0.45).
    const random = seededRandom(11, 'update-variants');
    const lines = ['user_id,concept_id,question_id,correct'];
    for (let u = 0; u < 400; u++) {
      let known = random() < 0.3;
      for (let k = 0; k < 12; k++) {
        const q = random() < 0.5 ? Q1 : Q2;
        const correct = known ? random() >= 0.1 : random() < (q === Q1 ? 0.05 : 0.45);
        lines.push(`learner-${u},${C1},${q},${correct ? 1 : 0}`);
        if (!known) known = random() < 0.2;
      }
    }
    file = join(dir, 'attempts.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await testDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the class parameters under metrics.model, and each answer updates with its question\'s guess and slip', async () => {
    const fit = await bktIn(['fit', '--input', file, '--multigs', '--restarts', '2', '--db', testDb.db, '--activate', '--force', '--json']);
    expect(fit.status, fit.describe).toBe(0);
    const [concept] = fit.json().concepts;
    const store = await openStore(testDb.db);
    const [row] = await store.listParams({ conceptIds: [C1] });
    await store.close();
    // The base columns hold the concept-level values; the classes sit under metrics.model.
    expect(row.p_G).toBeCloseTo(concept.params.p_G, 12);
    const model = (row.metrics as { model: { variants: string[]; columns: Record<string, string>; gs: { id: string; p_G: number; p_S: number }[] } }).model;
    expect(model.variants).toEqual(['multigs']);
    expect(model.columns.multigs).toBe('question_id');
    const q1 = model.gs.find((e) => e.id === Q1)!;
    const q2 = model.gs.find((e) => e.id === Q2)!;
    expect(q1.p_G).toBeLessThan(0.15);
    expect(q2.p_G).toBeGreaterThan(0.3);

    const base = concept.params;
    const update = (question: string, at: string) => bktIn(['update', '--db', testDb.db, '--user', U1, '--concept', C1, '--question', question, '--correct', 'true', '--at', at, '--json']);
    const first = await update(Q1, '2026-01-21T12:00:00Z');
    expect(first.status, first.describe).toBe(0);
    const r1 = first.json();
    expect(r1.p_mastery_new).toBeCloseTo(updateMastery(base.p_L0, true, { ...base, p_G: q1.p_G, p_S: q1.p_S }), 12);
    const second = (await update(Q2, '2026-01-21T12:01:00Z')).json();
    expect(second.p_mastery_new).toBeCloseTo(updateMastery(r1.p_mastery_new, true, { ...base, p_G: q2.p_G, p_S: q2.p_S }), 12);
    // A question the fit never saw: the concept-level values.
    const third = (await update(Q_NEW, '2026-01-21T12:02:00Z')).json();
    expect(third.p_mastery_new).toBeCloseTo(updateMastery(second.p_mastery_new, true, base), 12);

    // The batch path (update --input) applies the same per-question parameters.
    const batch = join(dir, 'answers.csv');
    writeFileSync(batch, `user_id,concept_id,question_id,correct,answered_at\n${U2},${C1},${Q1},1,2026-01-21T12:00:00Z\n${U2},${C1},${Q2},1,2026-01-21T12:01:00Z\n${U2},${C1},${Q_NEW},1,2026-01-21T12:02:00Z\n`);
    const applied = await bktIn(['update', '--db', testDb.db, '--input', batch, '--json']);
    expect(applied.status, applied.describe).toBe(0);
    const after = await openStore(testDb.db);
    const state = await after.getState(U2, C1);
    await after.close();
    expect(state!.p_mastery).toBeCloseTo(third.p_mastery_new, 12);
  });
});
