/**
 * Session generations (DESIGN behaviour 8, issue 9 item 1): `logout()`, `login()`, a session end and `dispose()`
 * win over a refresh in flight. Its strategy's signal is aborted, its late result is never stored (also not in
 * IndexedDB), emitted or replayed with; the requests waiting on it reject (`'logout'`), or, after a sign-in, go on
 * only when the user is the same (`'user-changed'` otherwise), and so do requests held by `loginRequired: 'wait'`.
 * Against the example server on 127.0.0.1 with JWT access tokens (their `sub` names the user) and a slow refresh.
 */
import { describe, expect, it } from 'vitest';
import {
  SessionExpiredError,
  createAuthClient,
  customRefresh,
  indexedDbStorage,
  oauth2Refresh,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type RefreshContext,
  type TokenSet,
  type TokenStorage,
} from '../src/index.js';
import { useClients, useExampleServer } from './helpers/example.js';
import { useFreshIndexedDb } from './helpers/fake-idb.js';
import { recordEvents } from './helpers/events.js';

const server = useExampleServer({ refreshDelayMs: 300 });
const createClient = useClients();
useFreshIndexedDb();

/** The refresh_token grant against the example server, remembering the signal each attempt was given. */
function recordingRefresh(signals: AbortSignal[]) {
  const grant = oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: 'demo-spa' });
  return customRefresh(async (context: RefreshContext) => {
    signals.push(context.signal);
    return grant.refresh(context);
  });
}

interface Watched {
  auth: AuthClient;
  signals: AbortSignal[];
  events: string[];
}

function makeClient(options: AuthClientOptions = {}): Watched {
  const signals: AbortSignal[] = [];
  const auth = createClient({ baseUrl: `${server.url}/api`, refresh: recordingRefresh(signals), ...options });
  const events = recordEvents(auth, ['login', 'logout', 'refresh', 'refreshError', 'sessionExpired', 'loginRequired']).order;
  return { auth, signals, events };
}

/** Signed in as `sub`, then every token issued so far answers 401: the next request starts a (300 ms) refresh. */
async function staleSession(watched: Watched, sub = 'alice'): Promise<void> {
  await watched.auth.login(await server.issueTokens({ sub }));
  server.expireAll();
  server.resetStats();
}

const outcome = (promise: Promise<Response>): Promise<{ sub?: string; error?: unknown }> =>
  promise.then(
    async (response) => ({ sub: ((await response.json()) as { sub?: string }).sub }),
    (error: unknown) => ({ error }),
  );

