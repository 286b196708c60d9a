/**
 * The example API and token server (examples/server) that the demo, the tests, the benchmarks and the
 * browser example share: its endpoints, faults and test controls behave as documented.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import {
  startExampleServer,
  CLIENT_ID,
  type ExampleServer,
  type OAuthTokenResponse,
} from '../examples/server/index.mjs';

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

function form(params: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  };
}

function passwordGrant(base: string, extra: Record<string, string> = {}, init: RequestInit = {}) {
  return fetch(`${base}/oauth/token`, {
    ...form({ grant_type: 'password', client_id: CLIENT_ID, username: 'alice', password: 'wonderland', ...extra }),
    ...init,
  });
}

function refreshGrant(base: string, refreshToken: string, extra: Record<string, string> = {}) {
  return fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken, ...extra }));
}

async function signIn(base: string, extra: Record<string, string> = {}): Promise<OAuthTokenResponse> {
  const res = await passwordGrant(base, extra);
  expect(res.status).toBe(200);
  return (await res.json()) as OAuthTokenResponse;
}

function me(base: string, token?: string, scheme = 'Bearer') {
  return fetch(`${base}/api/me`, token === undefined ? {} : { headers: { Authorization: `${scheme} ${token}` } });
}

/** A raw HTTP request that keeps the path exactly as written (fetch would normalise `..`). */
function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

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

describe('faults', () => {
  it('answers 503 with Retry-After, then back to normal after `times`, without spending the refresh token', async () => {
    const tokens = await server.issueTokens();
    server.setFault('status-503', { times: 1 });
    const failed = await refreshGrant(server.url, tokens.refresh_token);
    expect(failed.status).toBe(503);
    expect(failed.headers.get('retry-after')).toBe('1');
    const ok = await refreshGrant(server.url, tokens.refresh_token);
    expect(ok.status).toBe(200);
    expect(server.stats.refreshCalls).toBe(2);
    expect(server.stats.reuseDetected).toBe(0);
  });

  it('keeps a fault without `times` until it is cleared', async () => {
    server.setFault('status-500');
    expect((await passwordGrant(server.url)).status).toBe(500);
    expect((await passwordGrant(server.url)).status).toBe(500);
    server.setFault('none');
    expect((await passwordGrant(server.url)).status).toBe(200);
  });

  it('answers garbage: html, a JSON array, an object without access_token, 429, reject', async () => {
    server.setFault('html', { times: 1 });
    const html = await passwordGrant(server.url);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('<html>');

    server.setFault('not-json-object', { times: 1 });
    expect(Array.isArray(await (await passwordGrant(server.url)).json())).toBe(true);

    server.setFault('no-access-token', { times: 1 });
    const noToken = (await (await passwordGrant(server.url)).json()) as Record<string, unknown>;
    expect(noToken).not.toHaveProperty('access_token');

    server.setFault('status-429', { times: 1 });
    const limited = await passwordGrant(server.url);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');

    server.setFault('reject', { times: 1 });
    const rejected = await passwordGrant(server.url);
    expect(rejected.status).toBe(400);
    expect(await rejected.json()).toEqual({ error: 'invalid_grant' });
    expect((await passwordGrant(server.url)).status).toBe(200);
  });

  it('applies a custom fault the given number of times', async () => {
    server.setFault({ status: 502, body: 'Bad Gateway', headers: { 'X-Fault': 'yes' }, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await passwordGrant(server.url);
      expect(res.status).toBe(502);
      expect(res.headers.get('x-fault')).toBe('yes');
      expect(res.headers.get('content-type')).toContain('text/plain');
      expect(await res.text()).toBe('Bad Gateway');
    }
    expect((await passwordGrant(server.url)).status).toBe(200);
  });

  it('hangs until the client gives up', async () => {
    server.setFault('hang', { times: 1 });
    const started = Date.now();
    const error = await passwordGrant(server.url, {}, { signal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('TimeoutError');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.stats.tokenCalls).toBe(1);
  });

  it('resets the connection', async () => {
    server.setFault('reset', { times: 1 });
    await expect(passwordGrant(server.url)).rejects.toThrow(TypeError);
    expect((await passwordGrant(server.url)).status).toBe(200);
  });

  it('applies to the session refresh endpoint too', async () => {
    server.setFault('status-503', { times: 1 });
    expect((await fetch(`${server.url}/session/refresh`, { method: 'POST' })).status).toBe(503);
    server.setFault('reject', { times: 1 });
    const rejected = await fetch(`${server.url}/session/refresh`, { method: 'POST' });
    expect(rejected.status).toBe(401);
    expect(await rejected.json()).toEqual({ error: 'session_expired' });
    expect(server.stats.sessionRefreshCalls).toBe(2);
  });

  it('refuses unknown faults', () => {
    expect(() => server.setFault('explode' as never)).toThrow(TypeError);
  });
});

describe('cookie session', () => {
  async function login(): Promise<string> {
    const res = await fetch(`${server.url}/session/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    const cookie = res.headers.getSetCookie()[0] ?? '';
    expect(cookie).toMatch(/^sid=[\w-]+; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Lax');
    expect(cookie).toContain('Path=/');
    return cookie.split(';')[0]!;
  }

  it('logs in, refreshes access tokens with the cookie, and logs out', async () => {
    const cookie = await login();
    const res = await fetch(`${server.url}/session/refresh`, { method: 'POST', headers: { Cookie: cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; expires_in: number; token_type: string };
    expect(body).toEqual({ access_token: expect.any(String), expires_in: 300, token_type: 'Bearer' });
    expect((await me(server.url, body.access_token)).status).toBe(200);
    const again = (await (await fetch(`${server.url}/session/refresh`, { method: 'POST', headers: { Cookie: cookie } })).json()) as typeof body;
    expect(again.access_token).not.toBe(body.access_token);
    expect(server.stats.sessionRefreshCalls).toBe(2);

    const out = await fetch(`${server.url}/session/logout`, { method: 'POST', headers: { Cookie: cookie } });
    expect(out.headers.getSetCookie()[0]).toContain('Max-Age=0');
    const after = await fetch(`${server.url}/session/refresh`, { method: 'POST', headers: { Cookie: cookie } });
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ error: 'session_expired' });
  });

  it('answers session_expired without or with a bad cookie, and refuses a wrong password', async () => {
    const cases: Record<string, string>[] = [{}, { Cookie: 'sid=forged' }];
    for (const headers of cases) {
      const res = await fetch(`${server.url}/session/refresh`, { method: 'POST', headers });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'session_expired' });
    }
    const wrong = await fetch(`${server.url}/session/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'nope' }),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.getSetCookie()).toEqual([]);
  });

  it('revokeRefreshTokens() ends cookie sessions too', async () => {
    const cookie = await login();
    server.revokeRefreshTokens();
    expect((await fetch(`${server.url}/session/refresh`, { method: 'POST', headers: { Cookie: cookie } })).status).toBe(401);
  });
});

