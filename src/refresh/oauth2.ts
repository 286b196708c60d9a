/** The OAuth 2 refresh_token grant (RFC 6749 section 6), with rotation and DPoP-bound tokens (RFC 9449). */
import { SessionExpiredError } from '../errors.js';
import type { TokenSet } from '../types.js';
import { callEndpoint, readOAuthError, readTokenResponse, refreshFailure } from './http.js';
import type { RefreshContext, RefreshStrategy } from './types.js';
import { discardBody } from '../lib/discard-body.js';

/** Options of `oauth2Refresh`. */
export interface OAuth2RefreshOptions {
  /** The authorization server's token endpoint, e.g. `https://auth.example.com/oauth/token`. */
  tokenEndpoint: string;
  /** The client's `client_id`. */
  clientId: string;
  /**
   * Only for confidential clients; an SPA is a public client and must not hold one. Sent as `client_secret` in the
   * form body (RFC 6749 section 2.3.1), and only when given.
   */
  clientSecret?: string;
  /** Narrow the scope of the new access token (RFC 6749 section 6). */
  scope?: string;
  /** More form parameters for the grant, e.g. `{ resource: 'https://api.example.com' }` (RFC 8707). */
  extraParams?: Record<string, string>;
}

/**
 * Renew tokens with the OAuth 2 refresh_token grant: a form-encoded POST to the token endpoint. A rotated
 * refresh token in the response replaces the old one; a response without one keeps the old one.
 * `invalid_grant` (the refresh token expired, was revoked, or was already spent) ends the session.
 * With the client's `dpop` option, the grant carries a DPoP proof and a `use_dpop_nonce` answer is retried once.
 *
 * @example
 * ```ts
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.com',
 *   refresh: oauth2Refresh({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'my-spa' }),
 * });
 * ```
 */
export function oauth2Refresh(options: OAuth2RefreshOptions): RefreshStrategy {
  const { tokenEndpoint, clientId, clientSecret, scope, extraParams } = options;
  if (typeof tokenEndpoint !== 'string' || !/^https?:\/\//i.test(tokenEndpoint)) {
    throw new TypeError('authfetch: oauth2Refresh needs tokenEndpoint as an absolute http(s) URL');
  }
  if (typeof clientId !== 'string' || clientId === '') {
    throw new TypeError('authfetch: oauth2Refresh needs a clientId');
  }

  return {
    requiresRefreshToken: true,
    async refresh({ tokens, signal, fetch: fetchFn, dpop }: RefreshContext): Promise<TokenSet> {
      const refreshToken = tokens?.refreshToken;
      if (!refreshToken) {
        throw new SessionExpiredError('There is no refresh token to renew the session with', { reason: 'no-refresh-token' });
      }
      const form = new URLSearchParams({ ...extraParams, grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
      if (clientSecret !== undefined) form.set('client_secret', clientSecret);
      if (scope !== undefined) form.set('scope', scope);

      const send = async (): Promise<Response> => {
        const headers: Record<string, string> = {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        };
        // RFC 9449 section 5: the token request carries a proof without `ath`.
        if (dpop) headers.dpop = await dpop.proof('POST', tokenEndpoint);
        const response = await callEndpoint(fetchFn, tokenEndpoint, {
          method: 'POST',
          headers,
          body: form,
          signal,
          cache: 'no-store',
          credentials: 'omit',
        });
        const nonce = response.headers.get('dpop-nonce');
        if (dpop && nonce) dpop.rememberNonce(tokenEndpoint, nonce);
        return response;
      };

      let response = await send();
      if (!response.ok) {
        let { error, description } = await readOAuthError(response);
        // RFC 9449 section 8: the server wants a nonce; one more try with it, not counted as a retry.
        if (dpop && error === 'use_dpop_nonce' && response.headers.get('dpop-nonce')) {
          discardBody(response);
          response = await send();
          ({ error, description } = response.ok ? {} : await readOAuthError(response));
        }
        if (!response.ok) {
          if (error === 'invalid_grant') {
            discardBody(response);
            throw new SessionExpiredError(
              `The token endpoint rejected the refresh token (invalid_grant${description ? `: ${description}` : ''})`,
              { reason: 'refresh-rejected' },
            );
          }
          throw await refreshFailure(response, 'POST', tokenEndpoint);
        }
      }
      return readTokenResponse(response, tokens);
    },
  };
}
