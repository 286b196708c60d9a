/**
 * `createTestAuth`: an authorization server and a protected API in msw request handlers, with the controls an app's
 * own tests need to meet every case its UI must handle (an expired session, a refused refresh, a flaky token
 * endpoint, a 403, a step-up), in vitest with the node or jsdom environment, no real server involved.
 */
import type { RequestHandler } from 'msw';
import { protectedApiFallback, protectedApiGate } from './protected-api.js';
import { TestAuthState, type RefreshFailure, type TestAuthCounts } from './state.js';
import { tokenEndpointHandler, tokenResponse, type TestTokenResponse } from './token-endpoint.js';

/** Options of `createTestAuth`. */
export interface TestAuthOptions {
  /**
   * The origin of the API the app calls (scheme, host and port, no path). Every path under it is protected.
   * @example 'https://api.example.test'
   */
  apiOrigin: string;
  /**
   * The URL of the token endpoint (the refresh_token grant). Give it to `oauth2Refresh({ tokenEndpoint })`.
   * @default `${apiOrigin}/oauth/token`
   * @example 'https://auth.example.test/oauth/token'
   */
  tokenEndpoint?: string;
  /**
   * Lifetime of the access tokens the kit issues, in seconds (`expires_in`).
   * @default 3600
   * @example 60
   */
  accessTokenLifetime?: number;
  /**
   * msw handlers for the app's own API answers (lists, records). They are reached only by requests with a valid
   * token that no `forbid()` or `requireStepUp()` refused; what they leave unanswered gets the kit's 200 JSON.
   * Handlers added later with `server.use()` come first in msw and skip the kit's checks.
   * @default []
   * @example [http.get('https://api.example.test/todos', () => HttpResponse.json([{ id: 1, title: 'Milk' }]))]
   */
  routes?: RequestHandler[];
}

/** What a test asks of `signIn()`: the grant the tokens stand for. */
export interface TestSignInOptions {
  /**
   * Who signs in.
   * @default 'test-user'
   */
  subject?: string;
  /**
   * Space-separated scopes granted; `forbid(path, scope)` lets a token with `scope` through.
   * @default 'openid profile'
   */
  scope?: string;
  /**
   * The authentication context class the sign-in met (RFC 9470); `requireStepUp(path, acr)` lets it through.
   * @default none
   * @example 'mfa'
   */
  acr?: string;
}

/** The test authorization server and API returned by `createTestAuth`. */
export interface TestAuth {
  /** msw request handlers, in order: `setupServer(...testAuth.handlers)`. */
  readonly handlers: RequestHandler[];
  /** The API origin the handlers protect. */
  readonly apiOrigin: string;
  /** The token endpoint URL, for `oauth2Refresh({ tokenEndpoint })`. */
  readonly tokenEndpoint: string;
  /**
   * Sign a user in (a new refresh-token family) and return the token response, for `auth.login(...)`: what the
   * app's real sign-in would have handed it.
   */
  signIn(options?: TestSignInOptions): TestTokenResponse;
  /**
   * Every access token issued so far is expired on the server (the client still believes it valid): the next
   * request meets a 401 `invalid_token` and the client refreshes silently.
   */
  expireAccessTokens(): void;
  /**
   * The server ends every session signed in so far: access tokens stop working and refresh tokens are refused
   * (`invalid_grant`), so the next request ends the session (`sessionExpired`, reason `'refresh-rejected'`).
   * A `signIn()` afterwards starts a new session.
   */
  revokeSession(): void;
  /**
   * The next `times` calls of the token endpoint fail with `status` (5xx and 429: `temporarily_unavailable`; 400:
   * `invalid_grant`; 401: `invalid_client`), or with no answer at all for `'network'`. Later calls work again.
   */
  failRefresh(status: RefreshFailure, times?: number): void;
  /**
   * Requests to `path` (and below it) get 403 with `insufficient_scope` (RFC 6750 section 3.1), unless the token
   * was granted `scope`; without `scope`, always.
   */
  forbid(path: string, scope?: string): void;
  /**
   * Requests to `path` (and below it) get 401 with `insufficient_user_authentication` and `acr_values` (RFC 9470
   * section 3), unless the token comes from `signIn({ acr })` with one of the given values.
   */
  requireStepUp(path: string, acr: string | readonly string[]): void;
  /** Token endpoint calls and API requests so far (live). */
  readonly counts: TestAuthCounts;
  /** Back to a fresh server: no tokens, counts at zero, no failure, forbidden path or step-up left. */
  reset(): void;
}