describe('clock skew', () => {
  it('runs the Date header, JWT iat/exp and the server checks on the skewed clock', async () => {
    const skew = 10 * 60_000;
    const ahead = await startExampleServer({ clockSkewMs: skew, accessTokenTtl: 300 });
    try {
      const res = await passwordGrant(ahead.url);
      const serverDate = Date.parse(res.headers.get('date')!);
      expect(Math.abs(serverDate - (Date.now() + skew))).toBeLessThan(3000);
      const tokens = (await res.json()) as OAuthTokenResponse;
      const claims = decodeJwt(tokens.access_token);
      expect(Math.abs(claims.iat! * 1000 - (Date.now() + skew))).toBeLessThan(3000);
      expect(claims.exp! - claims.iat!).toBe(300);
      // By this machine's clock the token expired before it was issued; by the server's it is valid.
      expect(claims.exp! * 1000).toBeGreaterThan(Date.now() + skew);
      expect((await me(ahead.url, tokens.access_token)).status).toBe(200);
    } finally {
      await ahead.close();
    }
  });

  it('judges expiry on its own clock', async () => {
    const behind = await startExampleServer({ clockSkewMs: -10 * 60_000 });
    try {
      // Valid for 5 minutes by the server's clock, which runs 10 minutes behind: still valid there.
      const tokens = await behind.issueTokens({ ttl: 300 });
      expect(decodeJwt(tokens.access_token).exp! * 1000).toBeLessThan(Date.now());
      expect((await me(behind.url, tokens.access_token)).status).toBe(200);
    } finally {
      await behind.close();
    }
  });
});

