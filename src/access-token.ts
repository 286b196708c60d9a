/**
 * The token policy for the app's own calls, beside the auth path's (src/auth-path/tokens-for-request.ts): refresh
 * first when the token is expiring and can be refreshed; a sign-out or another user's sign-in while waiting wins
 * over what the refresh gave (`coordinator.reconfirm`).
 */
import { SessionExpiredError, isSessionExpiredError } from './errors/index.js';
import type { RefreshCoordinator } from './refresh/coordinator.js';
import type { TokenSet } from './types.js';

/** Whether `tokens` should be renewed before they are used: expiring within the leeway, and renewable. */
export function shouldRefreshFirst(coordinator: RefreshCoordinator, tokens: TokenSet): boolean {
  return coordinator.isExpiring(tokens) && coordinator.canRefresh(tokens);
}

/**
 * `auth.getAccessToken()`: a valid access token, refreshing first if within the leeway, or `undefined` when signed
 * out. After a transient refresh failure the token is still given while it has not expired (the refresh runs ahead
 * of expiry); after the session ended or changed hands, whatever is current now.
 */
export async function getAccessToken(coordinator: RefreshCoordinator): Promise<string | undefined> {
  await coordinator.ready;
  try {
    if (coordinator.inflight) return coordinator.reconfirm(await coordinator.inflight).accessToken;
  } catch (error) {
    if (isSessionExpiredError(error)) return coordinator.tokens?.accessToken;
    throw error;
  }
  const tokens = coordinator.tokens;
  if (!tokens) return undefined;
  if (!shouldRefreshFirst(coordinator, tokens)) return tokens.accessToken;
  try {
    return coordinator.reconfirm(await coordinator.refresh('expiring', tokens)).accessToken;
  } catch (error) {
    if (isSessionExpiredError(error)) return coordinator.tokens?.accessToken;
    const expiresAt = coordinator.expiresAt(tokens);
    if (coordinator.tokens === tokens && expiresAt !== undefined && expiresAt > Date.now()) return tokens.accessToken;
    throw error;
  }
}

/**
 * `auth.refresh()`: a refresh now (joining one already running); refused without a strategy or a refresh token.
 * A sign-out after the call (in the same turn, or while the stored session is still being read) wins: the refresh
 * was asked for the session as it was, and must not start a new one (a cookie session would mint a token and sign
 * the user back in). `signOuts` counts the sign-outs so far.
 */
export async function refreshNow(coordinator: RefreshCoordinator, hasStrategy: boolean, signOuts: () => number): Promise<void> {
  const signOutsBefore = signOuts();
  await coordinator.ready;
  if (signOuts() !== signOutsBefore) throw new SessionExpiredError('Signed out', { reason: 'logout' });
  if (!hasStrategy) throw new TypeError('authfetch: refresh() needs a refresh strategy (the refresh option)');
  if (!coordinator.canRefresh(coordinator.tokens) && !coordinator.inflight) {
    throw new SessionExpiredError('There is no refresh token to renew the session with', { reason: 'no-refresh-token' });
  }
  await coordinator.refresh('manual');
}

/**
 * The page woke up (a tab back from the background, a machine back from sleep): refresh at once if the token is
 * expiring, instead of trusting timers that slept. A failure is reported by the coordinator (`refreshError`).
 */
export function refreshIfExpiring(coordinator: RefreshCoordinator): void {
  const tokens = coordinator.tokens;
  if (tokens && shouldRefreshFirst(coordinator, tokens)) coordinator.refresh('expiring', tokens).catch(() => undefined);
}
