/**
 * authfetch/testing in vitest's node environment: the kit's token endpoint and protected API, driven by a real
 * `createAuthClient` through msw, meet each case an app's UI must handle (DESIGN.md "For the app's own code and
 * tests"), and its server side behaves as RFC 6749 section 6, RFC 6750 section 3, RFC 9470 and RFC 9700 4.14.2 say.
 */
import { http, HttpResponse } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import {
  ForbiddenError,
  ServerError,
  SessionExpiredError,
  UnauthorizedError,
  parseChallenges,
  type AuthClient,
} from '../src/index.js';
import { createTestAuth } from '../src/testing/index.js';
import { API, useTestAuth } from './helpers/test-auth.js';
import { recordEvents } from './helpers/events.js';
import { caught } from './helpers/caught.js';

const { kit, client } = useTestAuth({
  routes: [http.get(`${API}/todos`, () => HttpResponse.json([{ id: 1, title: 'Milk' }]))],
});

/** A refresh_token grant sent by hand, as a second client holding a copied refresh token would. */
async function grant(refreshToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(kit.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'test-app' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the protected API', () => {
  it('answers 200 JSON for a signed-in client, saying for whom', async () => {
    const auth = client();
    await auth.login(kit.signIn({ subject: 'ada' }));
    expect(await auth.http.get('me').json()).toEqual({ ok: true, method: 'GET', path: '/me', subject: 'ada' });
    expect(kit.counts).toEqual({ refresh: 0, api: 1 });
  });

  it('answers 401 with an RFC 6750 challenge without a token, and invalid_token for an unknown one', async () => {
    const missing = await fetch(`${API}/me`);
    expect(missing.status).toBe(401);
    expect(parseChallenges(missing.headers.get('www-authenticate') ?? '')).toEqual([
      { scheme: 'bearer', params: { realm: 'test-api' } },
    ]);
    const unknown = await fetch(`${API}/me`, { headers: { authorization: 'Bearer at_forged' } });
    expect(unknown.status).toBe(401);
    expect(parseChallenges(unknown.headers.get('www-authenticate') ?? '')[0]?.params.error).toBe('invalid_token');
    expect(kit.counts.api).toBe(2);
  });

  it('protects the origin root and any query, and takes the scheme name in any case (RFC 9110 11.1)', async () => {
    const { access_token } = kit.signIn();
    expect((await fetch(`${API}/`)).status).toBe(401);
    expect((await fetch(`${API}/?q=1`, { headers: { authorization: `bearer ${access_token}` } })).status).toBe(200);
    expect((await fetch(`${API}/a/b?c=d`, { headers: { authorization: `Basic ${access_token}` } })).status).toBe(401);
  });

  it("passes valid requests to the app's own routes, and keeps them behind the token check", async () => {
    expect((await fetch(`${API}/todos`)).status).toBe(401);
    const auth = client();
    await auth.login(kit.signIn());
    expect(await auth.http.get('todos').json()).toEqual([{ id: 1, title: 'Milk' }]);
  });

  it('sends a request body through to the routes after a replay', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    kit.expireAccessTokens();
    const answer = await auth.http.post('notes', { json: { text: 'hi' } }).json<{ path: string; method: string }>();
    expect(answer).toMatchObject({ method: 'POST', path: '/notes' });
    expect(kit.counts).toEqual({ refresh: 1, api: 2 });
  });
});

