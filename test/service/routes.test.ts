/**
 * `bkt serve` over real HTTP on each backend: every route, and every 401/403/404/409/413/422 path
 * (the 503 paths are in service-lifecycle.test.ts). The service runs in this process on an
 * ephemeral port, against a migrated database holding fixtures/sample.csv and users of each role.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAttempts } from '../../src/data/read-attempts.js';
import { updateMastery } from '../../src/model/online-update.js';
import type { Service } from '../../src/service/server.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import { addSession, randomUuid, type TestDb } from '../mastery/backends.js';
import { ADMIN, BACKENDS, OTHER_STUDENT, PREFIX, REVIEWER, SERVICE_TOKEN, STUDENT, call, seededDb, startTestService, token } from './support.js';

const CONCEPT = 'cccccccc-0000-4000-8000-000000000001';
const CONCEPT_2 = 'cccccccc-0000-4000-8000-000000000002';
const QUESTION = 'aaaaaaaa-0000-4000-8000-000000000001';

describe.each(BACKENDS)('bkt serve on $name', ({ create }) => {
  let testDb: TestDb;
  let service: Service;
  let store: Store;
  let base: string;
  let student: string;
  let admin: string;
  const update = (body: unknown, t = student) => call(base, 'POST', `${PREFIX}/update`, { token: t, body });

  beforeAll(async () => {
    testDb = await seededDb(create);
    store = await openStore(testDb.db);
    const { table } = await readAttempts({ input: 'fixtures/sample.csv' });
    await store.importAttempts(table);
    service = await startTestService(testDb.db);
    base = service.url;
    student = await token(STUDENT, { role: 'STUDENT' });
    admin = await token(ADMIN, { role: 'ADMIN' });
  });
  afterAll(async () => {
    await service?.close();
    await store?.close();
    await testDb?.drop();
  });

  describe('POST /update', () => {
    it('applies an answer to the caller\u2019s own state with the CLI\u2019s fields, then a repeated attempt_key changes nothing', async () => {
      const body = { question_id: QUESTION, concept_id: CONCEPT, correct: true, attempt_key: 'k-1', answered_at: '2026-01-21T12:00:00Z' };
      const first = await update(body);
      expect(first.status, first.text).toBe(200);
      // New state starts at L0 0.1 (built-in T 0.2, S 0.1, G 0.2): correct gives next 0.466667 (hand-worked in the app's notes).
      expect(first.body).toMatchObject({ mode: 'attempt', user_id: STUDENT, concept_id: CONCEPT, question_id: QUESTION, correct: true, outcome: 'applied', n_attempts: 1, p_mastery_prior: 0.1, attempt_key: 'k-1', snapshot_created: false });
      expect(first.body.p_mastery_new).toBeCloseTo(0.466667, 6);
      expect(first.body.bkt_metadata).toMatchObject({ observation: 'correct' });
      expect(first.body.params_used).toMatchObject({ is_default: true, concept_id: CONCEPT });
      const again = await update(body);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ outcome: 'duplicate', n_attempts: 1, bkt_metadata: null });
      expect((await store.getState(STUDENT, CONCEPT))?.n_attempts).toBe(1);
    });

    it('applies one attempt_key once when it arrives ten times at once', async () => {
      const concept = randomUuid();
      const body = { question_id: QUESTION, concept_id: concept, correct: true, attempt_key: `same-${concept}` };
      const replies = await Promise.all(Array.from({ length: 10 }, () => update(body, admin)));
      expect(replies.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(replies.filter((r) => r.body.outcome === 'applied')).toHaveLength(1);
      expect(replies.filter((r) => r.body.outcome === 'duplicate')).toHaveLength(9);
      expect((await store.getState(ADMIN, concept))?.n_attempts).toBe(1);
    });

    it('writes a snapshot when create_snapshot is true, and accepts meta (ignored)', async () => {
      const before = await store.countRows('mastery_snapshot');
      const r = await update({ question_id: QUESTION, concept_id: CONCEPT_2, correct: false, create_snapshot: true, meta: { source: 'test' } });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ snapshot_created: true, outcome: 'applied' });
      expect(r.body.p_mastery_new).toBeCloseTo(updateMastery(0.1, false, { p_L0: 0.1, p_T: 0.2, p_S: 0.1, p_G: 0.2, p_F: 0 }), 12);
      expect(await store.countRows('mastery_snapshot')).toBe(before + 1);
    });

    it('lets an admin and the service token update another user; a student or reviewer may not (403)', async () => {
      const byAdmin = await update({ user_id: OTHER_STUDENT, question_id: QUESTION, concept_id: CONCEPT, correct: true }, admin);
      expect(byAdmin.status, byAdmin.text).toBe(200);
      expect(byAdmin.body.user_id).toBe(OTHER_STUDENT);
      const byService = await update({ user_id: OTHER_STUDENT.toUpperCase(), question_id: QUESTION, concept_id: CONCEPT, correct: true }, SERVICE_TOKEN);
      expect(byService.status, byService.text).toBe(200);
      expect(byService.body).toMatchObject({ user_id: OTHER_STUDENT, n_attempts: 2 });
      const byStudent = await update({ user_id: OTHER_STUDENT, question_id: QUESTION, concept_id: CONCEPT, correct: true });
      expect(byStudent.status).toBe(403);
      expect(byStudent.body).toEqual({ error: { code: 'FORBIDDEN', message: 'Cannot update mastery for other users' } });
      const byReviewer = await update({ user_id: STUDENT, question_id: QUESTION, concept_id: CONCEPT, correct: true }, await token(REVIEWER, { role: 'REVIEWER' }));
      expect(byReviewer.status).toBe(403);
      expect((await store.getState(OTHER_STUDENT, CONCEPT))?.n_attempts).toBe(2);
    });

    it('answers 422 naming the field for a bad or missing field and for bad JSON; nothing is written', async () => {
      const count = await store.countRows('bkt_attempt_ledger');
      const cases: [unknown, RegExp][] = [
        [{ question_id: 'not-a-uuid', concept_id: CONCEPT, correct: true }, /^body\.question_id: /],
        [{ question_id: QUESTION, correct: true }, /^body\.concept_id: /],
        [{ question_id: QUESTION, concept_id: CONCEPT, correct: 'yes' }, /^body\.correct: /],
        [{ question_id: QUESTION, concept_id: CONCEPT, correct: true, answered_at: 'yesterday' }, /^body\.answered_at: is not an ISO-8601 time/],
        [{ question_id: QUESTION, concept_id: CONCEPT, correct: true, attempt_key: '' }, /^body\.attempt_key: /],
        ['{"question_id": ', /^body: is not valid JSON/],
        ['[1, 2]', /^body: /],
      ];
      for (const [body, message] of cases) {
        const r = await update(body);
        expect(r.status, `${JSON.stringify(body)} -> ${r.text}`).toBe(422);
        expect(r.body.error.code).toBe('VALIDATION_ERROR');
        expect(r.body.error.message).toMatch(message);
      }
      const noUser = await update({ question_id: QUESTION, concept_id: CONCEPT, correct: true }, SERVICE_TOKEN);
      expect(noUser.status).toBe(422);
      expect(noUser.body.error.message).toMatch(/^user_id: is required/);
      expect(await store.countRows('bkt_attempt_ledger')).toBe(count);
    });

    it('answers 404 when an admin names a user missing from users', async () => {
      const r = await update({ user_id: randomUuid(), question_id: QUESTION, concept_id: CONCEPT, correct: true }, admin);
      expect(r.status, r.text).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
    });

    it('answers 413 for a body over the limit, and 415 for a body that is not JSON', async () => {
      const big = await update({ question_id: QUESTION, concept_id: CONCEPT, correct: true, meta: { pad: 'x'.repeat(70_000) } });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      const text = await call(base, 'POST', `${PREFIX}/update`, { token: student, body: '<correct>true</correct>', headers: { 'content-type': 'application/xml' } });
      expect(text.status).toBe(415);
      expect(text.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('authentication (401) and roles (403)', () => {
    it('refuses missing, malformed, wrongly signed, expired, non-access, wrong-algorithm and unknown-user tokens with 401', async () => {
      const path = `${PREFIX}/mastery`;
      const cases: [string | undefined, RegExp][] = [
        [undefined, /^Not authenticated/],
        ['Basic dXNlcjpwYXNz', /^Malformed Authorization header/],
        ['Bearer not.a.jwt', /^Invalid token/],
        [`Bearer ${await token(STUDENT, { secret: 'another-secret-0123456789abcdef-0123456789' })}`, /^Invalid token signature/],
        [`Bearer ${await token(STUDENT, { expiresIn: -60 })}`, /^Token expired/],
        [`Bearer ${await token(STUDENT, { type: 'refresh' })}`, /^Invalid token type/],
        [`Bearer ${await token(STUDENT, { alg: 'HS512' })}`, /algorithm not allowed/],
        [`Bearer ${await token(STUDENT, { sub: null })}`, /claim "sub"/],
        [`Bearer ${await token(STUDENT, { role: 'GOD' })}`, /claim "role"/],
        [`Bearer ${await token(randomUuid())}`, /^User not found/],
        [`Bearer ${await token(STUDENT, { role: 'ADMIN' })}`, /^Token role mismatch$/],
        [`Bearer ${SERVICE_TOKEN}x`, /^Invalid token/],
      ];
      for (const [authorization, message] of cases) {
        const r = await call(base, 'GET', path, { authorization });
        expect(r.status, `${authorization} -> ${r.text}`).toBe(401);
        expect(r.body.error.code).toBe('UNAUTHORIZED');
        expect(r.body.error.message).toMatch(message);
        expect(r.headers.get('www-authenticate')).toBe('Bearer');
        // The token never comes back.
        if (authorization) expect(r.text).not.toContain(authorization.slice(7));
      }
    });

    it('refuses a student or reviewer on the admin routes with 403 "Admin access required"', async () => {
      for (const t of [student, await token(REVIEWER, { role: 'REVIEWER' })]) {
        const recompute = await call(base, 'POST', `${PREFIX}/recompute`, { token: t, body: { dry_run: true } });
        expect(recompute.status).toBe(403);
        expect(recompute.body).toEqual({ error: { code: 'FORBIDDEN', message: 'Admin access required' } });
        const run = await call(base, 'GET', `${PREFIX}/runs/${randomUuid()}`, { token: t });
        expect(run.status).toBe(403);
      }
    });
  });

  describe('GET /mastery', () => {
    it('returns the caller\u2019s states ordered by p_mastery descending, filtered by concept_id', async () => {
      const r = await call(base, 'GET', `${PREFIX}/mastery`, { token: student });
      expect(r.status, r.text).toBe(200);
      const ids = r.body.map((s: { concept_id: string }) => s.concept_id);
      expect(new Set(ids)).toEqual(new Set([CONCEPT, CONCEPT_2]));
      const masteries = r.body.map((s: { p_mastery: number }) => s.p_mastery);
      expect(masteries).toEqual([...masteries].sort((a, b) => b - a));
      expect(r.body[0]).toEqual({
        user_id: STUDENT,
        concept_id: CONCEPT,
        p_mastery: expect.any(Number),
        n_attempts: 1,
        last_attempt_at: '2026-01-21T12:00:00.000Z',
        last_seen_question_id: QUESTION,
        is_mastered: false,
        updated_at: expect.any(String),
      });
      const one = await call(base, 'GET', `${PREFIX}/mastery?concept_id=${CONCEPT_2}`, { token: student });
      expect(one.body.map((s: { concept_id: string }) => s.concept_id)).toEqual([CONCEPT_2]);
    });

    it('lets an admin read anyone; a student reading another user gets 403; a bad id 422', async () => {
      const byAdmin = await call(base, 'GET', `${PREFIX}/mastery?user_id=${OTHER_STUDENT}`, { token: admin });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body).toHaveLength(1);
      const byStudent = await call(base, 'GET', `${PREFIX}/mastery?user_id=${OTHER_STUDENT}`, { token: student });
      expect(byStudent.status).toBe(403);
      expect(byStudent.body).toEqual({ error: { code: 'FORBIDDEN', message: 'Cannot query mastery for other users' } });
      const own = await call(base, 'GET', `${PREFIX}/mastery?user_id=${STUDENT}`, { token: student });
      expect(own.status).toBe(200);
      const bad = await call(base, 'GET', `${PREFIX}/mastery?concept_id=12`, { token: student });
      expect(bad.status).toBe(422);
      expect(bad.body.error.message).toMatch(/^query\.concept_id: is not a UUID/);
      const service = await call(base, 'GET', `${PREFIX}/mastery`, { token: SERVICE_TOKEN });
      expect(service.status).toBe(422);
    });
  });

  describe('POST /sessions/{session_id}/submitted', () => {
    const SESSION = 'dddddddd-0000-4000-8000-000000000001';
    const ACTIVE = 'dddddddd-0000-4000-8000-000000000002';
    beforeAll(async () => {
      const q = (n: number) => `aaaaaaaa-0000-4000-8000-00000000010${n}`;
      await addSession(store, {
        id: SESSION,
        userId: STUDENT,
        questions: [
          { answerId: randomUuid(), questionId: q(1), position: 1, snapshot: { concept_id: CONCEPT }, correct: true, answeredAt: '2026-01-22T10:00:00.000Z' },
          { answerId: randomUuid(), questionId: q(2), position: 2, snapshot: { concept_ids: [CONCEPT, CONCEPT_2] }, correct: false, answeredAt: '2026-01-22T10:01:00.000Z' },
          { answerId: randomUuid(), questionId: q(3), position: 3, snapshot: { concept_id: CONCEPT }, correct: null, answeredAt: null },
          { answerId: randomUuid(), questionId: q(4), position: 4, snapshot: {}, correct: true, answeredAt: '2026-01-22T10:02:00.000Z' },
        ],
      });
      await addSession(store, { id: ACTIVE, userId: STUDENT, status: 'ACTIVE', questions: [] });
    });

    it('applies the owner\u2019s submitted session once: a second call applies nothing', async () => {
      const other = await call(base, 'POST', `${PREFIX}/sessions/${SESSION}/submitted`, { token: await token(OTHER_STUDENT) });
      expect(other.status).toBe(403);
      const first = await call(base, 'POST', `${PREFIX}/sessions/${SESSION}/submitted`, { token: student });
      expect(first.status, first.text).toBe(200);
      // CONCEPT_2's state was last updated "now" by an untimed attempt above, so the session's
      // older answer to it is stale (reported, recorded, not applied); CONCEPT's state was at 2026-01-21.
      expect(first.body).toMatchObject({ mode: 'session', session_id: SESSION, user_id: STUDENT, applied: 2, stale: 1, duplicate: 0, concepts: [CONCEPT, CONCEPT_2].sort() });
      expect(first.body.skipped.unanswered).toHaveLength(1);
      expect(first.body.skipped.no_concept).toHaveLength(1);
      const second = await call(base, 'POST', `${PREFIX}/sessions/${SESSION}/submitted`, { token: SERVICE_TOKEN });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ applied: 0, duplicate: 3 });
    });

    it('applies a session once when its hook is called five times at once', async () => {
      const session = randomUuid();
      const concept = randomUuid();
      await addSession(store, {
        id: session,
        userId: OTHER_STUDENT,
        questions: [1, 2, 3].map((n) => ({ answerId: randomUuid(), questionId: randomUuid(), position: n, snapshot: { concept_id: concept }, correct: n !== 2, answeredAt: `2026-01-23T10:0${n}:00.000Z` })),
      });
      const replies = await Promise.all(Array.from({ length: 5 }, () => call(base, 'POST', `${PREFIX}/sessions/${session}/submitted`, { token: SERVICE_TOKEN })));
      expect(replies.map((r) => r.status)).toEqual(Array(5).fill(200));
      expect(replies.reduce((n, r) => n + r.body.applied, 0)).toBe(3);
      expect(replies.reduce((n, r) => n + r.body.duplicate, 0)).toBe(12);
      expect((await store.getState(OTHER_STUDENT, concept))?.n_attempts).toBe(3);
    });

    it('answers 404 for an unknown session, 409 for an ACTIVE one, 422 for a bad id', async () => {
      const unknown = await call(base, 'POST', `${PREFIX}/sessions/${randomUuid()}/submitted`, { token: admin });
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.code).toBe('NOT_FOUND');
      const active = await call(base, 'POST', `${PREFIX}/sessions/${ACTIVE}/submitted`, { token: student });
      expect(active.status).toBe(409);
      expect(active.body.error.message).toMatch(/is ACTIVE/);
      const bad = await call(base, 'POST', `${PREFIX}/sessions/12/submitted`, { token: student });
      expect(bad.status).toBe(422);
      expect(bad.body.error.message).toMatch(/^params\.session_id: /);
    });
  });

  describe('POST /recompute, GET /runs/{run_id}, GET /params', () => {
    it('a dry run fits and reports with the app\u2019s fields but writes no parameters', async () => {
      const r = await call(base, 'POST', `${PREFIX}/recompute`, { token: admin, body: { dry_run: true, activate: true } });
      expect(r.status, r.text).toBe(200);
      expect(r.body).toMatchObject({ algo_version: 'bkt:v1', dry_run: true, activated: false, params_ids: [], interrupted: false });
      expect(r.body.concepts_processed).toBe(r.body.concepts_fitted + r.body.concepts_skipped);
      expect(r.body.concepts_fitted).toBeGreaterThan(0);
      expect(Object.keys(r.body.metrics_summary)).toHaveLength(r.body.concepts_fitted);
      expect(Object.keys(r.body.errors)).toHaveLength(r.body.concepts_skipped);
      expect(await store.countRows('bkt_skill_params')).toBe(0);
      expect((await store.getRun(r.body.run_id))?.status).toBe('SUCCESS');
    });

    it('with ?wait=false answers 202 with the run id; the run goes on and GET /runs reports it', async () => {
      const r = await call(base, 'POST', `${PREFIX}/recompute?wait=false`, { token: SERVICE_TOKEN, body: { activate: true, min_attempts: 10 } });
      expect(r.status, r.text).toBe(202);
      expect(r.body).toEqual({ run_id: expect.any(String), status: 'RUNNING', location: `${PREFIX}/runs/${r.body.run_id}` });
      expect(r.headers.get('location')).toBe(`${PREFIX}/runs/${r.body.run_id}`);
      let run = await call(base, 'GET', `${PREFIX}/runs/${r.body.run_id}`, { token: admin });
      for (let i = 0; i < 300 && run.body.status === 'RUNNING'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        run = await call(base, 'GET', `${PREFIX}/runs/${r.body.run_id}`, { token: admin });
      }
      expect(run.status, run.text).toBe(200);
      expect(run.body).toMatchObject({ run_id: r.body.run_id, status: 'SUCCESS', trigger: 'api', completed_at: expect.any(String) });
      const result = run.body.result;
      expect(result).toMatchObject({ run_id: r.body.run_id, activated: true, dry_run: false });
      expect(result.params_ids).toHaveLength(result.concepts_fitted);
      expect(await store.countRows('bkt_skill_params')).toBe(result.concepts_fitted);
      expect(run.body.output_summary).toMatchObject({ params_fitted: result.concepts_fitted });

      // The active parameters of a fitted concept, and the stored row.
      const conceptId = Object.keys(result.metrics_summary)[0];
      const params = await call(base, 'GET', `${PREFIX}/params?concept_id=${conceptId.toUpperCase()}`, { token: student });
      expect(params.status, params.text).toBe(200);
      expect(params.body).toMatchObject({ concept_id: conceptId, source: 'fitted', is_default: false, params_id: expect.any(String), fitted_at: expect.any(String) });
      const row = await call(base, 'GET', `${PREFIX}/params/${params.body.params_id}`, { token: student });
      expect(row.status).toBe(200);
      expect(row.body).toMatchObject({ id: params.body.params_id, concept_id: conceptId, is_active: true, p_L0: params.body.p_L0 });
    });

    it('gives the defaults and their source for a concept without a fit; 404 for an unknown run or params id; 422 for bad input', async () => {
      const params = await call(base, 'GET', `${PREFIX}/params?concept_id=${randomUuid()}`, { token: student });
      expect(params.status).toBe(200);
      expect(params.body).toMatchObject({ source: 'algo_params', is_default: true, params_id: null, p_T: 0.2, p_G: 0.2 });
      expect((await call(base, 'GET', `${PREFIX}/params`, { token: student })).status).toBe(422);
      const noParams = await call(base, 'GET', `${PREFIX}/params/${randomUuid()}`, { token: student });
      expect(noParams.status).toBe(404);
      const noRun = await call(base, 'GET', `${PREFIX}/runs/${randomUuid()}`, { token: admin });
      expect(noRun.status).toBe(404);
      expect(noRun.body.error.code).toBe('NOT_FOUND');
      const badBody = await call(base, 'POST', `${PREFIX}/recompute`, { token: admin, body: { min_attempts: 0 } });
      expect(badBody.status).toBe(422);
      expect(badBody.body.error.message).toMatch(/^body\.min_attempts: /);
      const badDate = await call(base, 'POST', `${PREFIX}/recompute`, { token: admin, body: { from_date: 'soon' } });
      expect(badDate.status).toBe(422);
      const badWait = await call(base, 'POST', `${PREFIX}/recompute?wait=maybe`, { token: admin, body: {} });
      expect(badWait.status).toBe(422);
      expect(badWait.body.error.message).toMatch(/^query\.wait: /);
    });
  });

  describe('health, readiness, the OpenAPI document, unknown routes', () => {
    it('GET /healthz and /readyz answer without a token', async () => {
      expect(await call(base, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
      const ready = await call(base, 'GET', '/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', problems: [] });
    });

    it('GET /openapi.json describes every route with its schemas', async () => {
      const doc = await call(base, 'GET', '/openapi.json');
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.body.paths).sort()).toEqual(
        ['/healthz', '/readyz', `${PREFIX}/update`, `${PREFIX}/mastery`, `${PREFIX}/sessions/{session_id}/submitted`, `${PREFIX}/recompute`, `${PREFIX}/runs/{run_id}`, `${PREFIX}/params`, `${PREFIX}/params/{params_id}`].sort(),
      );
      expect(doc.body.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    });

    it('answers 404 in the error shape for an unknown route, and survives garbage', async () => {
      const r = await call(base, 'GET', `${PREFIX}/nothing`, { token: student });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: `no route GET ${PREFIX}/nothing` } });
      const garbage = await call(base, 'POST', `${PREFIX}/update`, { token: student, body: '\u0000\u0001\u00ff', headers: { 'content-type': 'application/json' } });
      expect(garbage.status).toBe(422);
      expect(garbage.text).not.toMatch(/at .*\.(js|ts):\d+/);
      expect((await call(base, 'GET', '/healthz')).status).toBe(200);
    });
  });
});
