/**
 * Caller scopes (the seed's RBAC). The admin scope may read and update any user's states; a
 * learner scope only its own. Commands run as admin; `--as-user U` runs as learner U.
 */
import { ScopeError } from '../errors.js';

/** Who is calling: an admin (jobs, the CLI) or one learner, who may only read and change their own states. */
export type Scope = { kind: 'admin' } | { kind: 'learner'; userId: string };

/** The scope of jobs and the CLI: any user's states. */
export const ADMIN_SCOPE: Scope = Object.freeze({ kind: 'admin' });

/** The scope of one learner (a request on their behalf): only `userId`'s states; others throw ScopeError. */
export function learnerScope(userId: string): Scope {
  return { kind: 'learner', userId: userId.toLowerCase() };
}

/**
 * Throws ScopeError unless `scope` may act on `userId` (`action` words the message:
 * "update mastery for", "query mastery for").
 */
export function assertUserAllowed(scope: Scope, userId: string, action: 'update mastery for' | 'query mastery for'): void {
  if (scope.kind === 'admin') return;
  if (userId.toLowerCase() !== scope.userId) {
    throw new ScopeError(
      `cannot ${action} other users: learner scope ${scope.userId} asked for user ${userId}`,
      'A learner scope (`asUser`) may only touch its own user; drop `asUser` to run as admin',
    );
  }
}

/**
 * The user a query is limited to: the learner's own id in a learner scope (a different
 * requested user is refused), else the requested one (undefined = every user, admin only).
 */
export function scopedUser(scope: Scope, requested: string | undefined, action: 'update mastery for' | 'query mastery for'): string | undefined {
  if (scope.kind === 'admin') return requested;
  if (requested !== undefined) assertUserAllowed(scope, requested, action);
  return scope.userId;
}
