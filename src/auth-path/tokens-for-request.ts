/**
 * Which tokens a request goes out with when the fast path cannot say at once: after the refresh in flight, after a
 * refresh started because the token is expiring, or, when the session is over, after the user signed in again
 * (`loginRequired: 'wait'`). The app's own token calls follow the same policy (src/access-token.ts).
 */
import { shouldRefreshFirst } from '../access-token.js';
import { SessionExpiredError, isSessionExpiredError } from '../errors/index.js';
import { untilAborted } from '../lib/abort.js';
import type { TokenSet } from '../types.js';
import type { AuthRequest } from './request.js';

/** The session is over: the error a request gets, with the reason the coordinator recorded. */
export function expiredError(request: AuthRequest): SessionExpiredError {
  return new SessionExpiredError(undefined, { reason: request.path.coordinator.endReason ?? 'refresh-rejected' });
}

/**
 * The session is over: reject (`'reject'`) or hold until sign-in and go on with the new tokens (`'wait'`).
 * `owner`: the tokens of the session the request belongs to (it was sent with them, or started under them); only
 * the same user's sign-in releases it.
 */
export async function waitForSignIn(
  error: SessionExpiredError,
  request: AuthRequest,
  owner: TokenSet | undefined = request.tokens ?? request.path.coordinator.endedTokens,
): Promise<TokenSet> {
  const { mode, gate, coordinator } = request.path;
  // A request still out when the user signed out ends with the logout, as the requests held then do.
  // Another user's sign-in never carries this request either.
  if (mode === 'reject' || error.reason === 'logout' || error.reason === 'user-changed') throw error;
  await gate.hold(request.signal, owner);
  const tokens = coordinator.tokens;
  if (!tokens) throw error;
  return tokens;
}

/** The tokens to send with: after a refresh in flight, or after a proactive refresh when expiring. */
export async function tokensForRequest(request: AuthRequest): Promise<TokenSet | undefined> {
  const { coordinator, mode } = request.path;
  // Whose request this is, fixed now: a notice handled while it waits may change what the coordinator remembers.
  const owner = coordinator.tokens ?? coordinator.endedTokens;
  const inflight = coordinator.inflight;
  if (inflight) {
    try {
      return await untilAborted(inflight, request.signal);
    } catch (error) {
      if (isSessionExpiredError(error)) return waitForSignIn(error, request, owner);
      throw error;
    }
  }
  const tokens = coordinator.tokens;
  if (!tokens) {
    if (coordinator.status === 'expired' && mode === 'wait') return waitForSignIn(expiredError(request), request);
    return undefined;
  }
  if (shouldRefreshFirst(coordinator, tokens)) {
    try {
      return await untilAborted(coordinator.refresh('expiring', tokens), request.signal);
    } catch (error) {
      if (isSessionExpiredError(error)) return waitForSignIn(error, request, owner);
      if (request.signal?.aborted) throw error;
      // A transient failure was reported (refreshError); the token may still be good for a while: send it.
      return coordinator.tokens ?? tokens;
    }
  }
  return tokens;
}
