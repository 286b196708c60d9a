/**
 * The silent refresh (issue 3): single flight, the late 401, no refresh loop, the replay's own budget, bodies that
 * survive the replay, proactive refresh against the server's clock, the three strategies, and the 401s a refresh
 * must not touch (step-up, insufficient scope). DESIGN.md "Refresh strategies", "Events", "Behaviour that must
 * hold" 1, 3 and 6. Everything runs against the example server on 127.0.0.1 (opaque tokens unless a test is
 * about JWT expiry) and, for the exact shape of the refresh_token grant, a small recording token endpoint.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startExampleServer, type ExampleServer, type OAuthTokenResponse } from '../examples/server/index.mjs';
import {
  ForbiddenError,
  SessionExpiredError,
  UnauthorizedError,
  createAuthClient,
  customRefresh,
  oauth2Refresh,
  sessionRefresh,
  type AuthClient,
  type AuthClientOptions,
  type RefreshContext,
} from '../src/index.js';
import { exampleClientOptions, useClients } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

/** What `/api/echo` answers. */
interface Echo {
  method: string;
  contentType: string | null;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  length: number;
}

const createClient = useClients();
const servers: ExampleServer[] = [];

// Registered after useClients, so it runs before the clients are disposed (vitest runs afterEach hooks as a stack).
afterEach(() => {
  vi.useRealTimers();
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(options: Parameters<typeof startExampleServer>[0] = {}): Promise<ExampleServer> {
  const server = await startExampleServer({ opaqueTokens: true, ...options });
  servers.push(server);
  return server;
}

/** A client for the example server: baseUrl `/api`, oauth2Refresh against its token endpoint unless overridden. */
function clientFor(server: ExampleServer, options: AuthClientOptions = {}): AuthClient {
  return createClient({ ...exampleClientOptions(server), ...options });
}

/** Sign in, then have the server refuse that access token (401 invalid_token) and zero its stats: the next request refreshes. */
async function signInStale(auth: AuthClient, server: ExampleServer): Promise<void> {
  await auth.login(await server.issueTokens());
  server.expireAll();
  server.resetStats();
}

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

const hits = (server: ExampleServer, path: string): number => server.stats.requestsByPath[path] ?? 0;

// -----------------------------------------------------------------------------------------------------------------

describe('single flight (behaviour 1)', () => {
  it('300 concurrent requests with a stale token cause exactly one refresh, and each is replayed once', async () => {
    const server = await startServer({ refreshDelayMs: 100 });
    const auth = clientFor(server);
    await signInStale(auth, server);
    const refreshes = recordEvents(auth, ['refresh']).refresh;

    const N = 300;
    // Both surfaces at once: they share one auth path, so one refresh serves them all.
    const statuses = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        i % 2 === 0 ? auth.fetch('me').then((r) => r.status) : auth.http.get('me').then((r) => r.status),
      ),
    );

    expect(statuses.filter((s) => s === 200)).toHaveLength(N);
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshes).toEqual([{ expiresAt: expect.any(Number), trigger: 'unauthorized', source: 'local' }]);
    // Every request went out once with the stale token (or waited for the refresh), and at most once more.
    expect(server.stats.apiHits).toBeGreaterThan(N);
    expect(server.stats.apiHits).toBeLessThanOrEqual(2 * N);
    expect(server.stats.reuseDetected).toBe(0);
    expect(auth.session.status).toBe('active');
  });

  it('requests started while a refresh is in flight wait for it and go out with the new token (no 401 for them)', async () => {
    const server = await startServer({ refreshDelayMs: 400 });
    const auth = clientFor(server);
    const issued = await server.issueTokens();
    await auth.login(issued);
    server.expireAll();
    server.resetStats();

    const first = auth.fetch('me');
    await vi.waitFor(() => expect(auth.session.status).toBe('refreshing'), { timeout: 5000, interval: 5 });
    const later = Array.from({ length: 20 }, (_, i) =>
      i % 2 === 0 ? auth.fetch('me').then((r) => r.status) : auth.http.get('me').then((r) => r.status),
    );

    expect((await first).status).toBe(200);
    expect(await Promise.all(later)).toEqual(Array(20).fill(200));
    expect(server.stats.refreshCalls).toBe(1);
    // The first request: 401 and its replay. The 20 later ones: exactly one hit each, so none met a 401.
    expect(server.stats.apiHits).toBe(2 + 20);
    expect(server.stats.lastAuthorization['/api/me']).not.toBe(`Bearer ${issued.access_token}`);
  });

  it('a late 401 for a token already renewed is replayed with the new token, without a second refresh', async () => {
    const server = await startServer();
    const auth = clientFor(server);
    await auth.login(await server.issueTokens());
    server.resetStats();

    // /api/slow-check checks the token only after the delay: it goes out with token A and is judged later.
    let slowSettled = false;
    const slow = auth.fetch('slow-check?ms=800').finally(() => {
      slowSettled = true;
    });
    await vi.waitFor(() => expect(hits(server, '/api/slow-check')).toBe(1), { timeout: 5000, interval: 5 });
    server.expireAll();
    // Meanwhile another request meets the 401 for A and refreshes to B.
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
    expect(slowSettled).toBe(false); // the scenario really happened: the slow 401 is still to come

    const response = await slow;
    expect(response.status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
    expect(hits(server, '/api/slow-check')).toBe(2); // its 401 (for A) and its replay (with B)
  });

  it('a replay that gets 401 again is final: no refresh loop (auth.http throws UnauthorizedError)', async () => {
    const server = await startServer();
    let refreshes = 0;
    // A strategy that "succeeds" with a token the server does not accept.
    const auth = clientFor(server, { refresh: customRefresh(() => (refreshes++, { accessToken: 'not-a-token-the-server-knows' })) });
    const unauthorized = recordEvents(auth, ['unauthorized']).unauthorized;
    await signInStale(auth, server);

    const error = await auth.http.get('me').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as UnauthorizedError).reason).toBe('invalid-token');
    expect(refreshes).toBe(1);
    expect(hits(server, '/api/me')).toBe(2);
    expect(unauthorized).toHaveLength(1);
    expect(unauthorized[0]).toBe(error); // the same object for the event and the throw
  });

  it('a replay that gets 401 again is final: auth.fetch resolves with the 401, once refreshed', async () => {
    const server = await startServer();
    let refreshes = 0;
    const auth = clientFor(server, { refresh: customRefresh(() => (refreshes++, { accessToken: 'still-not-accepted' })) });
    const unauthorized = recordEvents(auth, ['unauthorized']).unauthorized;
    await signInStale(auth, server);

    const response = await auth.fetch('me');
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ title: 'Unauthorized' }); // the body is still readable
    expect(refreshes).toBe(1);
    expect(hits(server, '/api/me')).toBe(2);
    expect(unauthorized).toHaveLength(1);
    expect(unauthorized[0]).toBeInstanceOf(UnauthorizedError);
  });

  it('with retry: 0 a 401 is still refreshed and replayed (the replay has its own budget)', async () => {
    const server = await startServer();
    const auth = clientFor(server, { retry: 0 });
    await signInStale(auth, server);

    await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(server.stats.refreshCalls).toBe(1);
    expect(hits(server, '/api/me')).toBe(2);
    // And ky's own retries are really off: a 503 is not retried.
    await expect(auth.http.get('status/503')).rejects.toMatchObject({ code: 'ERR_SERVER' });
    expect(hits(server, '/api/status/503')).toBe(1);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('bodies survive the replay (behaviour 3)', () => {
  let server: ExampleServer;
  let auth: AuthClient;

  beforeAll(async () => {
    server = await startServer();
    auth = createAuthClient({
      baseUrl: `${server.url}/api`,
      refresh: oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: 'demo-spa' }),
    });
    await auth.login(await server.issueTokens());
  });
  afterAll(() => auth.dispose());

  /** Make the current token stale, send, and check that the request was refused once and replayed once. */
  async function sendStale(send: () => Promise<Response>): Promise<Echo> {
    server.expireAll();
    const before = { echo: hits(server, '/api/echo'), refresh: server.stats.refreshCalls };
    const response = await send();
    expect(response.status).toBe(200);
    expect(hits(server, '/api/echo') - before.echo).toBe(2);
    expect(server.stats.refreshCalls - before.refresh).toBe(1);
    return (await response.json()) as Echo;
  }

  /** Decode what the echo received. */
  const bytesOf = (echo: Echo) => (echo.bodyEncoding === 'base64' ? [...Buffer.from(echo.body, 'base64')] : [...Buffer.from(echo.body)]);

  /** Parse a multipart echo back into its fields. */
  async function formOf(echo: Echo): Promise<Array<[string, string]>> {
    expect(echo.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(echo.body, { headers: { 'content-type': echo.contentType ?? '' } }).formData();
    const entries: Array<[string, string]> = [];
    for (const [name, value] of form) entries.push([name, typeof value === 'string' ? value : `${value.name}:${value.type}:${await value.text()}`]);
    return entries;
  }

  const json = { greeting: 'grüße', list: [1, 2, 3] };
  const binary = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x01]);
  const makeForm = () => {
    const form = new FormData();
    form.set('title', 'Tea party');
    form.set('file', new Blob(['mad hatter'], { type: 'text/plain' }), 'hatter.txt');
    return form;
  };
  const expectedForm: Array<[string, string]> = [
    ['title', 'Tea party'],
    ['file', 'hatter.txt:text/plain:mad hatter'],
  ];

  describe('auth.http', () => {
    it('json', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { json }));
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('text', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: 'Off with their heads ✂' }));
      expect(echo.contentType).toBe('text/plain;charset=UTF-8');
      expect(echo.body).toBe('Off with their heads ✂');
    });
    it('URLSearchParams', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: new URLSearchParams({ a: '1', b: 'x y&z' }) }));
      expect(echo.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(echo.body).toBe('a=1&b=x+y%26z');
    });
    it('FormData', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: makeForm() }));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('Blob', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: new Blob([binary], { type: 'image/png' }) }));
      expect(echo.contentType).toBe('image/png');
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('ArrayBuffer', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: binary.slice().buffer }));
      expect(echo.contentType).toBeNull();
      expect(bytesOf(echo)).toEqual([...binary]);
    });
  });

  describe('auth.fetch', () => {
    const url = () => `${server.url}/api/echo`;
    it('json (string with its content type)', async () => {
      const echo = await sendStale(() =>
        auth.fetch('echo', { method: 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json' } }),
      );
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('text', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: 'Curiouser and curiouser' }));
      expect(echo.contentType).toBe('text/plain;charset=UTF-8');
      expect(echo.body).toBe('Curiouser and curiouser');
    });
    it('URLSearchParams', async () => {
      const echo = await sendStale(() => auth.fetch(url(), { method: 'POST', body: new URLSearchParams({ q: 'rabbit hole' }) }));
      expect(echo.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(echo.body).toBe('q=rabbit+hole');
    });
    it('FormData', async () => {
      const echo = await sendStale(() => auth.fetch(new URL(url()), { method: 'POST', body: makeForm() }));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('Blob', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: new Blob([binary], { type: 'image/png' }) }));
      expect(echo.contentType).toBe('image/png');
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('ArrayBuffer', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: binary.slice().buffer }));
      expect(echo.contentType).toBeNull();
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('a Request with a JSON body', async () => {
      const echo = await sendStale(() =>
        auth.fetch(new Request(url(), { method: 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json' } })),
      );
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('a Request with a FormData body', async () => {
      const echo = await sendStale(() => auth.fetch(new Request(url(), { method: 'POST', body: makeForm() })));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('a Request with a stream body (Request.clone() makes it replayable)', async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed '));
          controller.enqueue(new TextEncoder().encode('tea'));
          controller.close();
        },
      });
      const echo = await sendStale(() =>
        auth.fetch(new Request(url(), { method: 'POST', body: stream, duplex: 'half' } as RequestInit & { duplex: 'half' })),
      );
      expect(echo.body).toBe('streamed tea');
    });
  });

  it('a one-shot ReadableStream body meets a 401: a clear TypeError, and no silent empty replay', async () => {
    server.expireAll();
    const before = hits(server, '/api/echo');
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('only once'));
        controller.close();
      },
    });
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit & { duplex: 'half' };

    const error = await auth.fetch('echo', init).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/one-shot ReadableStream/);
    expect((error as TypeError).message).toMatch(/cannot be sent again/);
    expect(pulled).toBe(1);
    // Only the first attempt (answered 401) reached the server.
    expect(hits(server, '/api/echo') - before).toBe(1);
    // The token was renewed all the same: the next request goes through at once.
    expect((await auth.fetch('echo', { method: 'POST', body: 'after' })).status).toBe(200);
    expect(hits(server, '/api/echo') - before).toBe(2);
  });
});

