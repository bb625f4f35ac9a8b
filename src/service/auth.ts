/**
 * Who is calling: the app's access tokens (`Authorization: Bearer <JWT>`, as the app's
 * security.py issues them) or the service token of the app's backend.
 *
 * A JWT is accepted when its signature verifies with the shared secret under the configured
 * algorithm (jose: constant-time comparison, `exp` checked), its `type` is "access", `sub` is a
 * UUID, `role` one of the app's roles, and the user exists in `users` with that same role (else
 * 401 "Token role mismatch": a demoted admin's old token stops working at once). The service
 * token is compared in constant time and acts as admin. Neither the token nor the secret ever
 * appears in a message.
 */
import { createHash, createSecretKey, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify } from 'jose';
import { unauthorized } from './http-errors.js';
import type { JwtAlgorithm } from './options.js';

export const APP_ROLES = ['STUDENT', 'ADMIN', 'REVIEWER'] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** The authenticated caller. `userId` is null for the service token (it has no user of its own). */
export type Principal = { kind: 'user'; userId: string; role: AppRole } | { kind: 'service'; userId: null; role: 'ADMIN' };

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface AuthenticatorOptions {
  jwtSecret: string;
  jwtAlgorithm: JwtAlgorithm;
  serviceToken?: string;
  /** users.role of a user, or null when the user does not exist. */
  userRole: (userId: string) => Promise<string | null>;
}

export type Authenticate = (authorization: string | undefined) => Promise<Principal>;

/** Verified tokens remembered (a client sends the same token with every request until it expires). */
const VERIFIED_CACHE_SIZE = 10_000;

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Build the request authenticator. It resolves to the caller, or rejects with a 401 HttpError
 * whose message says what was wrong (missing, malformed, expired, bad signature, not an access
 * token, unknown user, role mismatch) without echoing the token.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticate {
  // A KeyObject made once: given raw bytes, jose would import the key again on every verification.
  const key = createSecretKey(Buffer.from(options.jwtSecret, 'utf8'));
  // Hashing first gives equal-length buffers, so the comparison time does not depend on the input.
  const serviceDigest = options.serviceToken === undefined ? null : sha256(options.serviceToken);
  const verifyOptions = { algorithms: [options.jwtAlgorithm], requiredClaims: ['exp', 'sub'] };
  // token -> its verified claims. Only tokens whose signature verified are kept, each until its
  // exp; the users check below still runs on every request, so a role change applies at once.
  const verified = new Map<string, { payload: Record<string, unknown>; expiresAtMs: number }>();

  const verify = async (token: string): Promise<Record<string, unknown>> => {
    const hit = verified.get(token);
    if (hit !== undefined) {
      if (Date.now() < hit.expiresAtMs) return hit.payload;
      verified.delete(token);
    }
    const payload = (await jwtVerify(token, key, verifyOptions)).payload as Record<string, unknown>;
    if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value!);
    verified.set(token, { payload, expiresAtMs: (payload.exp as number) * 1000 });
    return payload;
  };

  return async (authorization) => {
    if (authorization === undefined || authorization.length === 0) throw unauthorized('Not authenticated: send Authorization: Bearer <token>');
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
    if (!match) throw unauthorized('Malformed Authorization header: expected "Bearer <token>"');
    const token = match[1];
    if (serviceDigest !== null && timingSafeEqual(sha256(token), serviceDigest)) return { kind: 'service', userId: null, role: 'ADMIN' };

    let payload: Record<string, unknown>;
    try {
      payload = await verify(token);
    } catch (e) {
      if (e instanceof joseErrors.JWTExpired) throw unauthorized('Token expired');
      if (e instanceof joseErrors.JWSSignatureVerificationFailed) throw unauthorized('Invalid token signature');
      if (e instanceof joseErrors.JOSEAlgNotAllowed) throw unauthorized(`Invalid token: algorithm not allowed (expected ${options.jwtAlgorithm})`);
      if (e instanceof joseErrors.JWTClaimValidationFailed) throw unauthorized(`Invalid token: claim "${e.claim}" ${e.reason === 'missing' ? 'is missing' : 'is invalid'}`);
      throw unauthorized('Invalid token');
    }
    if (payload.type !== 'access') throw unauthorized('Invalid token type: an access token is required');
    const sub = payload.sub;
    if (typeof sub !== 'string' || !UUID_RE.test(sub)) throw unauthorized('Invalid token: claim "sub" is not a user id');
    const role = typeof payload.role === 'string' ? payload.role.toUpperCase() : undefined;
    if (role === undefined || !(APP_ROLES as readonly string[]).includes(role)) throw unauthorized('Invalid token: claim "role" is not a known role');
    const userId = sub.toLowerCase();
    const stored = await options.userRole(userId);
    if (stored === null) throw unauthorized('User not found');
    if (stored.toUpperCase() !== role) throw unauthorized('Token role mismatch');
    return { kind: 'user', userId, role: role as AppRole };
  };
}
