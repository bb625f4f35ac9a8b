/**
 * Helpers for the service tests: a migrated database per backend with users of each role, the
 * real service started in this process on an ephemeral port, tokens signed as the app signs them,
 * and a small JSON client over fetch.
 */
import { SignJWT } from 'jose';
import { sqlDriverOf } from '../../src/store/sql-store.js';
import { startService, type Service } from '../../src/service/server.js';
import type { ServeOptions } from '../../src/service/options.js';
import { openStore } from '../../src/store/open-store.js';
import { type Store } from '../../src/store/store.js';
import { createPostgresDb, createSqliteDb, postgresAvailable, type TestDb } from '../mastery/backends.js';

export const SECRET = 'test-secret-0123456789abcdef-0123456789abcdef';
export const SERVICE_TOKEN = 'service-token-0123456789abcdef-0123456789';
export const PREFIX = '/api/v1/learning/bkt';

export const STUDENT = '11111111-1111-4111-8111-111111111111';
export const OTHER_STUDENT = '22222222-2222-4222-8222-222222222222';
export const ADMIN = '33333333-3333-4333-8333-333333333333';
export const REVIEWER = '44444444-4444-4444-8444-444444444444';

const pgUp = await postgresAvailable();
export const BACKENDS = [
  { name: 'sqlite' as const, create: createSqliteDb },
  ...(pgUp ? [{ name: 'postgres' as const, create: createPostgresDb }] : []),
];

/** Insert users with the given roles (the app's users table). */
export async function addUser(store: Store, id: string, role: string): Promise<void> {
  await sqlDriverOf(store).run('INSERT INTO users (id, role) VALUES (?, ?)', [id, role]);
}

/** A database with one user of each role. */
export async function seededDb(create: () => Promise<TestDb>): Promise<TestDb> {
  const db = await create();
  const store = await openStore(db.db);
  try {
    await addUser(store, STUDENT, 'STUDENT');
    await addUser(store, OTHER_STUDENT, 'STUDENT');
    await addUser(store, ADMIN, 'ADMIN');
    await addUser(store, REVIEWER, 'REVIEWER');
  } finally {
    await store.close();
  }
  return db;
}

export function startTestService(db: string, options: Partial<ServeOptions> = {}): Promise<Service> {
  return startService({ db, port: 0, jwtSecret: SECRET, serviceToken: SERVICE_TOKEN, logLevel: 'silent', ...options });
}

export interface TokenOptions {
  role?: string;
  type?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  secret?: string;
  alg?: string;
  sub?: string | null;
}

/** An access token as the app's security.py makes it: HS256, sub, role, type "access", exp. */
export async function token(userId: string, o: TokenOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { type: o.type ?? 'access' };
  if (o.role !== undefined || userId) claims.role = o.role ?? 'STUDENT';
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setIssuedAt();
  if (o.sub !== null) jwt = jwt.setSubject(o.sub ?? userId);
  jwt = jwt.setExpirationTime(Math.floor(Date.now() / 1000) + (o.expiresIn ?? 3600));
  return jwt.sign(new TextEncoder().encode(o.secret ?? SECRET));
}

export interface Reply<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

/** One HTTP request; a JSON body is sent as such, a string body as is. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; authorization?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  else if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, headers: res.headers, text };
}
