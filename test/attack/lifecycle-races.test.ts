/**
 * Attack: the client's lifecycle calls in the same turn as each other (a "sign out" handler that also cancels a
 * pending "refresh now", a timer firing as the user signs out), and calls after `dispose()`.
 *
 * `refresh()` awaited the stored session's first read before it looked at anything, even when that read was long
 * done: one microtask, enough for a `logout()` called right after it to run first. The refresh then started under the
 * new, signed-out generation: with a cookie session (`sessionRefresh`, which needs no refresh token) it minted a new
 * access token, emitted `refresh` after `logout` and left the session `active` (behaviour 8: a sign-out wins over a
 * refresh asked for before it).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customRefresh, sessionRefresh } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;
/** Calls of the session endpoint (it mints a token for as long as "the cookie" lives, which is always here). */
let minted = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/session') {
      minted += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: `at-minted-${minted}`, expires_in: 3600 }));
      return;
    }
    res.writeHead(req.headers.authorization ? 200 : 401);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a sign-out in the same turn as refresh()', () => {
  it('refresh() then logout(): the refresh does not sign the user back in', async () => {
    const auth = createClient({ baseUrl: origin, refresh: sessionRefresh({ url: `${origin}/session` }) });
    await auth.login({ accessToken: 'at-first' });
    const events: string[] = [];
    for (const type of ['logout', 'refresh', 'login'] as const) auth.on(type, () => events.push(type));
    minted = 0;
    const refreshed = auth.refresh().then(
      () => 'resolved',
      (error: { name?: string; reason?: string }) => `${error.name}:${error.reason}`,
    );
    await auth.logout();
    expect(await refreshed).toBe('SessionExpiredError:logout');
    expect(auth.session.status).toBe('signed-out');
    expect(await auth.getAccessToken()).toBeUndefined();
    expect(events).toEqual(['logout']);
    expect(minted).toBe(0);
  });

  it('refresh() after the logout has settled still asks the cookie session (a reload with a live session)', async () => {
    const auth = createClient({ baseUrl: origin, refresh: sessionRefresh({ url: `${origin}/session` }) });
    await auth.login({ accessToken: 'at-first' });
    await auth.logout();
    await auth.refresh();
    expect(auth.session.status).toBe('active');
    expect(await auth.getAccessToken()).toMatch(/^at-minted-/);
  });

  it('getAccessToken() then logout(): undefined, and no refresh runs', async () => {
    let refreshes = 0;
    const auth = createClient({
      baseUrl: origin,
      refresh: customRefresh(async () => {
        refreshes += 1;
        return { accessToken: `at-${refreshes}`, refreshToken: 'rt' };
      }),
    });
    await auth.login({ accessToken: 'at-0', refreshToken: 'rt', expiresAt: Date.now() - 1000 });
    const token = auth.getAccessToken();
    await auth.logout();
    expect(await token).toBeUndefined();
    expect(refreshes).toBe(0);
    expect(auth.session.status).toBe('signed-out');
  });
});

describe('a sign-out with a cookie session', () => {
  // With sessionRefresh (no refresh token needed), a 401 to a request without a token is cured by asking the session
  // endpoint, as after a reload with a live session. After an explicit logout() that signed the user back in (the
  // next background poll minted a token, announced as a `refresh`). A sign-out here or in another tab now marks the
  // client: a 401 does not mint until login() or an explicit refresh() (or a reload).
  it('a request after logout() does not sign the user back in', async () => {
    const auth = createClient({ baseUrl: origin, refresh: sessionRefresh({ url: `${origin}/session` }) });
    await auth.login({ accessToken: 'at-first' });
    await auth.logout();
    minted = 0;
    const response = await auth.fetch('/poll');
    expect(response.status).toBe(401);
    expect(minted).toBe(0);
    expect(auth.session.status).toBe('signed-out');
  });
});

describe('after dispose()', () => {
  it('dispose() twice is harmless, and the lifecycle calls settle', async () => {
    const auth = createClient({ baseUrl: origin, refresh: sessionRefresh({ url: `${origin}/session` }) });
    await auth.login({ accessToken: 'at-first' });
    auth.dispose();
    auth.dispose();
    const settled = await Promise.allSettled([auth.refresh(), auth.getAccessToken(), auth.logout(), auth.fetch('/x')]);
    expect(settled.map((result) => result.status)).toHaveLength(4);
    expect(settled[0]).toMatchObject({ status: 'rejected', reason: { name: 'SessionExpiredError' } });
  });

  // A disposed client took a sign-in and attached its token to requests, with nobody listening to its events any more
  // (React code that disposes in an effect's cleanup and keeps the object): login() now rejects with a TypeError.
  it('login() after dispose() is refused and no token is sent', async () => {
    const auth = createClient({ baseUrl: origin });
    auth.dispose();
    const login = await auth.login({ accessToken: 'at-after-dispose' }).then(
      () => 'accepted',
      () => 'refused',
    );
    const response = await auth.fetch('/x');
    expect(login).toBe('refused');
    expect(response.status).toBe(401);
  });
});
