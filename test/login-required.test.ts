/**
 * When the session is over (issue 3; DESIGN.md `loginRequired`, `loginTimeout`, events `sessionExpired` and
 * `loginRequired`): `'reject'` rejects the waiting requests with SessionExpiredError; `'wait'` holds them until
 * `login()` (then they are replayed), `logout()` or `loginTimeout` (then they reject), or their own abort. A 401
 * that nothing can renew (no strategy, no refresh token) ends the session with reason `no-refresh-token`.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  SessionExpiredError,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
} from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

// The refresh answers after 300 ms, so that every request of a burst is waiting on it when it is rejected.
const server = useExampleServer({ opaqueTokens: true, refreshDelayMs: 300 });
const createClient = useClients();

interface Watched {
  auth: AuthClient;
  loginRequired: AuthEvents['loginRequired'][];
  expired: AuthEvents['sessionExpired'][];
}

function makeClient(options: AuthClientOptions = {}): Watched {
  const auth = createClient({ ...exampleClientOptions(server), ...options });
  const { loginRequired, sessionExpired: expired } = recordEvents(auth, ['loginRequired', 'sessionExpired']);
  return { auth, loginRequired, expired };
}

/** Signed in, then the access token goes stale and the refresh token is revoked: the next refresh is rejected. */
async function endingSession(options: AuthClientOptions = {}): Promise<Watched> {
  const watched = makeClient(options);
  await watched.auth.login(await server.issueTokens());
  server.expireAll();
  server.revokeRefreshTokens();
  server.resetStats();
  return watched;
}

/** Track whether a promise has settled, without changing it; the tracked promise never rejects unhandled. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** Five requests over both surfaces. */
function fiveRequests(auth: AuthClient, init: { signal?: AbortSignal } = {}) {
  return [
    auth.http.get('me', init).json<{ sub: string }>().then((body) => body.sub),
    auth.http.get('items/1', init).json<{ name: string }>().then((body) => body.name),
    auth.fetch('me', init).then((r) => r.status),
    auth.fetch('items/2', init).then((r) => r.status),
    auth.http.get('me', init).json<{ sub: string }>().then((body) => body.sub),
  ].map((p) => track<unknown>(p));
}

const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => new Error('expected a rejection'),
    (error: unknown) => error,
  );

/** Wait a little and prove nothing settled: the requests really are held. */
async function expectStillHeld(requests: Array<{ settled: boolean }>): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(requests.map((r) => r.settled)).toEqual(requests.map(() => false));
}

// -----------------------------------------------------------------------------------------------------------------

describe("loginRequired: 'reject' (the default)", () => {
  it('rejects the waiting requests with SessionExpiredError and says so with pending: 0', async () => {
    const { auth, loginRequired, expired } = await endingSession();
    const requests = fiveRequests(auth);
    for (const request of requests) {
      const error = await rejectionOf(request.promise);
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect(error).toMatchObject({ reason: 'refresh-rejected', action: 'sign-in' });
    }
    expect(server.stats.refreshCalls).toBe(1);
    expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    await vi.waitFor(() => expect(loginRequired).toEqual([{ reason: 'refresh-rejected', pending: 0 }]), { timeout: 2000 });
  });
});