describe('stats', () => {
  it('counts API hits, requests per path and the last Authorization per path, and resets in place', async () => {
    const stats = server.stats;
    const tokens = await server.issueTokens();
    await me(server.url, tokens.access_token);
    await me(server.url);
    await fetch(`${server.url}/api/items/2?x=1`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
    await fetch(`${server.url}/public/ping`, { headers: { Authorization: 'Bearer stray' } });
    await fetch(`${server.url}/api/me`, { method: 'OPTIONS', headers: { Origin: 'http://app.test', 'Access-Control-Request-Method': 'GET' } });
    expect(stats.apiHits).toBe(3);
    expect(stats.requestsByPath).toEqual({ '/api/me': 2, '/api/items/2': 1, '/public/ping': 1 });
    expect(stats.lastAuthorization['/api/me']).toBeUndefined();
    expect(stats.lastAuthorization['/api/items/2']).toBe(`Bearer ${tokens.access_token}`);
    expect(stats.lastAuthorization['/public/ping']).toBe('Bearer stray');
    expect(stats.tokenCalls).toBe(0);

    server.resetStats();
    expect(server.stats).toBe(stats);
    expect(stats).toEqual({
      refreshCalls: 0, tokenCalls: 0, apiHits: 0, reuseDetected: 0, sessionRefreshCalls: 0, clientAborts: 0,
      requestsByPath: {}, lastAuthorization: {},
    });
  });
});

describe('CORS', () => {
  it('answers preflights with 204 and reflects the Origin on every route', async () => {
    const origin = 'http://localhost:5173';
    const pre = await fetch(`${server.url}/api/me`, {
      method: 'OPTIONS',
      headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization, dpop' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe(origin);
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');
    expect(pre.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, DPoP');
    expect(pre.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, PATCH, DELETE, OPTIONS');

    const res = await fetch(`${server.url}/api/me`, { headers: { Origin: origin } });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, DPoP-Nonce, Retry-After, Date');
    const token = await passwordGrant(server.url, {}, { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: origin } });
    expect(token.headers.get('access-control-allow-origin')).toBe(origin);
  });
});

describe('static files', () => {
  let dir: string;
  let site: ExampleServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'authfetch-static-'));
    await mkdir(path.join(dir, 'www', 'sub'), { recursive: true });
    await mkdir(path.join(dir, 'dist'));
    await writeFile(path.join(dir, 'secret.txt'), 'TOP SECRET');
    await writeFile(path.join(dir, 'www', 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(path.join(dir, 'www', 'app.mjs'), 'export {};');
    await writeFile(path.join(dir, 'www', 'style.css'), 'body{}');
    await writeFile(path.join(dir, 'www', 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await writeFile(path.join(dir, 'www', 'sub', 'index.html'), 'sub page');
    await writeFile(path.join(dir, 'dist', 'index.js'), 'export const x = 1;');
    await writeFile(path.join(dir, 'dist', 'index.js.map'), '{}');
    site = await startExampleServer({ static: { '/': path.join(dir, 'www'), '/dist/': path.join(dir, 'dist') } });
  });

  afterAll(async () => {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves files with their content types and index.html for directories', async () => {
    const cases: [string, string][] = [
      ['/', 'text/html'],
      ['/index.html', 'text/html'],
      ['/app.mjs', 'text/javascript'],
      ['/style.css', 'text/css'],
      ['/logo.png', 'image/png'],
      ['/sub/', 'text/html'],
      ['/dist/index.js', 'text/javascript'],
      ['/dist/index.js.map', 'application/json'],
    ];
    for (const [route, type] of cases) {
      const res = await fetch(`${site.url}${route}`);
      expect(res.status, route).toBe(200);
      expect(res.headers.get('content-type'), route).toContain(type);
    }
    expect(await (await fetch(`${site.url}/sub/`)).text()).toBe('sub page');
    const noSlash = await fetch(`${site.url}/sub`, { redirect: 'manual' });
    expect(noSlash.status).toBe(301);
    expect(noSlash.headers.get('location')).toBe('/sub/');
    expect((await fetch(`${site.url}/missing.js`)).status).toBe(404);
    // The API still wins over a static mount at '/'.
    expect((await fetch(`${site.url}/public/ping`)).status).toBe(200);
  });

  it('blocks path traversal', async () => {
    for (const raw of [
      '/../secret.txt',
      '/dist/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/..%5csecret.txt',
      '/dist/..%2f..%2fsecret.txt',
      '/sub/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/%00index.html',
    ]) {
      const res = await rawGet(site.url, raw);
      expect(res.status, raw).not.toBe(200);
      expect(res.body, raw).not.toContain('TOP SECRET');
    }
  });
});

describe('close()', () => {
  it('finishes within a second while a request hangs and a keep-alive socket idles', async () => {
    const doomed = await startExampleServer();
    const agent = new http.Agent({ keepAlive: true });
    try {
      // An idle keep-alive connection.
      await new Promise<void>((resolve, reject) => {
        http.get(`${doomed.url}/public/ping`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        }).on('error', reject);
      });
      // A request that never gets an answer.
      doomed.setFault('hang');
      const hanging = passwordGrant(doomed.url).then(
        (res) => res.status,
        (error: unknown) => error,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(doomed.stats.tokenCalls).toBe(1);

      const started = Date.now();
      await doomed.close();
      expect(Date.now() - started).toBeLessThan(1000);
      expect(await hanging).toBeInstanceOf(Error);
      await doomed.close(); // idempotent
      await expect(fetch(`${doomed.url}/public/ping`)).rejects.toThrow();
    } finally {
      agent.destroy();
    }
  });

  it('also ends requests waiting in refreshDelayMs or /api/slow', async () => {
    const doomed = await startExampleServer({ refreshDelayMs: 60_000 });
    const tokens = await doomed.issueTokens();
    const waiting = [
      refreshGrant(doomed.url, tokens.refresh_token).catch((e: unknown) => e),
      fetch(`${doomed.url}/api/slow?ms=60000`, { headers: { Authorization: `Bearer ${tokens.access_token}` } }).catch((e: unknown) => e),
    ];
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await doomed.close();
    expect(Date.now() - started).toBeLessThan(1000);
    for (const outcome of await Promise.all(waiting)) expect(outcome).toBeInstanceOf(Error);
  });
});