/** Three requests that meet the 401 and wait on the refresh it starts. */
async function waitingOnRefresh(auth: AuthClient) {
  const requests = [outcome(auth.fetch('me')), outcome(auth.fetch('me')), outcome(auth.http.get('me'))];
  await until(() => auth.session.status === 'refreshing');
  return requests;
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const reasonOf = (result: { error?: unknown }) => (result.error instanceof SessionExpiredError ? result.error.reason : result.error);
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('logout() during a refresh', () => {
  it('aborts the strategy, rejects the waiting requests (logout), and the late result is never used', async () => {
    const watched = makeClient();
    const { auth, signals, events } = watched;
    await staleSession(watched);
    const requests = await waitingOnRefresh(auth);

    await auth.logout();
    expect(auth.session.status).toBe('signed-out');
    expect(signals.at(-1)?.aborted).toBe(true);
    expect((await Promise.all(requests)).map(reasonOf)).toEqual(['logout', 'logout', 'logout']);

    await wait(450); // past the token endpoint's answer
    expect(auth.session.status).toBe('signed-out');
    expect(await auth.getAccessToken()).toBeUndefined();
    expect(events).toEqual(['login', 'logout']);
    // Nothing was sent with a token after the logout.
    expect(server.stats.lastAuthorization['/api/me']).toBeDefined();
    const hitsAfter = server.stats.requestsByPath['/api/me'];
    expect(hitsAfter).toBe(3);
  });

  it('getAccessToken() waiting on the refresh gives undefined, not the late token', async () => {
    const watched = makeClient();
    await staleSession(watched);
    await waitingOnRefresh(watched.auth);
    const token = watched.auth.getAccessToken();
    await watched.auth.logout();
    expect(await token).toBeUndefined();
  });

  it('with IndexedDB: the storage stays empty after the late answer', async () => {
    const storage = indexedDbStorage({ name: 'generations' });
    const watched = makeClient({ storage });
    await staleSession(watched);
    const requests = await waitingOnRefresh(watched.auth);
    await watched.auth.logout();
    await Promise.all(requests);
    await wait(450);
    expect(await storage.get()).toBeUndefined();
    // A new client over the same database (a reload) starts signed out.
    const reloaded = createClient({ baseUrl: `${server.url}/api`, storage: indexedDbStorage({ name: 'generations' }) });
    expect(await reloaded.getAccessToken()).toBeUndefined();
  });

  it('a strategy that ignores its signal is not waited for', async () => {
    let calls = 0;
    const auth = createClient({
      baseUrl: `${server.url}/api`,
      refresh: customRefresh(() => {
        calls += 1;
        return new Promise(() => undefined); // never settles, ignores the signal
      }),
    });
    await auth.login(await server.issueTokens());
    server.expireAll();
    const request = outcome(auth.fetch('me'));
    await until(() => calls === 1);
    await auth.logout();
    expect(reasonOf(await request)).toBe('logout');
    expect(auth.session.status).toBe('signed-out');
  });
});

describe('login() during a refresh', () => {
  it("another user's sign-in: waiting requests reject (user-changed) and the new user's tokens stay", async () => {
    const watched = makeClient();
    const { auth, events } = watched;
    await staleSession(watched, 'alice');
    const requests = await waitingOnRefresh(auth);

    const bob = await server.issueTokens({ sub: 'bob' });
    await auth.login(bob);
    expect((await Promise.all(requests)).map(reasonOf)).toEqual(['user-changed', 'user-changed', 'user-changed']);
    await wait(450);
    expect(await auth.getAccessToken()).toBe(bob.access_token);
    expect(events.filter((e) => e === 'refresh')).toEqual([]);
    expect(((await (await auth.fetch('me')).json()) as { sub: string }).sub).toBe('bob');
  });

  it("getAccessToken() waiting on alice's refresh gives bob's token after bob signs in", async () => {
    const watched = makeClient();
    await staleSession(watched, 'alice');
    await waitingOnRefresh(watched.auth);
    const token = watched.auth.getAccessToken();
    const bob = await server.issueTokens({ sub: 'bob' });
    await watched.auth.login(bob);
    expect(await token).toBe(bob.access_token);
  });

  it("the same user's sign-in: waiting requests go on with the new tokens", async () => {
    const watched = makeClient();
    await staleSession(watched, 'alice');
    const requests = await waitingOnRefresh(watched.auth);
    const again = await server.issueTokens({ sub: 'alice' });
    await watched.auth.login(again);
    expect((await Promise.all(requests)).map((r) => r.sub)).toEqual(['alice', 'alice', 'alice']);
    expect(server.stats.lastAuthorization['/api/me']).toBe(`Bearer ${again.access_token}`);
    await wait(450);
    expect(await watched.auth.getAccessToken()).toBe(again.access_token);
  });

  it("a late 401 of the first user's request is not replayed with the second user's token", async () => {
    const watched = makeClient();
    const alice = await server.issueTokens({ sub: 'alice' });
    await watched.auth.login(alice);
    server.expireAll();
    // Waits 200 ms, then checks the token: alice's is refused, by which time bob has signed in.
    const slow = outcome(watched.auth.fetch('slow-check?ms=200'));
    await wait(50);
    await watched.auth.login(await server.issueTokens({ sub: 'bob' }));
    expect(reasonOf(await slow)).toBe('user-changed');
    expect(server.stats.requestsByPath['/api/slow-check']).toBe(1);
    expect(server.stats.lastAuthorization['/api/slow-check']).toBe(`Bearer ${alice.access_token}`);
    expect(server.stats.refreshCalls).toBe(0);
  });
});

describe("loginRequired: 'wait' and a different user", () => {
  it("held requests of alice's ended session reject (user-changed) when bob signs in; alice's own sign-in replays them", async () => {
    const watched = makeClient({ loginRequired: 'wait' });
    const { auth } = watched;
    await staleSession(watched, 'alice');
    server.revokeRefreshTokens();
    const first = [outcome(auth.fetch('me')), outcome(auth.fetch('me'))];
    await until(() => auth.session.status === 'expired');
    await wait(20);
    await auth.login(await server.issueTokens({ sub: 'bob' }));
    expect((await Promise.all(first)).map(reasonOf)).toEqual(['user-changed', 'user-changed']);

    // Alice again: her session ends, her held requests wait, and her own sign-in replays them.
    await auth.logout();
    await auth.login(await server.issueTokens({ sub: 'alice' }));
    server.expireAll();
    server.revokeRefreshTokens();
    const second = [outcome(auth.fetch('me')), outcome(auth.fetch('me'))];
    await until(() => auth.session.status === 'expired');
    await wait(20);
    await auth.login(await server.issueTokens({ sub: 'alice' }));
    expect((await Promise.all(second)).map((r) => r.sub)).toEqual(['alice', 'alice']);
  });
});

describe('dispose() during a refresh', () => {
  it('aborts it; the waiting requests reject and nothing is emitted afterwards', async () => {
    const watched = makeClient();
    const { auth, signals, events } = watched;
    await staleSession(watched);
    const requests = await waitingOnRefresh(auth);
    const before = [...events];
    auth.dispose();
    expect(signals.at(-1)?.aborted).toBe(true);
    for (const result of await Promise.all(requests)) expect(result.error).toBeInstanceOf(SessionExpiredError);
    await wait(450);
    expect(events).toEqual(before);
  });
});

describe('dispose() during a refresh over shared storage', () => {
  it('stores the rotated tokens for the other tabs, with no event, while its own requests reject', async () => {
    const storage = indexedDbStorage({ name: 'dispose-shared' });
    const watched = makeClient({ storage });
    const { auth, events } = watched;
    await staleSession(watched);
    const before = await storage.get();
    const requests = await waitingOnRefresh(auth);
    const seen = [...events];
    auth.dispose();
    for (const result of await Promise.all(requests)) expect(result.error).toBeInstanceOf(SessionExpiredError);
    await until(() => server.stats.refreshCalls === 1);
    await wait(450);
    const after = await storage.get();
    expect(after?.refreshToken).toBeDefined();
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect(events).toEqual(seen);
    // Another tab over the same storage goes on with them: no reuse of the spent refresh token, no 401.
    const other = createClient({ baseUrl: `${server.url}/api`, storage: indexedDbStorage({ name: 'dispose-shared' }), refresh: recordingRefresh([]) });
    expect((await other.fetch('me')).status).toBe(200);
    expect(server.stats.reuseDetected).toBe(0);
    expect(server.stats.refreshCalls).toBe(1);
  });
});

describe('another tab signs out while this one stores a refresh', () => {
  it("its clear landing between this tab's compare and set does not leave the refreshed tokens in storage", async () => {
    // Shared storage as two tabs see it: the other tab's clear is its own transaction, outside this page's queue.
    let stored: TokenSet | undefined;
    let clearAfterNextRead = false;
    const storage: TokenStorage = {
      name: 'cross-tab-clear',
      shared: true,
      async get() {
        const value = stored;
        if (clearAfterNextRead) {
          clearAfterNextRead = false;
          stored = undefined; // the other tab's logout() lands right after this read
        }
        return value;
      },
      async set(tokens) {
        stored = tokens;
      },
      async clear() {
        stored = undefined;
      },
    };
    const grant = oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: 'demo-spa' });
    const auth = createClient({
      baseUrl: `${server.url}/api`,
      storage,
      crossTab: true,
      refresh: customRefresh(async (context: RefreshContext) => {
        const tokens = await grant.refresh(context);
        clearAfterNextRead = true; // the next read is the compare of compare-and-set
        return tokens;
      }),
    });
    await auth.login(await server.issueTokens());
    server.expireAll();
    expect((await auth.fetch('me')).status).toBe(200);
    expect(stored).toBeDefined(); // the refreshed tokens landed after the other tab's clear

    // The other tab's logout notice arrives.
    const otherTab = new BroadcastChannel('authfetch:cross-tab-clear');
    otherTab.postMessage({ type: 'logout', version: 1, from: 'other-tab' });
    otherTab.close();
    await until(() => auth.session.status === 'signed-out');
    await until(() => stored === undefined);
  });
});

