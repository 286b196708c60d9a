/**
 * The silent refresh (issue 3): single flight, the late 401, no refresh loop, the replay's own budget, and the 401s
 * a refresh must not touch (step-up, insufficient scope). DESIGN.md "Behaviour that must hold" 1. Bodies that survive
 * the replay are in replay-bodies.test.ts, proactive refresh in refresh-expiring.test.ts, the strategies in
 * strategies.test.ts. Everything runs against the example server on 127.0.0.1 (opaque tokens).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExampleServer } from '../examples/server/index.mjs';
import {
  ForbiddenError,
  UnauthorizedError,
  customRefresh,
  oauth2Refresh,
  type AuthClient,
  type AuthClientOptions,
} from '../src/index.js';
import { exampleClientOptions, signInStale, useClients, useExampleServers } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

const createClient = useClients();
/** Example servers (opaque tokens unless a test asks for JWTs), closed after the file. */
const startServer = useExampleServers({ opaqueTokens: true });

// Registered after useClients, so it runs before the clients are disposed (vitest runs afterEach hooks as a stack).
afterEach(() => {
  vi.useRealTimers();
});

/** A client for the example server: baseUrl `/api`, oauth2Refresh against its token endpoint unless overridden. */
function clientFor(server: ExampleServer, options: AuthClientOptions = {}): AuthClient {
  return createClient({ ...exampleClientOptions(server), ...options });
}

const hits = (server: ExampleServer, path: string): number => server.stats.requestsByPath[path] ?? 0;

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
