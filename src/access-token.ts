/**
 * The app's own token calls: `getAccessToken` and the wake-up check follow the coordinator's one token policy
 * (`coordinator.tokenFor`); `refresh()` asks for a refresh now.
 */
import { NO_REFRESH_TOKEN, ended } from './lib/ended.js';
import type { RefreshCoordinator } from './refresh/coordinator.js';

/**
 * `auth.getAccessToken()`: a valid access token, refreshing first if within the leeway, or `undefined` when signed
 * out. After a transient refresh failure the token is still given while it has not expired (the refresh runs ahead
 * of expiry); after the session ended or changed hands, whatever is current now.
 */
export async function getAccessToken(coordinator: RefreshCoordinator): Promise<string | undefined> {
  await coordinator.ready;
  return (await coordinator.tokenFor())?.accessToken;
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
  if (signOuts() !== signOutsBefore) throw ended('logout');
  if (!hasStrategy) throw new TypeError('authfetch: refresh() needs the refresh option');
  if (!coordinator.canRefresh(coordinator.tokens) && !coordinator.inflight) {
    throw ended('no-refresh-token', NO_REFRESH_TOKEN);
  }
  await coordinator.refresh('manual');
}

/**
 * The page woke up (a tab back from the background, a machine back from sleep): refresh at once if the token is
 * expiring, instead of trusting timers that slept. A failure is reported by the coordinator (`refreshError`).
 */
export function refreshIfExpiring(coordinator: RefreshCoordinator): void {
  coordinator.tokenFor().catch(() => undefined);
}
