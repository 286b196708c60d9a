/**
 * `oidc()` in Node against a real provider (oidc-provider): discovery, the authorization code flow with PKCE, state
 * and nonce, `session.user`, refresh at the discovered token endpoint, a confidential client with
 * `client_secret_basic`, revocation at logout, and one exchange per code. The authorization URL is opened by the test
 * (`signIn({ openUrl })`), which fills the provider's login form over HTTP as a browser would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignInError, dpop, memoryStorage, oidc, type AuthClient, type OidcOptions } from '../../src/index.js';
import { useClients } from '../helpers/example.js';
import { startOidcProvider, type OidcHarness, type ResourceServer } from '../helpers/oidc.js';

const createClient = useClients();
const REDIRECT = 'http://127.0.0.1/app/callback';
const SPA = {
  client_id: 'node-spa',
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  redirect_uris: [REDIRECT],
  post_logout_redirect_uris: ['http://127.0.0.1/app/'],
  id_token_signed_response_alg: 'ES256',
};
const CONFIDENTIAL = {
  ...SPA,
  client_id: 'node-confidential',
  client_secret: 'a-long-enough-client-secret-for-the-test-0123456789',
  token_endpoint_auth_method: 'client_secret_basic',
};

/** The error a promise rejects with (fails the test when it resolves). */
async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('oidc() against oidc-provider', () => {
  let op: OidcHarness;
  let api: ResourceServer;

  beforeAll(async () => {
    op = await startOidcProvider({ clients: [SPA, CONFIDENTIAL], rotateRefreshTokens: true });
    api = await op.startResourceServer();
  });
  afterAll(() => op.close());

  function client(options: Partial<OidcOptions> = {}, extra: Parameters<typeof createClient>[0] = {}): AuthClient {
    return createClient({
      baseUrl: api.url,
      storage: memoryStorage(),
      refresh: oidc({ issuer: op.issuer, clientId: SPA.client_id, redirectUri: REDIRECT, ...options }),
      ...extra,
    });
  }

  /** signIn() with the URL captured, the provider's forms filled, and the callback URL returned. */
  async function signInOverHttp(auth: AuthClient, options: Parameters<AuthClient['signIn']>[0] = {}): Promise<string> {
    let authorizationUrl: string | undefined;
    await auth.signIn({ ...options, openUrl: (url) => void (authorizationUrl = url) });
    if (!authorizationUrl) throw new Error('signIn did not open a URL');
    // prompt=consent: oidc-provider grants offline_access (a refresh token) only after an explicit consent.
    const url = new URL(authorizationUrl);
    return op.authorize(url.href, { until: REDIRECT });
  }

  it('signs in with code + PKCE S256, state and nonce, and exposes the ID token claims as session.user', async () => {
    const auth = client({ extraAuthParams: { prompt: 'consent' } });
    let authorizationUrl = '';
    await auth.signIn({ state: '/orders/42', openUrl: (url) => void (authorizationUrl = url) });
    const sent = new URL(authorizationUrl).searchParams;
    expect(new URL(authorizationUrl).origin + new URL(authorizationUrl).pathname).toBe(`${op.issuer}/auth`);
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(sent.get('state')).toMatch(/^[\w-]{20,}$/);
    expect(sent.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(sent.get('scope')).toBe('openid offline_access');
    expect(auth.session.status).toBe('signed-out');

    const callback = await op.authorize(authorizationUrl, { until: REDIRECT, accountId: 'bob' });
    // RFC 9207: oidc-provider sends iss with every response.
    expect(new URL(callback).searchParams.get('iss')).toBe(op.issuer);
    const logins: unknown[] = [];
    auth.on('login', (event) => logins.push(event));
    await expect(auth.handleRedirect(callback)).resolves.toEqual({ state: '/orders/42' });
    expect(logins).toHaveLength(1);
    expect(auth.session.status).toBe('active');
    expect(auth.session.user).toMatchObject({ sub: 'bob', iss: op.issuer, aud: SPA.client_id, nonce: sent.get('nonce') });

    const me = await auth.http.get('me').json<{ sub: string; clientId: string }>();
    expect(me).toMatchObject({ sub: 'bob', clientId: SPA.client_id });
  });

  it('refreshes at the discovered token endpoint, rotating the refresh token, and keeps session.user', async () => {
    const auth = client({ extraAuthParams: { prompt: 'consent' } });
    await auth.handleRedirect(await signInOverHttp(auth));
    const before = await auth.getAccessToken();
    const refreshed: unknown[] = [];
    auth.on('refresh', (event) => refreshed.push(event));
    const grants = op.stats.refreshSucceeded;
    await auth.refresh();
    expect(op.stats.refreshSucceeded).toBe(grants + 1);
    expect(refreshed).toHaveLength(1);
    expect(await auth.getAccessToken()).not.toBe(before);
    expect(auth.session.user?.sub).toBe('alice');
  });

  it('resolves undefined for a URL that is no sign-in response', async () => {
    const auth = client();
    await expect(auth.handleRedirect('http://127.0.0.1/app/callback')).resolves.toBeUndefined();
    await expect(auth.handleRedirect('http://127.0.0.1/app/callback?page=2')).resolves.toBeUndefined();
    // Another page that happens to carry code and state is not the redirect URI.
    await expect(auth.handleRedirect('http://127.0.0.1/app/other?code=x&state=y')).resolves.toBeUndefined();
    expect(auth.session.status).toBe('signed-out');
  });

  it('refuses a response whose state belongs to no sign-in started here (invalid-state)', async () => {
    const auth = client();
    const error = await caught(auth.handleRedirect(`${REDIRECT}?code=abc&state=forged&iss=${encodeURIComponent(op.issuer)}`));
    expect(error).toBeInstanceOf(SignInError);
    expect(error).toMatchObject({ code: 'ERR_SIGN_IN', reason: 'invalid-state', action: 'sign-in' });
    expect((error as SignInError).userMessage).not.toMatch(/state|oauth/i);
  });

  it('refuses a response that names another issuer (RFC 9207), before using the code', async () => {
    const auth = client();
    const callback = new URL(await signInOverHttp(auth));
    callback.searchParams.set('iss', 'https://attacker.example');
    const error = await caught(auth.handleRedirect(callback.href));
    expect(error).toMatchObject({ name: 'SignInError', reason: 'invalid-response' });
    expect(auth.session.status).toBe('signed-out');
    // The code was never spent: the provider still has it (the harness can exchange nothing for us, so check the
    // absence of a grant instead): the client stays signed out and no token was stored.
    expect(await auth.getAccessToken()).toBeUndefined();
  });

  it('maps the provider error answer to its reason (access_denied, login_required, server_error)', async () => {
    for (const [oauthError, reason] of [
      ['access_denied', 'access-denied'],
      ['login_required', 'login-required'],
      ['server_error', 'server-error'],
      ['invalid_scope', 'invalid-response'],
    ] as const) {
      const auth = client();
      let authorizationUrl = '';
      await auth.signIn({ openUrl: (url) => void (authorizationUrl = url) });
      const state = new URL(authorizationUrl).searchParams.get('state') ?? '';
      const callback = `${REDIRECT}?error=${oauthError}&error_description=${encodeURIComponent('Bearer secret\r\nX')}&state=${state}&iss=${encodeURIComponent(op.issuer)}`;
      const error = await caught(auth.handleRedirect(callback));
      expect(error).toMatchObject({ code: 'ERR_SIGN_IN', reason, oauthError });
      expect((error as Error).message).not.toContain('secret');
    }
  });

  it('exchanges a code once when two handlers meet the same callback (the second resolves with the app state)', async () => {
    const auth = client();
    const other = client();
    let authorizationUrl = '';
    await auth.signIn({ state: 'app-state', openUrl: (url) => void (authorizationUrl = url) });
    const callback = await op.authorize(authorizationUrl, { until: REDIRECT });
    const [first, second] = await Promise.all([auth.handleRedirect(callback), other.handleRedirect(callback)]);
    expect([first, second]).toEqual([{ state: 'app-state' }, { state: 'app-state' }]);
    // Exactly one of them signed in; a second exchange would have been refused and revoked the grant.
    expect([auth.session.status, other.session.status].sort()).toEqual(['active', 'signed-out']);
  });

  it('binds the code and the tokens to the DPoP key (dpop_jkt, a proof on the exchange)', async () => {
    const dop = await startOidcProvider({ clients: [SPA], dpop: true, requireDpopNonce: true });
    try {
      const rs = await dop.startResourceServer();
      const key = dpop({ keyStorage: 'memory' });
      const auth = createClient({
        baseUrl: rs.url,
        dpop: key,
        refresh: oidc({ issuer: dop.issuer, clientId: SPA.client_id, redirectUri: REDIRECT }),
      });
      let authorizationUrl = '';
      await auth.signIn({ openUrl: (url) => void (authorizationUrl = url) });
      expect(new URL(authorizationUrl).searchParams.get('dpop_jkt')).toBe(await key.thumbprint());
      await auth.handleRedirect(await dop.authorize(authorizationUrl, { until: REDIRECT }));
      expect(dop.stats.dpopNonceChallenges).toBeGreaterThanOrEqual(1); // the exchange met use_dpop_nonce and retried
      const token = await auth.getAccessToken();
      const info = await dop.introspect(token ?? '');
      expect((info.cnf as { jkt?: string } | undefined)?.jkt).toBe(await key.thumbprint());
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ tokenType: 'DPoP', sub: 'alice' });
    } finally {
      await dop.close();
    }
  });

  it('refuses a code bound to another key than the client’s (dpop_jkt checked by the provider)', async () => {
    const dop = await startOidcProvider({ clients: [SPA], dpop: true });
    try {
      const auth = createClient({ dpop: dpop({ keyStorage: 'memory' }), refresh: oidc({ issuer: dop.issuer, clientId: SPA.client_id, redirectUri: REDIRECT }) });
      let authorizationUrl = '';
      await auth.signIn({ openUrl: (url) => void (authorizationUrl = url) });
      const other = await dpop({ keyStorage: 'memory', name: 'other' }).thumbprint();
      const tampered = new URL(authorizationUrl);
      tampered.searchParams.set('dpop_jkt', other);
      const error = await caught(auth.handleRedirect(await dop.authorize(tampered.href, { until: REDIRECT })));
      expect(error).toMatchObject({ code: 'ERR_SIGN_IN', reason: 'invalid-response' });
    } finally {
      await dop.close();
    }
  });

  it('a confidential client authenticates with client_secret_basic at the token endpoint (exchange and refresh)', async () => {
    const tokenRequests: { authorization: string | null; body: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input) === op.tokenEndpoint) {
        tokenRequests.push({ authorization: new Headers(init?.headers).get('authorization'), body: String(init?.body) });
      }
      return fetch(input, init);
    };
    const auth = createClient({
      fetch: recording,
      refresh: oidc({
        issuer: op.issuer,
        clientId: CONFIDENTIAL.client_id,
        clientSecret: CONFIDENTIAL.client_secret,
        redirectUri: REDIRECT,
        extraAuthParams: { prompt: 'consent' },
      }),
    });
    await auth.handleRedirect(await signInOverHttp(auth));
    expect(auth.session.status).toBe('active');
    await auth.refresh();
    expect(auth.session.status).toBe('active');
    // Both token requests (the exchange and the refresh) carried the secret in the Authorization header only.
    expect(tokenRequests).toHaveLength(2);
    for (const request of tokenRequests) {
      // RFC 6749 section 2.3.1: id and secret form-urlencoded, joined by a colon, base64.
      const [scheme, credentials = ''] = (request.authorization ?? '').split(' ');
      expect(scheme).toBe('Basic');
      const [id = '', secret = ''] = Buffer.from(credentials, 'base64').toString().split(':');
      expect([decodeURIComponent(id), decodeURIComponent(secret)]).toEqual([CONFIDENTIAL.client_id, CONFIDENTIAL.client_secret]);
      expect(request.body).not.toContain('client_secret');
    }
  });

  it('logout revokes the refresh token (RFC 7009) and clears session.user', async () => {
    const storage = memoryStorage();
    const auth = client({ extraAuthParams: { prompt: 'consent' } }, { storage });
    await auth.handleRedirect(await signInOverHttp(auth));
    const refreshToken = (await storage.get())?.refreshToken ?? '';
    expect((await op.introspect(refreshToken)).active).toBe(true);
    expect(auth.session.user?.sub).toBe('alice');
    const seen: string[] = [];
    auth.on('logout', () => seen.push('logout'));
    await auth.logout({ endSession: true }); // no window here: the provider session is left, with a warning
    expect(seen).toEqual(['logout']);
    expect(auth.session).toEqual({ status: 'signed-out' });
    expect((await op.introspect(refreshToken)).active).toBe(false);
  });

  it('a failing revocation never keeps the user signed in', async () => {
    const auth = client({ extraAuthParams: { prompt: 'consent' } }, { fetch: failingRevocationFetch });
    await auth.handleRedirect(await signInOverHttp(auth));
    await auth.logout();
    expect(auth.session.status).toBe('signed-out');
  });

});

/** The client's fetch, except that the revocation endpoint fails at the network level. */
const failingRevocationFetch: typeof fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  if (url.includes('/token/revocation')) return Promise.reject(new TypeError('fetch failed'));
  return fetch(input, init);
};
