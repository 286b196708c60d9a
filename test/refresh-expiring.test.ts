/**
 * Proactive refresh (trigger `expiring`) and the server clock (DESIGN.md "Behaviour that must hold" 6 and 14):
 * `expires_in` counted from the token response, JWT `exp` judged by the server's `Date`, skewed clocks both ways.
 * Against the example server on 127.0.0.1.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExampleServer, OAuthTokenResponse } from '../examples/server/index.mjs';
import {
  customRefresh,
  oauth2Refresh,
  type AuthClient,
  type AuthClientOptions,
  type RefreshContext,
} from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServers } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

const createClient = useClients();
/** Example servers (opaque tokens unless a test asks for JWTs), closed after the file. */
const startServer = useExampleServers({ opaqueTokens: true });

// Registered after useClients, so it runs before the clients are disposed (vitest runs afterEach hooks as a stack).
afterEach(() => {
  vi.useRealTimers();
});

/** The token response without `expires_in`: expiry then comes from the JWT `exp` alone (server clock). */
function withoutExpiresIn(response: OAuthTokenResponse): Record<string, unknown> {
  const { expires_in: _dropped, ...rest } = response;
  return rest;
}

/**
 * The refresh_token grant against the example server, answered without `expires_in`, so that refreshed JWTs too
 * are judged by their `exp` and the server clock (oauth2Refresh would keep the server's `expires_in`).
 */