describe('event order (behaviour 12)', () => {
  it('a request rejected with SessionExpiredError rejects after sessionExpired and loginRequired were emitted', async () => {
    const watched = makeClient();
    const { auth } = watched;
    await staleSession(watched);
    server.revokeRefreshTokens();
    const seen: string[] = [];
    const payloads: AuthEvents['loginRequired'][] = [];
    auth.on('sessionExpired', () => seen.push('sessionExpired'));
    auth.on('loginRequired', (payload) => {
      seen.push('loginRequired');
      payloads.push(payload);
    });
    const settled = Promise.all([
      auth.fetch('me').catch((error: unknown) => seen.push(`rejected:${(error as SessionExpiredError).reason}`)),
      auth.http.get('me').catch((error: unknown) => seen.push(`rejected:${(error as SessionExpiredError).reason}`)),
    ]);
    await settled;
    expect(seen).toEqual(['sessionExpired', 'loginRequired', 'rejected:refresh-rejected', 'rejected:refresh-rejected']);
    expect(payloads).toEqual([{ reason: 'refresh-rejected', pending: 0 }]);
  });

  it('also without a refresh strategy (no-refresh-token)', async () => {
    const auth = createAuthClient({ baseUrl: `${server.url}/api` });
    try {
      await auth.login(await server.issueTokens());
      server.expireAll();
      const seen: string[] = [];
      auth.on('sessionExpired', () => seen.push('sessionExpired'));
      auth.on('loginRequired', () => seen.push('loginRequired'));
      await auth.fetch('me').then(
        (response) => seen.push(`status:${response.status}`),
        (error: unknown) => seen.push(`rejected:${(error as SessionExpiredError).reason}`),
      );
      expect(seen.slice(0, 2)).toEqual(['sessionExpired', 'loginRequired']);
      expect(seen).toHaveLength(3);
    } finally {
      auth.dispose();
    }
  });
});
