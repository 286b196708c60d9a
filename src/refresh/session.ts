/** Cookie sessions and backends-for-frontend: an httpOnly cookie renews the access token. */
import { SessionExpiredError, TokenResponseError } from '../errors/index.js';
import type { TokenSet } from '../types.js';
import { callEndpoint, readTokenEndpointFailure, readTokenResponse, where } from './http.js';
import type { RefreshContext, RefreshStrategy } from './types.js';
import { discardBody } from '../lib/discard-body.js';
import { originOf } from '../origins.js';

/** Options of `sessionRefresh`. */
export interface SessionRefreshOptions {
  /** The endpoint that answers a fresh access token for the session cookie, e.g. `/bff/token`. */
  url: string;
  /** @default 'POST' */
  method?: string;
  /** Sent with the call so the session cookie goes along; `same-origin` suits a BFF on the page's origin. @default 'include' */
  credentials?: RequestCredentials;
  /**
   * Turn the endpoint's JSON into a token set or OAuth token response, when it is not already one of those.
   * @example parse: (body) => ({ accessToken: body.token, expiresAt: Date.parse(body.expires) })
   */
  parse?: (body: unknown) => unknown;
}

/**
 * Renew the access token from a session endpoint that recognises the user by an httpOnly cookie. A 401 from the
 * endpoint means the session is over. It needs no refresh token, so it is tried even when signed out: an app
 * that reloads with a live session cookie gets its access token back on the first 401.
 *
 * @example
 * ```ts
 * const auth = createAuthClient({ baseUrl: '/api', refresh: sessionRefresh({ url: '/bff/token' }) });
 * ```
 */
export function sessionRefresh(options: SessionRefreshOptions): RefreshStrategy {
  const { url, method = 'POST', credentials = 'include', parse } = options;
  if (typeof url !== 'string' || url === '') throw new TypeError('authfetch: sessionRefresh needs a url');
  return {
    requiresRefreshToken: false,
    async refresh({ tokens, signal, fetch: fetchFn }: RefreshContext): Promise<TokenSet> {
      const target = resolveAgainstPage(url);
      const request = { method, url: target };
      const response = await callEndpoint(fetchFn, request, {
        method,
        credentials,
        signal,
        headers: { accept: 'application/json' },
      });
      // A session endpoint may move within its origin (redirects are followed), but an answer from another origin
      // (an open redirect) is not this session's: its tokens would replace the user's.
      if (response.redirected && originOf(response.url) !== originOf(target)) {
        discardBody(response);
        throw new TokenResponseError(`The session endpoint redirected to another origin; its answer is not used: ${where(request)}`, {
          status: response.status,
        });
      }
      if (response.status === 401) {
        discardBody(response);
        throw new SessionExpiredError('The session endpoint answered 401: the session is over', { reason: 'refresh-rejected' });
      }
      if (!response.ok) throw (await readTokenEndpointFailure(response, request, []))[1];
      // The cookie-held session is not renewed by a refresh token: keep none from before.
      return readTokenResponse(response, request, tokens && { ...tokens, refreshToken: undefined }, parse);
    },
  };
}

/** A relative URL means the page's origin (a BFF); outside a page it must be absolute. */
function resolveAgainstPage(url: string): string {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  try {
    return new URL(url, base).href;
  } catch {
    throw new TypeError(`authfetch: sessionRefresh url "${url}" must be absolute outside a browser page`);
  }
}
