/**
 * fetch is looked up per send (DESIGN behaviour 15): an app creates its client at module load, and msw 2 patches
 * `globalThis.fetch` later, at `server.listen()`. Every request of that client, and its refresh calls, must reach
 * msw's handlers, and the per-attempt timeout must still bound them (Node's undici `headersTimeout` fast path would
 * not: msw ignores the dispatcher, so the attempt falls back to an AbortSignal).
 */
import { delay, http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, oauth2Refresh, TimeoutError } from '../src/index.js';
import { isNodeBuiltinFetch } from '../src/attempt.js';

const API = 'https://api.example.test';
const TOKEN_ENDPOINT = 'https://auth.example.test/token';
const builtinFetch = globalThis.fetch;

// Made at module load, before server.listen(), as an app module would be. The default timeout (30 s) would pick
// undici's headersTimeout on Node; the second client shows that msw's fetch gets an AbortSignal instead.
const auth = createAuthClient({ baseUrl: API, refresh: oauth2Refresh({ tokenEndpoint: TOKEN_ENDPOINT, clientId: 'app' }), retry: 0 });
const slow = createAuthClient({ baseUrl: API, timeout: 10_000, retry: 0 });

const seen = { api: [] as (string | null)[], refreshes: 0 };
const server = setupServer(
  http.get(`${API}/me`, ({ request }) => {
    const authorization = request.headers.get('authorization');
    seen.api.push(authorization);
    return authorization === 'Bearer fresh' ? HttpResponse.json({ name: 'alice' }) : new HttpResponse(null, { status: 401 });
  }),
  http.post(TOKEN_ENDPOINT, async ({ request }) => {
    seen.refreshes += 1;
    const form = new URLSearchParams(await request.text());
    if (form.get('refresh_token') !== 'r1') return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 });
    return HttpResponse.json({ access_token: 'fresh', token_type: 'Bearer', expires_in: 3600, refresh_token: 'r2' });
  }),
  http.get(`${API}/hang`, async () => {
    await delay('infinite');
    return HttpResponse.json({});
  }),
);

describe('a client created before msw listens', () => {
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    seen.api = [];
    seen.refreshes = 0;
  });
  afterAll(() => {
    server.close();
    auth.dispose();
    slow.dispose();
  });

  it('sends its requests and its refresh through msw: a 401, one refresh, a replay', async () => {
    await auth.login({ accessToken: 'stale', refreshToken: 'r1' });
    await expect(auth.http.get('me').json()).resolves.toEqual({ name: 'alice' });
    expect(seen).toEqual({ api: ['Bearer stale', 'Bearer fresh'], refreshes: 1 });
    const response = await auth.fetch('/me');
    expect(response.status).toBe(200);
  });

  it('bounds attempts with its timeout although msw ignores undici dispatchers', async () => {
    expect(isNodeBuiltinFetch(globalThis.fetch)).toBe(false);
    await slow.login({ accessToken: 'fresh' });
    const started = Date.now();
    await expect(slow.fetch('/hang')).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_900);
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 20_000);
});

describe('isNodeBuiltinFetch', () => {
  it("recognises Node's own fetch and nothing else", () => {
    expect(isNodeBuiltinFetch(builtinFetch)).toBe(true);
    expect(isNodeBuiltinFetch((input: RequestInfo, init?: RequestInit) => builtinFetch(input, init))).toBe(false);
    expect(isNodeBuiltinFetch(builtinFetch.bind(globalThis))).toBe(false);
    expect(isNodeBuiltinFetch(undefined)).toBe(false);
    expect(isNodeBuiltinFetch(builtinFetch)).toBe(true);
  });
});
