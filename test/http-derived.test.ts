/**
 * `auth.http.create()` and `auth.http.extend()` keep the whole auth path (DESIGN behaviour 15): the token, the
 * refresh and replay after a 401, the client's per-attempt timeout (not ky's 10 s), the contract's retry policy, and
 * the typed errors, with hooks and a `prefixUrl` of their own. Against the example server on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import type { Options } from 'ky';
import { NotFoundError, TimeoutError, isAuthFetchError } from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { caught } from './helpers/caught.js';

const api = useExampleServer();
const client = useClients();

async function signedIn(options: Parameters<typeof client>[0] = {}) {
  const auth = client({ ...exampleClientOptions(api), ...options });
  const issued = await api.issueTokens();
  await auth.login(issued);
  return { auth, token: issued.access_token };
}

/** A beforeRequest hook that marks requests, and an afterResponse hook that records statuses. */
function recordingHooks(mark: string) {
  const statuses: number[] = [];
  const hooks: Options['hooks'] = {
    beforeRequest: [(request) => request.headers.set('x-app', mark)],
    afterResponse: [(_request, _options, response) => void statuses.push(response.status)],
  };
  return { hooks, statuses };
}

describe.each(['create', 'extend'] as const)('auth.http.%s()', (how) => {
  it('sends the token to its own prefixUrl, with its hooks, and refreshes and replays once after a 401', async () => {
    const { auth, token } = await signedIn({ baseUrl: `${api.url}/elsewhere` });
    const { hooks, statuses } = recordingHooks(how);
    const derived = auth.http[how]({ prefixUrl: `${api.url}/api/`, hooks });
    await expect(derived.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);

    api.expireAll();
    await expect(derived.get('/me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(api.stats.refreshCalls).toBe(1);
    expect(api.stats.lastAuthorization['/api/me']).not.toBe(`Bearer ${token}`);
    // ky's hooks see what the app sees: the final answers, the 401 cured inside the auth path.
    expect(statuses).toEqual([200, 200]);
  });

  it('resolves a relative prefixUrl against baseUrl, and leaves absolute URLs alone', async () => {
    const { auth, token } = await signedIn({ baseUrl: `${api.url}/` });
    const derived = auth.http[how]({ prefixUrl: 'api' });
    await expect(derived.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    await expect(derived.get(`${api.url}/api/me`).json()).resolves.toMatchObject({ sub: 'alice' });
    expect(api.stats.requestsByPath['/api/me']).toBe(2);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);
  });

  it("uses the client's per-attempt timeout, and its typed errors name the URL", async () => {
    const { auth } = await signedIn({ timeout: 200, retry: 0 });
    const derived = auth.http[how]({ hooks: recordingHooks(how).hooks });
    const started = Date.now();
    const error = await caught(derived.get('slow?ms=5000').json());
    expect(error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((error as TimeoutError).message).toContain(`${api.url}/api/slow`);

    const missing = await caught(derived.get('no-such-route').json());
    expect(missing).toBeInstanceOf(NotFoundError);
    expect((missing as NotFoundError).message).toContain(`GET ${api.url}/api/no-such-route`);
  });

  it('refuses a fetch of its own, which would send around the auth path', async () => {
    const { auth } = await signedIn();
    expect(() => auth.http[how]({ fetch: globalThis.fetch })).toThrow(/createAuthClient\(\{ fetch \}\)/);
  });
});

describe('derived instances of derived instances', () => {
  it('extend() keeps the parent prefixUrl and hooks, and shows the prefix to a function', async () => {
    const { auth, token } = await signedIn({ baseUrl: `${api.url}/elsewhere` });
    const first = recordingHooks('first');
    const parent = auth.http.create({ prefixUrl: `${api.url}/api`, hooks: first.hooks });
    let seenPrefix: unknown;
    const child = parent.extend((options) => {
      seenPrefix = options.prefixUrl;
      return { headers: { 'x-child': '1' } };
    });
    await expect(child.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(seenPrefix).toBe(`${api.url}/api/`);
    expect(first.statuses).toEqual([200]);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);
  });

  it("create() on a derived instance starts again from auth.http's defaults, not from ky's", async () => {
    const { auth } = await signedIn({ retry: 0 });
    const derived = auth.http.extend({ prefixUrl: `${api.url}/api/status` }).create();
    // The client's baseUrl again, the retry policy again (a 404 is never retried), the typed errors again.
    const error = await caught(derived.get('status/404').json());
    expect(isAuthFetchError(error) && error.code).toBe('ERR_NOT_FOUND');
    expect(api.stats.requestsByPath['/api/status/404']).toBe(1);
  });

  it('a per-call retry given as a number keeps the guard: an ended session is not retried', async () => {
    const { auth } = await signedIn({ refresh: undefined });
    api.expireAll();
    const error = await caught(auth.http.extend({ retry: 3 }).get('me', { retry: 2 }).json());
    expect(isAuthFetchError(error) && error.code).toBe('ERR_SESSION_EXPIRED');
    expect(api.stats.requestsByPath['/api/me']).toBe(1);
  });
});
