/**
 * The example API and token server (examples/server), continued: its faults, the cookie session, clock skew, stats,
 * CORS, static files and close() behave as documented (its endpoints are in example-server.test.ts).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { startExampleServer, type ExampleServer, type OAuthTokenResponse } from '../examples/server/index.mjs';
import { passwordGrant, refreshGrant, me, rawGet } from './helpers/example-requests.js';
import { caught } from './helpers/caught.js';

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
    const error = await caught(passwordGrant(server.url, {}, { signal: AbortSignal.timeout(200) }));
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
