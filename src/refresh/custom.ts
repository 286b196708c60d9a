/** Any function that returns tokens: for sign-in SDKs and flows the built-in strategies do not cover. */
import { normalizeTokens, type OAuthTokenResponse } from '../tokens.js';
import type { TokenSet } from '../types.js';
import type { RefreshContext, RefreshStrategy } from './types.js';

/**
 * Wrap a function as a refresh strategy. It may return a `TokenSet` or a raw OAuth token response; it throws
 * `SessionExpiredError` to say the session is over. It is given the abort signal and the client's fetch.
 *
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   refresh: customRefresh(async ({ signal }) => {
 *     const token = await mySdk.getTokenSilently({ signal });
 *     return { accessToken: token };
 *   }),
 * });
 * ```
 */
export function customRefresh(
  fn: (context: RefreshContext) => Promise<TokenSet | OAuthTokenResponse> | TokenSet | OAuthTokenResponse,
): RefreshStrategy {
  if (typeof fn !== 'function') throw new TypeError('authfetch: customRefresh needs a function');
  return {
    requiresRefreshToken: false,
    async refresh(context: RefreshContext): Promise<TokenSet> {
      const result = await fn(context);
      // expires_in counts from when the answer arrived, which is now, not when the call started.
      return normalizeTokens(result, undefined, context.tokens);
    },
  };
}
