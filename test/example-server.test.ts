/**
 * The example API and token server (examples/server) that the demo, the tests, the benchmarks and the
 * browser example share: its token endpoint, API authentication and routes, refresh token rotation and opaque
 * tokens behave as documented. Faults, the cookie session, clock skew, stats, CORS, static files and close() are
 * in example-server-faults.test.ts.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { startExampleServer, CLIENT_ID, type ExampleServer, type OAuthTokenResponse } from '../examples/server/index.mjs';
import { form, passwordGrant, refreshGrant, signIn, me } from './helpers/example-requests.js';

let server: ExampleServer;

beforeAll(async () => {
  server = await startExampleServer();
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  server.setFault('none');
  server.resetStats();
});

describe('token endpoint: password grant', () => {
  it('signs alice in with a token response that is not cached', async () => {
    const res = await passwordGrant(server.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as OAuthTokenResponse;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 300,
      refresh_token: expect.any(String),
      scope: 'openid profile api',
    });
    expect(server.stats.tokenCalls).toBe(1);
    expect(server.stats.refreshCalls).toBe(0);
  });

  it('rejects a wrong password with invalid_grant and a missing client with invalid_client', async () => {
    const wrong = await passwordGrant(server.url, { password: 'looking-glass' });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });

    const noClient = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'password', username: 'alice', password: 'wonderland' }));
    expect(noClient.status).toBe(401);
    expect(await noClient.json()).toMatchObject({ error: 'invalid_client' });

    const otherClient = await passwordGrant(server.url, { client_id: 'evil' });
    expect(otherClient.status).toBe(401);

    const json = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', client_id: CLIENT_ID, username: 'alice', password: 'wonderland' }),
    });
    expect(json.status).toBe(400);
    expect(await json.json()).toMatchObject({ error: 'invalid_request' });

    const unsupported = await fetch(`${server.url}/oauth/token`, form({ grant_type: 'client_credentials', client_id: CLIENT_ID }));
    expect(await unsupported.json()).toEqual({ error: 'unsupported_grant_type' });
  });

  it('issues ES256 JWTs with sub, scope, iat, exp = iat + ttl, jti and acr, verifiable with the JWKS', async () => {
    const tokens = await signIn(server.url, { scope: 'openid api admin' });
    const jwks = (await (await fetch(`${server.url}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks));
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ sub: 'alice', scope: 'openid api admin', acr: 'pwd' });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(Math.abs(payload.iat! * 1000 - Date.now())).toBeLessThan(5000);
    expect(typeof payload.jti).toBe('string');
    const again = decodeJwt((await signIn(server.url)).access_token);
    expect(again.jti).not.toBe(payload.jti);
  });

  it('refuses an unknown scope', async () => {
    const res = await passwordGrant(server.url, { scope: 'openid root' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_scope' });
  });
});

describe('API authentication', () => {
  it('answers /api/me with a valid token and records what it got', async () => {
    const tokens = await signIn(server.url);
    const res = await me(server.url, tokens.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'alice', name: 'Alice Liddell', scope: 'openid profile api' });
    expect(server.stats.lastAuthorization['/api/me']).toBe(`Bearer ${tokens.access_token}`);
  });

  it('challenges a request without credentials with a bare Bearer challenge', async () => {
    const res = await me(server.url);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="example"');
    expect(server.stats.lastAuthorization['/api/me']).toBeUndefined();
    // Another scheme is no Bearer credential either.
    const basic = await me(server.url, 'YWxpY2U6d29uZGVybGFuZA==', 'Basic');
    expect(basic.headers.get('www-authenticate')).toBe('Bearer realm="example"');
  });

  it('answers invalid_token for a bad token and says "expired" for an expired one', async () => {
    const bad = await me(server.url, 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token is invalid"',
    );

    const tokens = await signIn(server.url);
    const [header, payload] = tokens.access_token.split('.');
    const forged = `${header}.${payload}.${'A'.repeat(86)}`;
    expect((await me(server.url, forged)).headers.get('www-authenticate')).toContain('The access token is invalid');

    const expired = await server.issueTokens({ ttl: 0 });
    const res = await me(server.url, expired.access_token);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    );
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('uses the same check on every /api route', async () => {
    for (const route of ['/api/admin', '/api/items/1', '/api/step-up', '/api/echo', '/api/slow?ms=0', '/api/status/200', '/api/nope']) {
      const res = await fetch(`${server.url}${route}`, { headers: { Authorization: 'Bearer nope' } });
      expect(res.status, route).toBe(401);
      expect(res.headers.get('www-authenticate'), route).toContain('error="invalid_token"');
    }
  });

  it('expireAll() invalidates every access token issued so far but no refresh token', async () => {
    const a = await signIn(server.url);
    const b = await server.issueTokens();
    server.expireAll();
    for (const token of [a.access_token, b.access_token]) {
      const res = await me(server.url, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('The access token expired');
    }
    const refreshed = await refreshGrant(server.url, a.refresh_token);
    expect(refreshed.status).toBe(200);
    const fresh = (await refreshed.json()) as OAuthTokenResponse;
    expect((await me(server.url, fresh.access_token)).status).toBe(200);
  });
});

describe('API routes', () => {
  let tokens: OAuthTokenResponse;
  const auth = () => ({ headers: { Authorization: `Bearer ${tokens.access_token}` } });

  beforeAll(async () => {
    tokens = await server.issueTokens();
  });

  it('forbids /api/admin with insufficient_scope and a problem details body, unless the scope has admin', async () => {
    const res = await fetch(`${server.url}/api/admin`, auth());
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="example", error="insufficient_scope", scope="admin"');
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toEqual({ type: expect.any(String), title: 'Forbidden', status: 403, detail: 'Admins only' });

    const admin = await server.issueTokens({ scope: 'openid api admin' });
    const ok = await fetch(`${server.url}/api/admin`, { headers: { Authorization: `Bearer ${admin.access_token}` } });
    expect(ok.status).toBe(200);
  });

  it('serves items 1..3 and a 404 problem for others', async () => {
    for (const id of [1, 2, 3]) {
      const res = await fetch(`${server.url}/api/items/${id}`, auth());
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id, name: expect.any(String) });
    }
    const missing = await fetch(`${server.url}/api/items/4`, auth());
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, title: 'Not Found' });
  });

  it('asks for step-up (RFC 9470) unless the token has acr=mfa', async () => {
    const res = await fetch(`${server.url}/api/step-up`, auth());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="mfa", max_age=300',
    );
    const mfa = await server.issueTokens({ acr: 'mfa' });
    expect((await fetch(`${server.url}/api/step-up`, { headers: { Authorization: `Bearer ${mfa.access_token}` } })).status).toBe(200);
    const otp = await signIn(server.url, { otp: '123456' });
    expect(decodeJwt(otp.access_token).acr).toBe('mfa');
  });

  it('echoes text bodies as text and binary bodies as base64', async () => {
    const json = await fetch(`${server.url}/api/echo`, {
      method: 'PUT',
      headers: { ...auth().headers, 'Content-Type': 'application/json' },
      body: JSON.stringify({ hello: 'wörld' }),
    });
    expect(await json.json()).toEqual({
      method: 'PUT',
      contentType: 'application/json',
      body: '{"hello":"wörld"}',
      bodyEncoding: 'utf8',
      length: Buffer.byteLength('{"hello":"wörld"}'),
    });

    const bytes = new Uint8Array([0xff, 0x00, 0xfe, 0x80]);
    const binary = await fetch(`${server.url}/api/echo`, {
      method: 'POST',
      headers: { ...auth().headers, 'Content-Type': 'application/octet-stream' },
      body: bytes,
    });
    const echoed = (await binary.json()) as { body: string; bodyEncoding: string; length: number };
    expect(echoed.bodyEncoding).toBe('base64');
    expect(echoed.length).toBe(4);
    expect([...Buffer.from(echoed.body, 'base64')]).toEqual([...bytes]);

    const empty = await fetch(`${server.url}/api/echo`, auth());
    expect(await empty.json()).toMatchObject({ method: 'GET', contentType: null, body: '', length: 0 });
  });

  it('answers /api/status/:code with that status, a JSON body and Retry-After on request', async () => {
    const res = await fetch(`${server.url}/api/status/503?retryAfter=2`, auth());
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
    expect(await res.json()).toMatchObject({ status: 503 });
    const noContent = await fetch(`${server.url}/api/status/204`, auth());
    expect(noContent.status).toBe(204);
    expect(await noContent.text()).toBe('');
    const teapot = await fetch(`${server.url}/api/status/418`, { ...auth(), method: 'POST' });
    expect(teapot.status).toBe(418);
  });

  it('checks the token on arrival for /api/slow and after the wait for /api/slow-check', async () => {
    const own = await server.issueTokens();
    const headers = { Authorization: `Bearer ${own.access_token}` };
    const started = Date.now();
    const slow = fetch(`${server.url}/api/slow?ms=250`, { headers });
    const slowCheck = fetch(`${server.url}/api/slow-check?ms=250`, { headers });
    await new Promise((resolve) => setTimeout(resolve, 80));
    server.expireAll();
    const [a, b] = await Promise.all([slow, slowCheck]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    expect(a.status).toBe(200);
    expect(await a.json()).toEqual({ ok: true });
    expect(b.status).toBe(401);
    expect(b.headers.get('www-authenticate')).toContain('The access token expired');
    tokens = await server.issueTokens();
  });

  it('counts a slow request whose client went away before the answer in clientAborts', async () => {
    server.resetStats();
    const controller = new AbortController();
    const pending = fetch(`${server.url}/api/slow?ms=20000`, { ...auth(), signal: controller.signal }).catch((error: unknown) => error);
    await vi.waitFor(() => expect(server.stats.requestsByPath['/api/slow']).toBe(1), { timeout: 3000, interval: 5 });
    expect(server.stats.clientAborts).toBe(0);
    controller.abort();
    expect(((await pending) as DOMException).name).toBe('AbortError');
    await vi.waitFor(() => expect(server.stats.clientAborts).toBe(1), { timeout: 3000, interval: 5 });
    // An answered request is not one.
    await (await fetch(`${server.url}/api/slow?ms=1`, auth())).text();
    expect(server.stats.clientAborts).toBe(1);
  });

  it('redirects, and a token sent to it does not follow to another origin', async () => {
    const other = await startExampleServer();
    try {
      const target = `${other.url}/api/echo`;
      const manual = await fetch(`${server.url}/api/redirect?to=${encodeURIComponent(target)}`, { ...auth(), redirect: 'manual' });
      expect(manual.status).toBe(302);
      expect(manual.headers.get('location')).toBe(target);

      const followed = await fetch(`${server.url}/api/redirect?to=${encodeURIComponent(target)}`, auth());
      expect(followed.status).toBe(401);
      expect(other.stats.requestsByPath['/api/echo']).toBe(1);
      expect(other.stats.lastAuthorization['/api/echo']).toBeUndefined();
      expect(server.stats.lastAuthorization['/api/redirect']).toBe(`Bearer ${tokens.access_token}`);
    } finally {
      await other.close();
    }
  });

  it('answers /public/ping without auth', async () => {
    const res = await fetch(`${server.url}/public/ping`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });
});

describe('refresh token rotation', () => {
  it('rotates the refresh token on every use', async () => {
    const first = await signIn(server.url);
    const res = await refreshGrant(server.url, first.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const second = (await res.json()) as OAuthTokenResponse;
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.token_type).toBe('Bearer');
    expect((await me(server.url, second.access_token)).status).toBe(200);
    const third = (await (await refreshGrant(server.url, second.refresh_token)).json()) as OAuthTokenResponse;
    expect(third.refresh_token).not.toBe(second.refresh_token);
    expect(server.stats.refreshCalls).toBe(2);
  });

  it('detects reuse of a spent refresh token and revokes the whole family, not other families', async () => {
    const first = await signIn(server.url);
    const bystander = await signIn(server.url);
    const second = (await (await refreshGrant(server.url, first.refresh_token)).json()) as OAuthTokenResponse;

    const reuse = await refreshGrant(server.url, first.refresh_token);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toEqual({ error: 'invalid_grant', error_description: 'refresh token reuse detected' });
    expect(server.stats.reuseDetected).toBe(1);

    const current = await refreshGrant(server.url, second.refresh_token);
    expect(current.status).toBe(400);
    expect(await current.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await refreshGrant(server.url, bystander.refresh_token)).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(4);
  });

  it('rejects an unknown refresh token and keeps the scope within the original grant', async () => {
    const unknown = await refreshGrant(server.url, 'made-up');
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ error: 'invalid_grant' });
    expect(server.stats.refreshCalls).toBe(1);

    const tokens = await signIn(server.url, { scope: 'openid api' });
    const wider = await refreshGrant(server.url, tokens.refresh_token, { scope: 'openid api admin' });
    expect(await wider.json()).toMatchObject({ error: 'invalid_scope' });
    const narrower = await refreshGrant(server.url, tokens.refresh_token, { scope: 'api' });
    expect(((await narrower.json()) as OAuthTokenResponse).scope).toBe('api');
  });

  it('revokeRefreshTokens() rejects every refresh token', async () => {
    const a = await signIn(server.url);
    const b = await server.issueTokens();
    server.revokeRefreshTokens();
    for (const rt of [a.refresh_token, b.refresh_token]) {
      const res = await refreshGrant(server.url, rt);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    }
    expect((await me(server.url, a.access_token)).status).toBe(200);
  });

  it('issueTokens() starts a fresh family with the given claims', async () => {
    const tokens = await server.issueTokens({ sub: 'bob', scope: 'api', ttl: 60, acr: 'mfa' });
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 60, scope: 'api' });
    const claims = decodeJwt(tokens.access_token);
    expect(claims).toMatchObject({ sub: 'bob', scope: 'api', acr: 'mfa' });
    expect(claims.exp! - claims.iat!).toBe(60);
    const refreshed = (await (await refreshGrant(server.url, tokens.refresh_token)).json()) as OAuthTokenResponse;
    expect(decodeJwt(refreshed.access_token)).toMatchObject({ sub: 'bob', scope: 'api', acr: 'mfa' });
  });

  it('waits refreshDelayMs, spending the token on arrival so a racing second use is a reuse', async () => {
    const slow = await startExampleServer({ refreshDelayMs: 200 });
    try {
      const tokens = await slow.issueTokens();
      const started = Date.now();
      const [a, b] = await Promise.all([refreshGrant(slow.url, tokens.refresh_token), refreshGrant(slow.url, tokens.refresh_token)]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      expect([a.status, b.status].sort()).toEqual([200, 400]);
      expect(slow.stats.reuseDetected).toBe(1);
      expect(slow.stats.refreshCalls).toBe(2);
    } finally {
      await slow.close();
    }
  });
});

describe('opaque tokens', () => {
  it('issues random access tokens the API accepts until they expire', async () => {
    const opaque = await startExampleServer({ opaqueTokens: true });
    try {
      const tokens = await signIn(opaque.url);
      expect(tokens.access_token).not.toContain('.');
      expect(() => decodeJwt(tokens.access_token)).toThrow();
      expect((await me(opaque.url, tokens.access_token)).status).toBe(200);
      const refreshed = (await (await refreshGrant(opaque.url, tokens.refresh_token)).json()) as OAuthTokenResponse;
      expect((await me(opaque.url, refreshed.access_token)).status).toBe(200);

      opaque.expireAll();
      const expired = await me(opaque.url, refreshed.access_token);
      expect(expired.headers.get('www-authenticate')).toContain('The access token expired');
      const short = await opaque.issueTokens({ ttl: 0 });
      expect((await me(opaque.url, short.access_token)).headers.get('www-authenticate')).toContain('expired');
      expect((await me(opaque.url, 'unknown')).headers.get('www-authenticate')).toContain('is invalid');
    } finally {
      await opaque.close();
    }
  });
});