function originOf(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`createTestAuth: ${name} "${value}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`createTestAuth: ${name} must be an http: or https: URL`);
  }
  return url.origin;
}

function checkPath(path: string, control: string): void {
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new TypeError(`createTestAuth: ${control}() takes a path that starts with "/"`);
  }
}

/**
 * Make a test authorization server and protected API for msw. The API takes Bearer tokens (RFC 6750); it does not
 * check DPoP proofs, so test a `dpop()` client against a real server (the repository's tests use oidc-provider).
 *
 * @example
 * ```ts
 * import { setupServer } from 'msw/node';
 * import { createAuthClient, oauth2Refresh } from 'authfetch';
 * import { createTestAuth } from 'authfetch/testing';
 *
 * const testAuth = createTestAuth({ apiOrigin: 'https://api.example.test' });
 * const server = setupServer(...testAuth.handlers);
 * server.listen();
 *
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.test',
 *   refresh: oauth2Refresh({ tokenEndpoint: testAuth.tokenEndpoint, clientId: 'test' }),
 * });
 * await auth.login(testAuth.signIn());
 * testAuth.expireAccessTokens();
 * await auth.http.get('me').json(); // 401, silent refresh, replay: 200
 * ```
 */
export function createTestAuth(options: TestAuthOptions): TestAuth {
  const apiOrigin = originOf(options.apiOrigin, 'apiOrigin');
  if (new URL(options.apiOrigin).pathname !== '/') {
    throw new TypeError('createTestAuth: apiOrigin is an origin (scheme, host, port) without a path');
  }
  const tokenEndpoint = options.tokenEndpoint ?? `${apiOrigin}/oauth/token`;
  originOf(tokenEndpoint, 'tokenEndpoint');
  const lifetime = options.accessTokenLifetime ?? 3600;
  if (!Number.isFinite(lifetime) || lifetime <= 0) {
    throw new TypeError('createTestAuth: accessTokenLifetime must be a positive number of seconds');
  }
  const state = new TestAuthState(lifetime * 1000);

  const handlers: RequestHandler[] = [
    tokenEndpointHandler(tokenEndpoint, state),
    protectedApiGate(apiOrigin, state),
    ...(options.routes ?? []),
    protectedApiFallback(apiOrigin, state),
  ];

  return {
    handlers,
    apiOrigin,
    tokenEndpoint,
    signIn(signIn = {}) {
      const scopes = (signIn.scope ?? 'openid profile').split(' ').filter(Boolean);
      const grant = { subject: signIn.subject ?? 'test-user', scopes, acr: signIn.acr };
      return tokenResponse(state.book.signIn(grant, state.accessTokenLifetimeMs), scopes, state.accessTokenLifetimeMs);
    },
    expireAccessTokens() {
      state.book.expireAccessTokens();
    },
    revokeSession() {
      state.book.revokeAll();
    },
    failRefresh(status, times = 1) {
      const valid = status === 'network' || (Number.isInteger(status) && status >= 400 && status <= 599);
      if (!valid) throw new TypeError("createTestAuth: failRefresh() takes an HTTP error status (400-599) or 'network'");
      if (!Number.isInteger(times) || times < 1) throw new TypeError('createTestAuth: failRefresh() times must be a positive integer');
      for (let i = 0; i < times; i++) state.refreshFailures.push(status);
    },
    forbid(path, scope) {
      checkPath(path, 'forbid');
      state.forbidden.push({ path, scope });
    },
    requireStepUp(path, acr) {
      checkPath(path, 'requireStepUp');
      const acrValues = typeof acr === 'string' ? [acr] : [...acr];
      if (acrValues.length === 0 || acrValues.some((value) => typeof value !== 'string' || value === '' || /\s/.test(value))) {
        throw new TypeError('createTestAuth: requireStepUp() takes one or more acr values without spaces');
      }
      state.stepUps.push({ path, acrValues });
    },
    get counts() {
      return { refresh: state.counts.refresh, api: state.counts.api };
    },
    reset() {
      state.reset();
    },
  };
}
