/**
 * The test token endpoint: the refresh_token grant of RFC 6749 section 6, with rotation and reuse detection
 * (RFC 9700 section 4.14.2), answering as section 5.1 (success) and 5.2 (errors) say.
 */
import { http, HttpResponse, type HttpHandler } from 'msw';
import type { TestAuthState } from './state.js';

/** The JSON body of a successful token response (RFC 6749 section 5.1); `auth.login()` takes it as it is. */
export interface TestTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** RFC 6749 section 5.1: token responses must not be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

/** A token response for `tokens`, in the JSON shape of RFC 6749 section 5.1. */
export function tokenResponse(
  tokens: { accessToken: string; refreshToken: string },
  scopes: readonly string[],
  lifetimeMs: number,
): TestTokenResponse {
  return {
    access_token: tokens.accessToken,
    token_type: 'Bearer',
    expires_in: Math.round(lifetimeMs / 1000),
    refresh_token: tokens.refreshToken,
    scope: scopes.join(' '),
  };
}

function oauthError(status: number, error: string, description?: string): Response {
  const body = description === undefined ? { error } : { error, error_description: description };
  return HttpResponse.json(body, { status, headers: NO_STORE });
}

/**
 * The error body for a failure a test asked for: 5xx and 429 say "try later", 400 is a rejected grant (the session
 * is over), 401 a refused client (RFC 6749 section 5.2).
 */
function requestedFailure(status: number): Response {
  if (status === 400) return oauthError(400, 'invalid_grant', 'The refresh token was rejected');
  if (status === 401) return oauthError(401, 'invalid_client', 'Client authentication failed');
  if (status === 429 || status >= 500) return oauthError(status, 'temporarily_unavailable');
  return oauthError(status, 'invalid_request');
}

/** The msw handler of the token endpoint at `url`. */
export function tokenEndpointHandler(url: string, state: TestAuthState): HttpHandler {
  return http.post(url, async ({ request }) => {
    state.counts.refresh++;
    const failure = state.refreshFailures.shift();
    if (failure === 'network') return HttpResponse.error();
    if (failure !== undefined) return requestedFailure(failure);

    const type = request.headers.get('content-type') ?? '';
    if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return oauthError(400, 'invalid_request', 'The body must be form-encoded');
    }
    const form = new URLSearchParams(await request.text());
    if (form.get('grant_type') !== 'refresh_token') {
      return oauthError(400, 'unsupported_grant_type', 'Only the refresh_token grant is offered');
    }
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return oauthError(400, 'invalid_request', 'refresh_token is missing');

    const lifetimeMs = state.accessTokenLifetimeMs;
    const result = state.book.rotate(refreshToken, lifetimeMs);
    if (!result.ok) {
      const why = result.reason === 'reused' ? 'The refresh token was already used' : 'The refresh token is invalid';
      return oauthError(400, 'invalid_grant', why);
    }
    return HttpResponse.json(tokenResponse(result, result.grant.scopes, lifetimeMs), { headers: NO_STORE });
  });
}
