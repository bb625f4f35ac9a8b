/**
 * POST /update through the service's group commit, on each backend: twelve states updated at once
 * (each state's requests one after another, so its order is known; the states' requests share
 * transactions) answer exactly what a serial replay with applyAttempt answers, stale and duplicate
 * outcomes included, and the requests of a missing user fail alone (404).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyAttempt, type UpdateResult } from '../../src/mastery/update-service.js';
import { ADMIN_SCOPE } from '../../src/mastery/scope.js';
import type { Service } from '../../src/service/server.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { TestDb } from '../mastery/backends.js';
import { ADMIN, BACKENDS, OTHER_STUDENT, PREFIX, REVIEWER, STUDENT, call, seededDb, startTestService, token } from './support.js';

const CONCEPTS = ['cccccccc-0000-4000-8000-0000000000a1', 'cccccccc-0000-4000-8000-0000000000a2', 'cccccccc-0000-4000-8000-0000000000a3'];
const QUESTION = 'aaaaaaaa-0000-4000-8000-0000000000a1';
const GHOST = '99999999-0000-4000-8000-000000000001';
const T0 = Date.parse('2026-02-01T08:00:00.000Z');
const PER_STATE = 8;

interface Body {
  user_id: string;
  concept_id: string;
  question_id: string;
  correct: boolean;
  answered_at: string;
  attempt_key: string;
}

/** A state's requests: times going forward, one going back an hour (stale), one key sent again (duplicate). */
function chain(userId: string, conceptId: string, s: number): Body[] {
  const out: Body[] = [];
  for (let j = 0; j < PER_STATE; j++) {
    const k = j === 5 ? 2 : j;
    out.push({
      user_id: userId,
      concept_id: conceptId,
      question_id: QUESTION,
      correct: (s + k) % 3 !== 0,
      answered_at: new Date(T0 + k * 60_000 - (j === 6 ? 3_600_000 : 0)).toISOString(),
      attempt_key: `s${s}-${k}-${j === 6 ? 'late' : ''}`,
    });
  }
  return out;
}

const comparable = (r: UpdateResult) => ({ ...r, params_used: { ...r.params_used, algo_version_id: null } });

describe.each(BACKENDS)('group commit through POST /update on $name', ({ create }) => {
  const dbs: TestDb[] = [];
  let service: Service;
  let reference: Store;
  beforeAll(async () => {
    const served = await seededDb(create);
    const replayed = await seededDb(create);
    dbs.push(served, replayed);
    service = await startTestService(served.db);
    reference = await openStore(replayed.db);
  });
  afterAll(async () => {
    await service?.close();
    await reference?.close();
    for (const d of dbs) await d.drop();
  });

  it('answers twelve states updated at once as a serial replay; a missing user fails alone', async () => {
    // Arrange
    const users = [STUDENT, OTHER_STUDENT, ADMIN, REVIEWER];
    const chains = users.flatMap((u, i) => CONCEPTS.map((c, j) => chain(u, c, i * 3 + j)));
    chains.push(chain(GHOST, CONCEPTS[0], 99).slice(0, 3));
    const bearer = await token(ADMIN, { role: 'ADMIN' });
    const post = (body: Body) => call<UpdateResult & { mode: string }>(service.url, 'POST', `${PREFIX}/update`, { token: bearer, body });

    // Act: the chains run at once; within a chain each request waits for the one before.
    const replies = await Promise.all(
      chains.map(async (bodies) => {
        const out = [];
        for (const body of bodies) out.push(await post(body));
        return out;
      }),
    );
    const want: UpdateResult[][] = [];
    for (const bodies of chains.slice(0, -1)) {
      const results: UpdateResult[] = [];
      for (const b of bodies) {
        results.push(await applyAttempt(reference, ADMIN_SCOPE, { userId: b.user_id, conceptId: b.concept_id, questionId: b.question_id, correct: b.correct, answeredAt: b.answered_at, attemptKey: b.attempt_key }));
      }
      want.push(results);
    }

    // Assert
    const ghost = replies[replies.length - 1];
    expect(ghost.map((r) => r.status)).toEqual([404, 404, 404]);
    const served = replies.slice(0, -1);
    expect(served.flat().every((r) => r.status === 200)).toBe(true);
    expect(served.map((rs) => rs.map((r) => comparable(r.body)))).toEqual(want.map((rs) => rs.map((r) => ({ mode: 'attempt', ...comparable(r) }))));
    expect(new Set(served.flat().map((r) => r.body.outcome))).toEqual(new Set(['applied', 'stale', 'duplicate']));
    const store = await openStore(dbs[0].db);
    try {
      const trim = (rows: Awaited<ReturnType<Store['listStates']>>) => rows.map((s) => [s.user_id, s.concept_id, s.p_mastery, s.n_attempts, s.last_attempt_at]);
      expect(trim(await store.listStates())).toEqual(trim(await reference.listStates()));
    } finally {
      await store.close();
    }
  });
});