// -----------------------------------------------------------------------------------------------------------------

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

// -----------------------------------------------------------------------------------------------------------------

/** A token endpoint that records what it receives and answers from a script. */
interface RecordedCall {
  method: string;
  headers: IncomingMessage['headers'];
  form: Record<string, string>;
}

async function startRecordingTokenEndpoint(answers: Array<Record<string, unknown>>) {
  const calls: RecordedCall[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      calls.push({
        method: req.method ?? '',
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      });
      const answer = answers.shift() ?? { error: 'invalid_grant' };
      res.writeHead('error' in answer ? 400 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('strategies', () => {
  describe('oauth2Refresh', () => {
    it('sends a form-encoded refresh_token grant with client_id and no client_secret; rotation replaces the refresh token', async () => {
      const endpoint = await startRecordingTokenEndpoint([
        { access_token: 'at-2', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-2' },
        { access_token: 'at-3', token_type: 'Bearer', expires_in: 300 }, // no refresh_token: keep rt-2
        { access_token: 'at-4', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-3' },
      ]);
      // The client's own fetch sees what cannot be observed on the wire (cache mode, credentials).
      const inits: RequestInit[] = [];
      const auth = createClient({
        refresh: oauth2Refresh({ tokenEndpoint: endpoint.url, clientId: 'my-spa' }),
        fetch: (input, init) => {
          if (init) inits.push(init);
          return fetch(input, init);
        },
      });
      await auth.login({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() + 300_000 });

      await auth.refresh();
      await auth.refresh();
      await auth.refresh();
      await endpoint.close();

      expect(endpoint.calls.map((c) => c.form)).toEqual([
        { grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'my-spa' },
        { grant_type: 'refresh_token', refresh_token: 'rt-2', client_id: 'my-spa' },
        { grant_type: 'refresh_token', refresh_token: 'rt-2', client_id: 'my-spa' },
      ]);
      for (const call of endpoint.calls) {
        expect(call.method).toBe('POST');
        expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(call.headers.accept).toBe('application/json');
        expect(call.headers.authorization).toBeUndefined(); // never the access token, no client authentication
        expect(call.headers.cookie).toBeUndefined();
      }
      expect(inits).toHaveLength(3);
      for (const init of inits) expect(init).toMatchObject({ method: 'POST', cache: 'no-store', credentials: 'omit' });
      expect(await auth.getAccessToken()).toBe('at-4');
    });

    it('sends client_secret, scope and extra parameters only when given', async () => {
      const endpoint = await startRecordingTokenEndpoint([{ access_token: 'at-2', expires_in: 300 }]);
      const auth = createClient({
        refresh: oauth2Refresh({
          tokenEndpoint: endpoint.url,
          clientId: 'backend',
          clientSecret: 's3cret',
          // The default with a secret is Basic now (issue 10 item 6); the form body carries it only when asked.
          clientAuth: 'client_secret_post',
          scope: 'api:read',
          extraParams: { resource: 'https://api.example' },
        }),
      });
      await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
      await auth.refresh();
      await endpoint.close();
      expect(endpoint.calls[0]?.form).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'rt-1',
        client_id: 'backend',
        client_secret: 's3cret',
        scope: 'api:read',
        resource: 'https://api.example',
      });
    });

    it('spends each rotated refresh token once: several refreshes, no reuse detected by the server', async () => {
      const server = await startServer();
      const auth = clientFor(server);
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      await auth.login(await server.issueTokens());
      server.resetStats();
      for (let round = 0; round < 5; round++) {
        server.expireAll();
        // A few requests at once each round, so a double spend would have a chance to show.
        const statuses = await Promise.all([auth.fetch('me'), auth.http.get('me'), auth.fetch('items/1')].map((p) => p.then((r) => r.status)));
        expect(statuses).toEqual([200, 200, 200]);
      }
      expect(server.stats.refreshCalls).toBe(5);
      expect(server.stats.reuseDetected).toBe(0);
      expect(refreshes).toHaveLength(5);
    });
  });

  describe('sessionRefresh', () => {
    it('renews the access token with the session cookie; its 401 ends the session', async () => {
      const server = await startServer();
      const login = await fetch(`${server.url}/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
      expect(cookie).toMatch(/^sid=/);

      // Node's fetch has no cookie jar: send the cookie to the session endpoints, as credentials: 'include' would.
      const cookieFetch: typeof fetch = (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (!url.startsWith(`${server.url}/session/`)) return fetch(input, init);
        const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
        headers.set('cookie', cookie);
        return fetch(input, { ...init, headers });
      };
      const auth = clientFor(server, { refresh: sessionRefresh({ url: `${server.url}/session/refresh` }), fetch: cookieFetch });
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;

      // Never signed in here (a reload with a live session): the first 401 gets the token from the cookie.
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(server.stats.sessionRefreshCalls).toBe(1);
      expect(auth.session.status).toBe('active');

      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(server.stats.sessionRefreshCalls).toBe(2);
      expect(refreshes.map((r) => r.trigger)).toEqual(['unauthorized', 'unauthorized']);

      // The server forgets the session: its 401 ends ours.
      server.revokeRefreshTokens();
      server.expireAll();
      const error = await auth.http.get('me').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect(error).toMatchObject({ reason: 'refresh-rejected', action: 'sign-in' });
      expect(server.stats.sessionRefreshCalls).toBe(3);
      expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
      expect(auth.session.status).toBe('expired');
      expect(await auth.getAccessToken()).toBeUndefined();
    });
  });

  describe('customRefresh', () => {
    async function grant(server: ExampleServer, context: RefreshContext): Promise<OAuthTokenResponse> {
      const response = await context.fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: context.tokens?.refreshToken ?? '', client_id: 'demo-spa' }),
        signal: context.signal,
      });
      return (await response.json()) as OAuthTokenResponse;
    }

    it('returning a TokenSet', async () => {
      const server = await startServer();
      const contexts: RefreshContext[] = [];
      const auth = clientFor(server, {
        refresh: customRefresh(async (context) => {
          contexts.push(context);
          const body = await grant(server, context);
          return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt: Date.now() + body.expires_in * 1000 };
        }),
      });
      const issued = await server.issueTokens();
      await auth.login(issued);
      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(contexts).toHaveLength(1);
      expect(contexts[0]?.tokens?.refreshToken).toBe(issued.refresh_token);
      expect(contexts[0]?.signal).toBeInstanceOf(AbortSignal);
      // The rotated refresh token was kept: a second round works and is no reuse.
      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(contexts[1]?.tokens?.refreshToken).not.toBe(issued.refresh_token);
      expect(server.stats.reuseDetected).toBe(0);
    });

    it('returning a raw OAuth token response', async () => {
      const server = await startServer();
      const auth = clientFor(server, { refresh: customRefresh((context) => grant(server, context)) });
      await auth.login(await server.issueTokens());
      server.expireAll();
      const before = Date.now();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      // expires_in counts from the answer.
      expect(auth.session.expiresAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(auth.session.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
    });

    it('throwing SessionExpiredError ends the session', async () => {
      const server = await startServer();
      const thrown = new SessionExpiredError('The sign-in SDK says the session is gone', { reason: 'refresh-rejected' });
      const auth = clientFor(server, {
        refresh: customRefresh(() => {
          throw thrown;
        }),
      });
      const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;
      await auth.login(await server.issueTokens());
      server.expireAll();

      await expect(auth.http.get('me')).rejects.toBe(thrown);
      expect(expired).toEqual([{ reason: 'refresh-rejected', error: thrown }]);
      expect(auth.session.status).toBe('expired');
      expect(await auth.getAccessToken()).toBeUndefined();
    });
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('401s and 403s a refresh cannot cure', () => {
  it('step-up (RFC 9470): stepUp event, UnauthorizedError step-up-required, no refresh', async () => {
    const server = await startServer();
    const auth = clientFor(server);
    const stepUps = recordEvents(auth, ['stepUp']).stepUp;
    const unauthorized = recordEvents(auth, ['unauthorized']).unauthorized;
    await auth.login(await server.issueTokens({ acr: 'pwd' }));
    server.resetStats();

    const error = await auth.http.get('step-up').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toMatchObject({ reason: 'step-up-required', status: 401, action: 'sign-in' });
    expect(stepUps).toHaveLength(1);
    expect(stepUps[0]).toMatchObject({ acrValues: ['mfa'], maxAge: 300 });
    expect(stepUps[0]?.error).toBe(error);
    expect(server.stats.refreshCalls).toBe(0);
    expect(hits(server, '/api/step-up')).toBe(1);
    expect(unauthorized).toEqual([]); // a step-up is its own event

    // auth.fetch: the 401 itself, same event, still no refresh.
    const response = await auth.fetch('step-up');
    expect(response.status).toBe(401);
    expect(stepUps).toHaveLength(2);
    expect(server.stats.refreshCalls).toBe(0);
    expect(auth.session.status).toBe('active');
  });

  it('403 insufficient_scope never triggers a refresh', async () => {
    const server = await startServer();
    const auth = clientFor(server);
    const forbidden = recordEvents(auth, ['forbidden']).forbidden;
    await auth.login(await server.issueTokens({ scope: 'openid profile api' }));
    server.resetStats();

    const error = await auth.http.get('admin').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ requiredScope: ['admin'], action: 'request-access' });
    expect((await auth.fetch('admin')).status).toBe(403);
    expect(server.stats.refreshCalls).toBe(0);
    expect(hits(server, '/api/admin')).toBe(2);
    await vi.waitFor(() => expect(forbidden).toHaveLength(2), { timeout: 2000 });
  });
});