function jwtOnlyRefresh(server: ExampleServer) {
  return customRefresh(async ({ tokens, fetch, signal }: RefreshContext) => {
    const response = await fetch(`${server.url}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens?.refreshToken ?? '', client_id: 'demo-spa' }),
      signal,
    });
    if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
    return withoutExpiresIn((await response.json()) as OAuthTokenResponse) as { access_token: string };
  });
}

/** A client for the example server: baseUrl `/api`, oauth2Refresh against its token endpoint unless overridden. */
function clientFor(server: ExampleServer, options: AuthClientOptions = {}): AuthClient {
  return createClient({ ...exampleClientOptions(server), ...options });
}

const hits = (server: ExampleServer, path: string): number => server.stats.requestsByPath[path] ?? 0;

describe('proactive refresh (trigger expiring) and the server clock (behaviour 6)', () => {
  it('a 20 s token (expires_in inside refreshLeeway) is refreshed once past half its life, before sending: no 401', async () => {
    // The leeway used is min(refreshLeeway, lifetime / 2) (behaviour 14): 10 s here, not 30.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const server = await startServer();
    const auth = clientFor(server, { refreshLeeway: 30 });
    const refreshes = recordEvents(auth, ['refresh']).refresh;
    await auth.login(await server.issueTokens({ ttl: 20 }));
    server.resetStats();

    for (let i = 0; i < 20; i++) expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(0);

    vi.setSystemTime(Date.now() + 11_000); // 9 s left: inside the 10 s used
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
    expect(hits(server, '/api/me')).toBe(21);
    expect(refreshes).toEqual([{ expiresAt: expect.any(Number), trigger: 'expiring', source: 'local' }]);
    // The refreshed token (300 s) is well outside the leeway: no more refreshes.
    for (let i = 0; i < 3; i++) expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
  });

  it('with a frozen clock moved past the leeway, the next request refreshes once, before sending', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2030, 0, 1, 12, 0, 0);
    vi.setSystemTime(t0);
    // The example server shares this process and so this clock: its tokens expire on the same frozen time.
    const server = await startServer();
    const auth = clientFor(server, { refreshLeeway: 30 });
    const refreshes = recordEvents(auth, ['refresh']).refresh;
    await auth.login(await server.issueTokens({ ttl: 300 }));
    expect(auth.session.expiresAt).toBe(t0 + 300_000);

    expect((await auth.fetch('me')).status).toBe(200);
    vi.setSystemTime(t0 + 250_000); // 50 s left: outside the 30 s leeway
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(0);

    vi.setSystemTime(t0 + 275_000); // 25 s left: inside
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshes.map((r) => r.trigger)).toEqual(['expiring']);
    expect(auth.session.expiresAt).toBe(t0 + 275_000 + 300_000);
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
    expect(hits(server, '/api/me')).toBe(4); // never a 401
  });

  const TEN_MINUTES = 10 * 60_000;
  // The example server runs in this process, so "the client's clock is off" is made with a faked Date for both
  // and a server skew that puts the server back on true time.
  const skews = [
    { name: 'the server clock is 10 min ahead', serverSkew: TEN_MINUTES, clientShift: 0 },
    { name: 'the server clock is 10 min behind', serverSkew: -TEN_MINUTES, clientShift: 0 },
    { name: 'the client clock is 10 min ahead', serverSkew: -TEN_MINUTES, clientShift: TEN_MINUTES },
    { name: 'the client clock is 10 min behind', serverSkew: TEN_MINUTES, clientShift: -TEN_MINUTES },
  ];

  describe.each(skews)('when $name', ({ serverSkew, clientShift }) => {
    function shiftClientClock(): void {
      if (clientShift === 0) return;
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + clientShift);
    }

    it('JWT tokens without expires_in: neither a refresh per request nor repeated expired tokens', async () => {
      shiftClientClock();
      const server = await startServer({ opaqueTokens: false, clockSkewMs: serverSkew });
      const auth = clientFor(server, { refresh: jwtOnlyRefresh(server) });
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      await auth.login(withoutExpiresIn(await server.issueTokens()) as { access_token: string });

      for (let i = 0; i < 10; i++) expect((await auth.fetch('me')).status).toBe(200);
      expect(refreshes.length).toBeLessThanOrEqual(1);
      expect(server.stats.refreshCalls).toBeLessThanOrEqual(1);
      expect(hits(server, '/api/me')).toBeLessThanOrEqual(11); // at most one 401
    });

    it('a JWT past half its life (by the server clock) is refreshed once, ahead of time, once the clock is known', async () => {
      shiftClientClock();
      const server = await startServer({ opaqueTokens: false, clockSkewMs: serverSkew });
      const auth = clientFor(server, { refresh: jwtOnlyRefresh(server), refreshLeeway: 30 });
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      await auth.login(withoutExpiresIn(await server.issueTokens({ ttl: 300 })) as { access_token: string });
      // Before any Date header the local clock judges `exp`: a client clock 10 min ahead sees it expired and refreshes
      // once (behaviour 14); that answer's Date header puts the server clock in charge.
      expect((await auth.fetch('me')).status).toBe(200);
      const before = refreshes.length;
      expect(before).toBe(serverSkew < 0 ? 1 : 0); // the local clock is ahead of the server's

      // 280 s later by every clock: 20 s left of a 300 s token, inside the 30 s leeway.
      if (clientShift === 0) vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + (before === 1 ? 0 : 280_000));
      for (let i = 0; i < 10; i++) expect((await auth.fetch('me')).status).toBe(200);
      expect(refreshes.slice(before).map((r) => r.trigger)).toEqual(before === 1 ? [] : ['expiring']);
      expect(hits(server, '/api/me')).toBe(11); // no 401 at all
    });

    it('with expires_in the skew does not matter at all', async () => {
      shiftClientClock();
      const server = await startServer({ opaqueTokens: false, clockSkewMs: serverSkew });
      const auth = clientFor(server);
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      await auth.login(await server.issueTokens());
      for (let i = 0; i < 10; i++) expect((await auth.fetch('me')).status).toBe(200);
      expect(refreshes).toEqual([]);
      expect(hits(server, '/api/me')).toBe(10);

      // And an expires_in that runs into the leeway is refreshed before the next request, whatever the clocks say.
      await auth.login(await server.issueTokens({ ttl: 300 }));
      if (clientShift === 0) vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
      vi.setSystemTime(Date.now() + 280_000);
      expect((await auth.fetch('me')).status).toBe(200);
      expect(refreshes.map((r) => r.trigger)).toEqual(['expiring']);
      expect(hits(server, '/api/me')).toBe(11);
    });
  });

  it('getAccessToken() refreshes first when within the leeway, and not otherwise', async () => {
    const server = await startServer();
    const auth = clientFor(server);
    const refreshes = recordEvents(auth, ['refresh']).refresh;
    expect(await auth.getAccessToken()).toBeUndefined(); // signed out

    const fresh = await server.issueTokens({ ttl: 300 });
    await auth.login(fresh);
    expect(await auth.getAccessToken()).toBe(fresh.access_token);
    expect(server.stats.refreshCalls).toBe(0);

    const expiring = await server.issueTokens({ ttl: 300 });
    await auth.login(expiring);
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now() + 280_000); // 20 s left: inside the 30 s leeway
    const token = await auth.getAccessToken();
    expect(token).toBeTypeOf('string');
    expect(token).not.toBe(expiring.access_token);
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshes.map((r) => r.trigger)).toEqual(['expiring']);
    // The token it returned is the one the server accepts.
    const check = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(check.status).toBe(200);
  });

  it('refresh() forces one (trigger manual), and two calls at once make one refresh', async () => {
    const server = await startServer({ refreshDelayMs: 150 });
    const auth = clientFor(server);
    const refreshes = recordEvents(auth, ['refresh']).refresh;
    const issued = await server.issueTokens();
    await auth.login(issued);

    await Promise.all([auth.refresh(), auth.refresh()]);
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshes).toEqual([{ expiresAt: expect.any(Number), trigger: 'manual', source: 'local' }]);
    expect(await auth.getAccessToken()).not.toBe(issued.access_token);

    // A request that meets a 401 while a manual refresh runs joins it too.
    server.expireAll();
    const manual = auth.refresh();
    const request = auth.fetch('me');
    await manual;
    expect((await request).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(2);
    expect(server.stats.reuseDetected).toBe(0);
  });
});