describe('expireAccessTokens', () => {
  it('makes the next request meet a 401, refresh once (rotating the refresh token) and replay', async () => {
    const auth = client();
    const signedIn = kit.signIn();
    await auth.login(signedIn);
    const refreshes = recordEvents(auth, ['refresh']).refresh;
    kit.expireAccessTokens();
    const results = await Promise.all([auth.http.get('a').json(), auth.http.get('b').json(), auth.http.get('c').json()]);
    expect(results).toHaveLength(3);
    expect(kit.counts.refresh).toBe(1);
    expect(refreshes).toEqual([expect.objectContaining({ trigger: 'unauthorized', source: 'local' })]);
    // Rotation: the refresh token of the sign-in was spent.
    expect((await grant(signedIn.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('says "expired" in the challenge', async () => {
    const { access_token } = kit.signIn();
    kit.expireAccessTokens();
    const response = await fetch(`${API}/me`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(response.headers.get('www-authenticate')).toBe(
      'Bearer realm="test-api", error="invalid_token", error_description="The access token expired"',
    );
  });
});

describe('refresh-token rotation and reuse detection', () => {
  it('a spent refresh token presented again ends the whole family: the client meets the end of its session', async () => {
    const auth = client();
    const first = kit.signIn();
    await auth.login(first);
    kit.expireAccessTokens();
    await auth.http.get('me').json(); // the client rotates: `first.refresh_token` is spent
    const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;

    const reuse = await grant(first.refresh_token);
    expect(reuse).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'The refresh token was already used' } });

    // The family ended: the client's current access token is refused, and so is its current refresh token.
    const error = await caught(auth.http.get('me').json());
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(expired).toEqual([expect.objectContaining({ reason: 'refresh-rejected' })]);
    expect(auth.session.status).toBe('expired');
  });

  it('keeps other families (other users) signed in', async () => {
    const a = kit.signIn({ subject: 'a' });
    const b = kit.signIn({ subject: 'b' });
    const rotated = await grant(a.refresh_token);
    expect(rotated.status).toBe(200);
    await grant(a.refresh_token); // reuse: a's family ends
    expect((await grant(String(rotated.body.refresh_token))).status).toBe(400);
    expect((await grant(b.refresh_token)).status).toBe(200);
  });

  it('answers as RFC 6749 section 5 says: no-store, form bodies only, refresh_token grant only', async () => {
    const { refresh_token } = kit.signIn();
    const ok = await fetch(kit.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=refresh_token&refresh_token=${encodeURIComponent(refresh_token)}`,
    });
    expect(ok.headers.get('cache-control')).toBe('no-store');
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'openid profile' });
    const json = await fetch(kit.tokenEndpoint, { method: 'POST', body: JSON.stringify({ grant_type: 'refresh_token' }) });
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });
    const password = await fetch(kit.tokenEndpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'password' }) });
    expect(await password.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });
});

describe('revokeSession', () => {
  it('ends the session at the next request: sessionExpired, then SessionExpiredError', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;
    const loginRequired = recordEvents(auth, ['loginRequired']).loginRequired;
    kit.revokeSession();
    const error = await caught(auth.http.get('me').json());
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1));
    expect(kit.counts).toEqual({ refresh: 1, api: 1 });
  });
});

describe('failRefresh', () => {
  it('a flaky token endpoint: failures within the retries are absorbed', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    kit.failRefresh(503, 2);
    kit.expireAccessTokens();
    expect(await auth.http.get('me').json()).toMatchObject({ ok: true });
    expect(kit.counts.refresh).toBe(3);
  });

  it('a token endpoint that stays down: refreshError, the typed error, and the session kept for the next try', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    const refreshErrors = recordEvents(auth, ['refreshError']).refreshError;
    kit.failRefresh(503, 3);
    kit.expireAccessTokens();
    const error = await caught(auth.http.get('me').json());
    expect(error).toBeInstanceOf(ServerError);
    expect(refreshErrors).toHaveLength(1);
    expect(auth.session.status).toBe('active');
    expect(await auth.http.get('me').json()).toMatchObject({ ok: true });
    expect(kit.counts.refresh).toBe(4);
  });

  it("'network' fails without an answer", async () => {
    kit.failRefresh('network');
    const error = await caught(fetch(kit.tokenEndpoint, { method: 'POST' }));
    expect(error).toBeInstanceOf(TypeError);
  });

  it('400 is a rejected grant: the session ends', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    kit.failRefresh(400);
    await expect(auth.refresh()).rejects.toBeInstanceOf(SessionExpiredError);
  });
});

describe('forbid', () => {
  it('403 with insufficient_scope and the scope: ForbiddenError, the forbidden event, no refresh', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    const forbidden = recordEvents(auth, ['forbidden']).forbidden;
    kit.forbid('/admin', 'admin');
    const error = await caught(auth.http.get('admin/users').json());
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).requiredScope).toEqual(['admin']);
    expect((error as ForbiddenError).action).toBe('request-access');
    expect(forbidden).toHaveLength(1);
    expect(kit.counts.refresh).toBe(0);
    // Only the subtree: /administrator is another path.
    expect(await auth.http.get('administrator').json()).toMatchObject({ ok: true });
  });

  it('lets a token with the scope through, and forbids everyone without a scope', async () => {
    const auth = client();
    await auth.login(kit.signIn({ scope: 'openid admin' }));
    kit.forbid('/admin', 'admin');
    kit.forbid('/vault');
    expect(await auth.http.get('admin').json()).toMatchObject({ path: '/admin' });
    expect(await auth.fetch(`${API}/vault`).then((r) => r.status)).toBe(403);
  });
});

describe('requireStepUp', () => {
  it('401 insufficient_user_authentication with acr_values: stepUp, UnauthorizedError, no refresh', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    const stepUps = recordEvents(auth, ['stepUp']).stepUp;
    kit.requireStepUp('/payments', 'mfa');
    const error = await caught(auth.http.post('payments', { json: { amount: 5 } }).json());
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).reason).toBe('step-up-required');
    expect(stepUps).toEqual([expect.objectContaining({ acrValues: ['mfa'] })]);
    expect(kit.counts.refresh).toBe(0);

    // The stronger sign-in the app would obtain gets through.
    await auth.login(kit.signIn({ acr: 'mfa' }));
    expect(await auth.http.post('payments', { json: { amount: 5 } }).json()).toMatchObject({ path: '/payments' });
  });
});

describe('counts and reset', () => {
  it('reset() forgets tokens, counts and every switched-on case', async () => {
    const { access_token } = kit.signIn();
    kit.forbid('/x');
    kit.failRefresh(500, 5);
    await fetch(`${API}/x`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(kit.counts.api).toBe(1);
    kit.reset();
    expect(kit.counts).toEqual({ refresh: 0, api: 0 });
    expect((await fetch(`${API}/x`, { headers: { authorization: `Bearer ${access_token}` } })).status).toBe(401);
    const fresh = kit.signIn();
    expect((await fetch(`${API}/x`, { headers: { authorization: `Bearer ${fresh.access_token}` } })).status).toBe(200);
    expect((await grant(fresh.refresh_token)).status).toBe(200);
  });
});

describe('createTestAuth options', () => {
  it('takes a token endpoint on another origin and a token lifetime', async () => {
    const other = createTestAuth({ apiOrigin: 'http://127.0.0.1:9', tokenEndpoint: 'https://id.example.test/token', accessTokenLifetime: 60 });
    expect(other.tokenEndpoint).toBe('https://id.example.test/token');
    expect(other.signIn().expires_in).toBe(60);
  });

  it('refuses what it cannot mean', () => {
    expect(() => createTestAuth({ apiOrigin: 'api.example.test' })).toThrow(TypeError);
    expect(() => createTestAuth({ apiOrigin: `${API}/v1` })).toThrow(/without a path/);
    expect(() => createTestAuth({ apiOrigin: 'ftp://x.test' })).toThrow(TypeError);
    expect(() => createTestAuth({ apiOrigin: API, accessTokenLifetime: 0 })).toThrow(TypeError);
    expect(() => kit.failRefresh(200)).toThrow(TypeError);
    expect(() => kit.failRefresh(503, 0)).toThrow(TypeError);
    expect(() => kit.forbid('admin')).toThrow(TypeError);
    expect(() => kit.requireStepUp('/x', 'two words')).toThrow(TypeError);
    expect(() => kit.requireStepUp('/x', [])).toThrow(TypeError);
  });
});
