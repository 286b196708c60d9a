/**
 * Compile-only checks of the public types: vitest's typecheck runs tsc over this file; nothing here executes.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { KyInstance } from 'ky';
import {
  createAuthClient,
  oauth2Refresh,
  sessionRefresh,
  customRefresh,
  memoryStorage,
  indexedDbStorage,
  parseChallenges,
  dpop,
  AuthFetchError,
  HttpError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  RateLimitError,
  ServerError,
  NetworkError,
  TimeoutError,
  SessionExpiredError,
  TokenResponseError,
  isForbiddenError,
  type AuthClient,
  type AuthEvents,
  type Dpop,
  type Challenge,
  type ErrorCode,
  type RefreshStrategy,
  type TokenSet,
  type TokenStorage,
  type UserAction,
} from '../../src/index.js';

describe('public types', () => {
  it('createAuthClient returns an AuthClient whose http is a ky instance', () => {
    const auth = createAuthClient({ baseUrl: 'https://api.example.com' });
    expectTypeOf(auth).toEqualTypeOf<AuthClient>();
    expectTypeOf(auth.http).toEqualTypeOf<KyInstance>();
    expectTypeOf(auth.fetch).parameters.toEqualTypeOf<[RequestInfo | URL, (RequestInit | undefined)?]>();
    expectTypeOf(auth.fetch).returns.toEqualTypeOf<Promise<Response>>();
    expectTypeOf(auth.getAccessToken).returns.toEqualTypeOf<Promise<string | undefined>>();
    expectTypeOf(auth.session.status).toEqualTypeOf<'signed-out' | 'active' | 'refreshing' | 'expired'>();
  });

  it('types each event payload by its key', () => {
    const auth = createAuthClient();
    auth.on('refresh', (payload) => {
      expectTypeOf(payload.trigger).toEqualTypeOf<'unauthorized' | 'expiring' | 'manual'>();
      expectTypeOf(payload.source).toEqualTypeOf<'local' | 'other-tab'>();
    });
    auth.on('sessionExpired', (payload) => {
      expectTypeOf(payload.reason).toEqualTypeOf<'refresh-rejected' | 'idle' | 'no-refresh-token' | 'other-tab'>();
      expectTypeOf(payload.error).toEqualTypeOf<AuthFetchError | undefined>();
    });
    auth.on('unauthorized', (error) => expectTypeOf(error).toEqualTypeOf<UnauthorizedError>());
    auth.on('forbidden', (error) => expectTypeOf(error.requiredScope).toEqualTypeOf<string[] | undefined>());
    auth.on('stepUp', (payload) => expectTypeOf(payload.acrValues).toEqualTypeOf<string[] | undefined>());
    auth.on('loginRequired', (payload) => expectTypeOf(payload.pending).toBeNumber());
    expectTypeOf(auth.on('login', () => undefined)).toEqualTypeOf<() => void>();
    // @ts-expect-error: not an event
    auth.on('nope', () => undefined);
    // @ts-expect-error: the refresh payload has no `reason`
    auth.on('refresh', (payload) => payload.reason);
    expectTypeOf<AuthEvents['logout']>().toEqualTypeOf<{ source: 'local' | 'other-tab' }>();
  });

  it('login takes a TokenSet or a raw OAuth token response', () => {
    const auth = createAuthClient();
    expectTypeOf(auth.login).toBeCallableWith({ accessToken: 'a', expiresAt: 1 });
    expectTypeOf(auth.login).toBeCallableWith({ access_token: 'a', expires_in: 300, refresh_token: 'r' });
    // @ts-expect-error: neither shape
    void auth.login({ token: 'a' });
  });

  it('strategies and storages have the contract shapes', () => {
    expectTypeOf(oauth2Refresh({ tokenEndpoint: 'https://a/token', clientId: 'c' })).toEqualTypeOf<RefreshStrategy>();
    expectTypeOf(sessionRefresh({ url: '/bff/token' })).toEqualTypeOf<RefreshStrategy>();
    expectTypeOf(customRefresh(async () => ({ accessToken: 'a' }))).toEqualTypeOf<RefreshStrategy>();
    expectTypeOf(memoryStorage()).toEqualTypeOf<TokenStorage>();
    expectTypeOf(indexedDbStorage({ name: 'x' })).toEqualTypeOf<TokenStorage>();
    expectTypeOf<TokenSet>().toHaveProperty('accessToken').toBeString();
    expectTypeOf(parseChallenges('Bearer')).toEqualTypeOf<Challenge[]>();
  });

  it('dpop() is synchronous and its members are async', () => {
    const key = dpop({ keyStorage: 'memory', rotateOnLogout: true });
    expectTypeOf(key).toMatchTypeOf<Dpop>();
    expectTypeOf(key.proof('GET', 'https://api.example.com/x', { accessToken: 'a' })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(key.thumbprint()).toEqualTypeOf<Promise<string>>();
    expectTypeOf(key.keyPair()).toEqualTypeOf<Promise<CryptoKeyPair>>();
    expectTypeOf(createAuthClient).toBeCallableWith({ dpop: key });
    // @ts-expect-error: only 'indexeddb' or 'memory'
    dpop({ keyStorage: 'localStorage' });
  });

  it('errors form one hierarchy with literal codes', () => {
    expectTypeOf<UnauthorizedError>().toMatchTypeOf<HttpError>();
    expectTypeOf<ForbiddenError>().toMatchTypeOf<HttpError>();
    expectTypeOf<NotFoundError>().toMatchTypeOf<HttpError>();
    expectTypeOf<RateLimitError>().toMatchTypeOf<HttpError>();
    expectTypeOf<ServerError>().toMatchTypeOf<HttpError>();
    expectTypeOf<HttpError>().toMatchTypeOf<AuthFetchError>();
    expectTypeOf<NetworkError>().toMatchTypeOf<AuthFetchError>();
    expectTypeOf<TimeoutError>().toMatchTypeOf<AuthFetchError>();
    expectTypeOf<SessionExpiredError>().toMatchTypeOf<AuthFetchError>();
    expectTypeOf<TokenResponseError>().toMatchTypeOf<AuthFetchError>();
    expectTypeOf<ForbiddenError['code']>().toEqualTypeOf<'ERR_FORBIDDEN'>();
    expectTypeOf<AuthFetchError['action']>().toEqualTypeOf<UserAction>();
    expectTypeOf<AuthFetchError['code']>().toEqualTypeOf<ErrorCode>();
    const value: unknown = null;
    if (isForbiddenError(value)) expectTypeOf(value).toEqualTypeOf<ForbiddenError>();
  });
});
