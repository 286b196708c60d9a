/** The OAuth 2 refresh_token grant (RFC 6749 section 6), with rotation and DPoP-bound tokens (RFC 9449). */
import { SessionExpiredError } from '../errors/index.js';
import { NO_REFRESH_TOKEN, ended } from '../lib/ended.js';
import type { TokenSet } from '../types.js';
import { callEndpoint, readTokenEndpointFailure, readTokenResponse } from './http.js';
import type { RefreshContext, RefreshStrategy } from './types.js';

/**
 * How the client authenticates at the token endpoint (RFC 6749 section 2.3; the names are the
 * `token_endpoint_auth_method` values of RFC 7591 section 2).
 *
 * - `'none'`: a public client (an SPA): only `client_id` in the form.
 * - `'client_secret_basic'`: HTTP Basic with the form-urlencoded id and secret (RFC 6749 section 2.3.1, which
 *   every server must support).
 * - `'client_secret_post'`: `client_id` and `client_secret` in the form body.
 */
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

/** Options of `oauth2Refresh`. */
export interface OAuth2RefreshOptions {
  /** The authorization server's token endpoint, e.g. `https://auth.example.com/oauth/token`. */
  tokenEndpoint: string;
  /** The client's `client_id`. */
  clientId: string;
  /** Only for confidential clients; an SPA is a public client and must not hold one. */
  clientSecret?: string;
  /**
   * How the client authenticates; see {@link ClientAuthMethod}.
   * @default 'client_secret_basic' with a `clientSecret`, else 'none'
   * @example clientAuth: 'client_secret_post' // for a server that takes the secret only in the form body
   */
  clientAuth?: ClientAuthMethod;
  /** Narrow the scope of the new access token (RFC 6749 section 6). */
  scope?: string;
  /** More form parameters for the grant, e.g. `{ resource: 'https://api.example.com' }` (RFC 8707). */
  extraParams?: Record<string, string>;
}

/**
 * Renew tokens with the OAuth 2 refresh_token grant: a form-encoded POST to the token endpoint. A rotated
 * refresh token in the response replaces the old one; a response without one keeps the old one.
 * `invalid_grant` (the refresh token expired, was revoked, or was already spent) ends the session; an answer that
 * refuses the client itself (`invalid_client`, `unauthorized_client`, `invalid_scope`, ...) is a
 * `TokenResponseError` with `oauthError` and action `contact-support`, and keeps the session.
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
    throw new TypeError('authfetch: oauth2Refresh tokenEndpoint must be an http(s) URL');
  }
  if (typeof clientId !== 'string' || clientId === '') {
    throw new TypeError('authfetch: oauth2Refresh needs a clientId');
  }
  const clientAuth = options.clientAuth ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
  // A secret needs a method that sends it, and only 'none' sends none.
  if (!['none', 'client_secret_basic', 'client_secret_post'].includes(clientAuth) || (clientAuth === 'none') !== (clientSecret === undefined)) {
    throw new TypeError(`authfetch: oauth2Refresh clientAuth '${clientAuth}' does not fit ${clientSecret === undefined ? 'no' : 'a'} clientSecret`);
  }
  // RFC 6749 section 2.3.1: id and secret are form-urlencoded (Appendix B) before they become Basic's user-id and
  // password; the result is ASCII, so btoa is safe.
  const basic =
    clientAuth === 'client_secret_basic' ? `Basic ${btoa(`${formEncode(clientId)}:${formEncode(clientSecret ?? '')}`)}` : undefined;

  return {
    requiresRefreshToken: true,
    async refresh({ tokens, signal, fetch: fetchFn, dpop }: RefreshContext): Promise<TokenSet> {
      const refreshToken = tokens?.refreshToken;
      if (!refreshToken) {
        throw ended('no-refresh-token', NO_REFRESH_TOKEN);
      }
      const form = new URLSearchParams({ ...extraParams, grant_type: 'refresh_token', refresh_token: refreshToken });
      // With Basic the client is identified by the header; one authentication method per request (section 2.3).
      if (clientAuth !== 'client_secret_basic') form.set('client_id', clientId);
      if (clientAuth === 'client_secret_post') form.set('client_secret', clientSecret ?? '');
      if (scope !== undefined) form.set('scope', scope);
      const request = { method: 'POST', url: tokenEndpoint };
      const secrets = [refreshToken, clientSecret, basic?.slice(6)];
      // RFC 9449 section 8: a server that wants a nonce gets one more try with it, not counted as a retry.
      for (let nonceTry = !!dpop; ; nonceTry = false) {
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
        if (basic) headers.authorization = basic;
        // RFC 9449 section 5: the token request carries a proof without `ath`.
        if (dpop) headers.dpop = await dpop.proof('POST', tokenEndpoint);
        const response = await callEndpoint(fetchFn, request, {
          method: 'POST',
          headers,
          body: form,
          signal,
          credentials: 'omit',
          // Never followed: a 307/308 would re-send the form (refresh token, client secret) to wherever it points,
          // and that origin's answer would become the session's tokens. A redirect is an unusable answer (as
          // oauth4webapi treats it); in a browser it is an opaque response with status 0.
          redirect: 'manual',
        });
        const nonce = response.headers.get('dpop-nonce');
        if (dpop && nonce) dpop.rememberNonce(tokenEndpoint, nonce);
        if (response.ok) return readTokenResponse(response, request, tokens, 'oauth');
        const [oauthError, error] = await readTokenEndpointFailure(response, request, secrets);
        if (nonceTry && nonce && oauthError === 'use_dpop_nonce') continue;
        // RFC 6749 section 5.2: the refresh token is invalid, expired, revoked or spent. Its description is the
        // server's text (one echoed the request, refresh token included): never kept.
        if (oauthError === 'invalid_grant') {
          throw new SessionExpiredError('The token endpoint rejected the refresh token (invalid_grant)', { reason: 'refresh-rejected' });
        }
        throw error;
      }
    },
  };
}

/** application/x-www-form-urlencoded for one value (RFC 6749 Appendix B): URLSearchParams' encoding. */
function formEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}
