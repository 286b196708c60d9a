/**
 * An app's own tests, as a newcomer writes them: vitest in the jsdom environment, msw 2 standing in for the API and
 * the token endpoint, and the app's client imported from its module (created at load time, before msw starts).
 */
import { isAuthFetchError, isSessionExpiredError, type AuthEvents } from 'authfetch';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { API, TOKEN_ENDPOINT, auth } from '../src/api.js';
import { describeFailure } from '../src/errors-and-events.js';

/** The token endpoint's state: which access token the API accepts, and which refresh tokens it still honours. */
const state = { access: 'access-1', refreshCalls: 0, revoked: new Set<string>(), apiHits: 0 };

const server = setupServer(
  http.post(TOKEN_ENDPOINT, async ({ request }) => {
    state.refreshCalls += 1;
    const form = new URLSearchParams(await request.text());
    const refreshToken = form.get('refresh_token') ?? '';
    if (form.get('grant_type') !== 'refresh_token' || state.revoked.has(refreshToken)) {
      return HttpResponse.json({ error: 'invalid_grant' }, { status: 400 });
    }
    state.access = `access-${state.refreshCalls + 1}`;
    return HttpResponse.json({ access_token: state.access, token_type: 'Bearer', expires_in: 3600, refresh_token: refreshToken });
  }),
  http.all(`${API}/*`, ({ request }) => {
    state.apiHits += 1;
    if (request.headers.get('authorization') !== `Bearer ${state.access}`) {
      return new HttpResponse(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' } });
    }
    const path = new URL(request.url).pathname;
    if (path.endsWith('/me')) return HttpResponse.json({ name: 'Alice' });
    if (path.endsWith('/admin')) {
      return new HttpResponse(null, { status: 403, headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope", scope="admin"' } });
    }
    return HttpResponse.json({ title: 'Not found' }, { status: 404 });
  }),
);

/** Record the payloads of the events of one type during the current test. */
function record<K extends keyof AuthEvents>(type: K): AuthEvents[K][] {
  const seen: AuthEvents[K][] = [];
  onTestFinished(auth.on(type, (payload) => seen.push(payload)));
  return seen;
}

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(async () => {
  server.resetHandlers();
  await auth.logout();
  Object.assign(state, { access: 'access-1', refreshCalls: 0, revoked: new Set<string>(), apiHits: 0 });
});
afterAll(() => {
  auth.dispose();
  server.close();
});

describe('the app client under msw, in jsdom', () => {
  it('runs in jsdom', () => {
    expect(typeof window).toBe('object');
    expect(typeof document.createElement).toBe('function');
  });

  it('sends through msw with the token and reads JSON', async () => {
    await auth.login({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    await expect(auth.http.get('me').json()).resolves.toEqual({ name: 'Alice' });
    expect(state.apiHits).toBe(1);
  });

  it('refreshes once on a 401 and replays every request that met it', async () => {
    const refreshes = record('refresh');
    await auth.login({ accessToken: 'stale', refreshToken: 'refresh-1' });
    const names = await Promise.all([1, 2, 3].map(() => auth.http.get('me').json<{ name: string }>()));
    expect(names).toEqual([{ name: 'Alice' }, { name: 'Alice' }, { name: 'Alice' }]);
    expect(state.refreshCalls).toBe(1);
    expect(refreshes).toMatchObject([{ trigger: 'unauthorized', source: 'local' }]);
  });

  it('narrows a 403 by code to its required scope, and auth.fetch hands back a 404 as fetch would', async () => {
    await auth.login({ accessToken: 'access-1', refreshToken: 'refresh-1' });
    const error: unknown = await auth.http.get('admin').then(() => undefined, (e: unknown) => e);
    expect(isAuthFetchError(error) && error.code === 'ERR_FORBIDDEN' ? error.requiredScope : undefined).toEqual(['admin']);
    expect(describeFailure(error)).toContain('needs admin');
    const response = await auth.fetch('missing');
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ title: 'Not found' });
  });

  it('ends the session when the token endpoint answers invalid_grant', async () => {
    const ended = record('sessionExpired');
    state.revoked.add('refresh-revoked');
    await auth.login({ accessToken: 'stale', refreshToken: 'refresh-revoked' });
    const error: unknown = await auth.http.get('me').then(() => undefined, (e: unknown) => e);
    expect(isSessionExpiredError(error)).toBe(true);
    expect(ended).toMatchObject([{ reason: 'refresh-rejected' }]);
    expect(auth.session.status).toBe('expired');
  });
});