describe("loginRequired: 'wait'", () => {
  it('holds the 5 waiting requests (loginRequired pending: 5); login() replays them and they succeed', async () => {
    const { auth, loginRequired, expired } = await endingSession({ loginRequired: 'wait' });
    const requests = fiveRequests(auth);

    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    expect(loginRequired[0]).toEqual({ reason: 'refresh-rejected', pending: 5 });
    expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    expect(auth.session.status).toBe('expired');
    await expectStillHeld(requests);
    const apiHitsWhileHeld = server.stats.apiHits;

    await auth.login(await server.issueTokens({ sub: 'alice' }));
    expect(await Promise.all(requests.map((r) => r.promise))).toEqual(['alice', 'Teapot', 200, 200, 'alice']);
    // Each held request was sent once more, with the new token; no other refresh happened.
    expect(server.stats.apiHits - apiHitsWhileHeld).toBe(5);
    expect(server.stats.refreshCalls).toBe(1);
    expect(auth.session.status).toBe('active');
  });

  it('also holds requests started after the session ended, and releases them on login()', async () => {
    const { auth, loginRequired } = await endingSession({ loginRequired: 'wait' });
    const first = track(auth.fetch('me'));
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    const later = [track(auth.http.get('items/3').json()), track(auth.fetch('me'))];
    await expectStillHeld([first, ...later]);
    const hitsWhileHeld = server.stats.apiHits;

    await auth.login(await server.issueTokens());
    expect((await first.promise).status).toBe(200);
    expect(await later[0]?.promise).toEqual({ id: 3, name: 'Looking-glass' });
    expect((await (later[1]?.promise as Promise<Response>)).status).toBe(200);
    // The later ones waited before sending anything: one hit each, with the new token.
    expect(server.stats.apiHits - hitsWhileHeld).toBe(3);
  });

  it('logout() rejects the held requests with SessionExpiredError', async () => {
    const { auth, loginRequired } = await endingSession({ loginRequired: 'wait' });
    const requests = fiveRequests(auth);
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    expect(loginRequired[0]?.pending).toBe(5);
    await expectStillHeld(requests);

    await auth.logout();
    for (const request of requests) {
      const error = await rejectionOf(request.promise);
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect(error).toMatchObject({ reason: 'logout', action: 'sign-in' });
    }
    expect(auth.session.status).toBe('signed-out');
  });

  it('loginTimeout rejects the held requests with SessionExpiredError (reason login-timeout)', async () => {
    const { auth, loginRequired } = await endingSession({ loginRequired: 'wait', loginTimeout: 200 });
    const requests = fiveRequests(auth);
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    expect(loginRequired[0]?.pending).toBe(5);

    const started = Date.now();
    for (const request of requests) {
      const error = await rejectionOf(request.promise);
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect(error).toMatchObject({ reason: 'login-timeout' });
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("a request's own AbortSignal aborts it while held (AbortError), and the others stay held", async () => {
    const { auth, loginRequired } = await endingSession({ loginRequired: 'wait' });
    const controller = new AbortController();
    const aborted = [track(auth.fetch('me', { signal: controller.signal })), track(auth.http.get('me', { signal: controller.signal }).json())];
    const others = [track(auth.fetch('me')), track(auth.http.get('items/1').json())];
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    expect(loginRequired[0]?.pending).toBe(4);

    controller.abort();
    for (const request of aborted) {
      const error = await rejectionOf(request.promise);
      expect(error).toMatchObject({ name: 'AbortError' });
    }
    await expectStillHeld(others);
    await auth.login(await server.issueTokens());
    expect((await (others[0]?.promise as Promise<Response>)).status).toBe(200);
    expect(await others[1]?.promise).toEqual({ id: 1, name: 'Teapot' });
  });

  it('a request whose signal aborts before the session ends is not held', async () => {
    const { auth, loginRequired } = await endingSession({ loginRequired: 'wait' });
    const controller = new AbortController();
    const request = track(auth.fetch('me', { signal: controller.signal }));
    // Abort while it waits for the (slow) refresh.
    await vi.waitFor(() => expect(auth.session.status).toBe('refreshing'), { timeout: 5000, interval: 5 });
    controller.abort();
    expect(await rejectionOf(request.promise)).toMatchObject({ name: 'AbortError' });
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 5000 });
    expect(loginRequired[0]?.pending).toBe(0);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('a 401 that nothing can renew ends the session (reason no-refresh-token)', () => {
  it("no refresh strategy, 'reject': SessionExpiredError", async () => {
    const { auth, loginRequired, expired } = makeClient({ refresh: undefined });
    await auth.login(await server.issueTokens());
    server.expireAll();

    const error = await rejectionOf(auth.http.get('me'));
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toMatchObject({ reason: 'no-refresh-token', action: 'sign-in' });
    expect(expired.map((e) => e.reason)).toEqual(['no-refresh-token']);
    await vi.waitFor(() => expect(loginRequired).toEqual([{ reason: 'no-refresh-token', pending: 0 }]), { timeout: 2000 });
    expect(auth.session.status).toBe('expired');
    expect(server.stats.tokenCalls).toBe(0);
    // auth.fetch in the same state: it rejects too (there is no session to send).
    expect(await rejectionOf(auth.fetch('me'))).toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
  });

  it("no refresh strategy, 'wait': the request is held, and login() lets it through", async () => {
    const { auth, loginRequired } = makeClient({ refresh: undefined, loginRequired: 'wait' });
    await auth.login(await server.issueTokens());
    server.expireAll();

    const request = track(auth.http.get('me').json());
    await vi.waitFor(() => expect(loginRequired).toEqual([{ reason: 'no-refresh-token', pending: 1 }]), { timeout: 5000 });
    await expectStillHeld([request]);
    await auth.login(await server.issueTokens());
    await expect(request.promise).resolves.toMatchObject({ sub: 'alice' });
  });

  it('several 401s at once end the session once (one sessionExpired, one loginRequired)', async () => {
    const { auth, loginRequired, expired } = makeClient({ refresh: undefined });
    await auth.login(await server.issueTokens());
    server.expireAll();

    const results = await Promise.allSettled([auth.fetch('me'), auth.http.get('me'), auth.fetch('items/1'), auth.http.get('items/2')]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect(result.status === 'rejected' && result.reason).toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'no-refresh-token' });
    }
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 2000 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
    expect(expired.map((e) => e.reason)).toEqual(['no-refresh-token']);
    expect(loginRequired).toEqual([{ reason: 'no-refresh-token', pending: 0 }]);
  });

  it('oauth2Refresh without a refresh token: no call to the token endpoint, the session ends', async () => {
    const { auth, expired } = makeClient();
    const issued = await server.issueTokens();
    await auth.login({ access_token: issued.access_token, token_type: 'Bearer', expires_in: issued.expires_in });
    server.expireAll();

    expect(await rejectionOf(auth.fetch('me'))).toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'no-refresh-token' });
    expect(expired.map((e) => e.reason)).toEqual(['no-refresh-token']);
    expect(server.stats.tokenCalls).toBe(0);
    await expect(auth.refresh()).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
  });
});

describe('a late 401 for a token sent before logout()', () => {
  it.each(['reject', 'wait'] as const)("%s: rejects with SessionExpiredError (logout) and ends no session", async (mode) => {
    const { auth, loginRequired, expired } = makeClient({ loginRequired: mode });
    const { logout: logouts } = recordEvents(auth, ['logout']);
    await auth.login(await server.issueTokens());
    // Judged after the delay, by then with a stale token and a signed-out client.
    const slow = auth.fetch('slow-check?ms=500');
    await vi.waitFor(() => expect(server.stats.requestsByPath['/api/slow-check']).toBe(1), { timeout: 5000, interval: 5 });
    server.expireAll();
    await auth.logout();

    const error = await rejectionOf(slow);
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toMatchObject({ reason: 'logout' });
    expect(logouts).toHaveLength(1);
    expect(expired).toEqual([]);
    expect(loginRequired).toEqual([]);
    expect(server.stats.tokenCalls).toBe(0);
    expect(auth.session.status).toBe('signed-out');
  });
});
