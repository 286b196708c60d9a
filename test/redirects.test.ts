/**
 * Redirects (DESIGN behaviours 5 and 10), in Node, with three real origins (127.0.0.1 is the API, the only authorized
 * origin; 127.0.0.2 and 127.0.0.3 are others), Bearer and DPoP, 301/302/303/307/308:
 * - neither the token nor a DPoP proof reaches another origin, also on the way back to the API;
 * - same-origin redirects keep working, DPoP ones with a fresh proof for the new URL and method;
 * - only the API speaks for the session: another origin's 401, step-up challenge, 403, DPoP-Nonce and Date change
 *   nothing (no refresh, no event, no session end, no nonce, no clock).
 * The same in Chromium is in test/browser/urls.test.ts.
 */
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UnauthorizedError, createAuthClient, customRefresh, dpop, type AuthClient, type AuthClientOptions, type AuthEventType } from '../src/index.js';
import { refusedRedirectError } from '../src/auth-path/redirect.js';
import { isTransient } from '../src/errors/index.js';
import { redirectVia, startRecordingServer, type Recorded, type RecordingServer } from './helpers/recording.js';
import { recordEvents } from './helpers/events.js';

const TOKEN = 'redirect-test-token';
const STATUSES = [301, 302, 303, 307, 308] as const;
const EVENTS: AuthEventType[] = ['unauthorized', 'stepUp', 'forbidden', 'sessionExpired', 'loginRequired', 'refresh', 'refreshError'];

let api: RecordingServer;
let other: RecordingServer;
let third: RecordingServer;
const clients: AuthClient[] = [];

beforeAll(async () => {
  [api, other, third] = await Promise.all([startRecordingServer('127.0.0.1'), startRecordingServer('127.0.0.2'), startRecordingServer('127.0.0.3')]);
});
afterAll(() => Promise.all([api.close(), other.close(), third.close()]));
afterEach(() => {
  for (const auth of clients.splice(0)) auth.dispose();
  for (const server of [api, other, third]) server.reset();
});

/** A signed-in client of the API (Bearer, or DPoP-bound), counting refreshes and recording the session's events. */
async function signedIn(mode: 'bearer' | 'dpop', options: AuthClientOptions = {}) {
  let refreshes = 0;
  const auth = createAuthClient({
    baseUrl: api.url,
    retry: 0,
    dpop: mode === 'dpop' ? dpop({ keyStorage: 'memory' }) : undefined,
    refresh: customRefresh(() => {
      refreshes += 1;
      return { accessToken: `${TOKEN}-${refreshes}`, tokenType: mode === 'dpop' ? 'DPoP' : 'Bearer' };
    }),
    ...options,
  });
  clients.push(auth);
  const events = recordEvents(auth, EVENTS).order;
  await auth.login({ accessToken: TOKEN, tokenType: mode === 'dpop' ? 'DPoP' : 'Bearer' });
  return { auth, events, refreshes: () => refreshes };
}

/** The credentials a recorded request carried. */
function credentials(request: Recorded | undefined) {
  return { authorization: request?.headers.authorization, dpop: request?.headers.dpop };
}

/** The claims of the DPoP proof a request carried. */
const proofOf = (request: Recorded | undefined) => decodeJwt(request?.headers.dpop as string);

describe.each(['bearer', 'dpop'] as const)('%s', (mode) => {
  const scheme = mode === 'dpop' ? 'DPoP' : 'Bearer';

  it.each(STATUSES)('%i to another origin: the token and the proof stay behind (auth.fetch and auth.http)', async (status) => {
    const { auth } = await signedIn(mode);
    const away = redirectVia(api, '/moved', `${other.url}/landing`, status);
    expect((await auth.fetch(away)).status).toBe(200);
    await auth.http.get(away).json();
    expect(api.to('/moved').map(credentials)[0]?.authorization).toBe(`${scheme} ${TOKEN}`);
    expect(other.to('/landing').map(credentials)).toEqual([{}, {}].map(() => ({ authorization: undefined, dpop: undefined })));
  });

  it.each(STATUSES)('%i there and back (API, other origin, API): nothing comes back with the request', async (status) => {
    const { auth, events, refreshes } = await signedIn(mode);
    const back = redirectVia(other, '/bounce', `${api.url}/back?status=401`, status);
    const response = await auth.fetch(redirectVia(api, '/out', back, status));
    // The API's own 401 arrived through another origin, for a request that carried no token: it is not the API's
    // verdict on the token, so nothing is refreshed.
    expect(response.status).toBe(401);
    expect(credentials(other.to('/bounce')[0])).toEqual({ authorization: undefined, dpop: undefined });
    expect(credentials(api.to('/back')[0])).toEqual({ authorization: undefined, dpop: undefined });
    if (mode === 'dpop') {
      expect({ refreshes: refreshes(), events }).toEqual({ refreshes: 0, events: [] });
    }
  });

  it.each(STATUSES)('%i within the API: followed with the token', async (status) => {
    const { auth } = await signedIn(mode);
    const response = await auth.fetch(redirectVia(api, '/old', `${api.url}/new?x=1`, status), { method: 'POST', body: 'payload' });
    expect(response.status).toBe(200);
    const [first] = api.to('/old');
    const [second] = api.to('/new');
    expect(credentials(second).authorization).toBe(`${scheme} ${TOKEN}`);
    const keepsMethod = status === 307 || status === 308;
    expect({ method: second?.method, body: second?.body }).toEqual(keepsMethod ? { method: 'POST', body: 'payload' } : { method: 'GET', body: '' });
    if (mode === 'dpop') {
      // A fresh proof for the new URL and method (RFC 9449 section 4.2), not the first one carried along.
      const [before, after] = [proofOf(first), proofOf(second)];
      expect(before).toMatchObject({ htm: 'POST', htu: `${api.url}/old` });
      expect(after).toMatchObject({ htm: keepsMethod ? 'POST' : 'GET', htu: `${api.url}/new` });
      expect(after.jti).not.toBe(before.jti);
      if (!keepsMethod) expect(second?.headers['content-type']).toBeUndefined();
    }
  });

  it("another origin's 401 causes no refresh, no event, no session end, and comes back as the answer", async () => {
    const { auth, events, refreshes } = await signedIn(mode);
    const challenge = encodeURIComponent(`${scheme} error="invalid_token"`);
    const response = await auth.fetch(redirectVia(api, '/to-401', `${other.url}/guarded?status=401&www=${challenge}`));
    expect(response.status).toBe(401);
    await expect(auth.http.get(redirectVia(api, '/to-401', `${other.url}/guarded?status=401&www=${challenge}`)).json()).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect({ refreshes: refreshes(), events, status: auth.session.status }).toEqual({ refreshes: 0, events: [], status: 'active' });
  });

  it("another origin's 401 does not end a session that has no way to refresh", async () => {
    const { auth, events } = await signedIn(mode, { refresh: undefined });
    const response = await auth.fetch(redirectVia(api, '/to-401', `${other.url}/guarded?status=401`));
    expect(response.status).toBe(401);
    expect({ events, status: auth.session.status, token: await auth.getAccessToken() }).toEqual({ events: [], status: 'active', token: TOKEN });
    // Control: the API's own 401 does end it.
    await expect(auth.fetch('/own?status=401')).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
    expect(auth.session.status).toBe('expired');
  });

  it("another origin's step-up challenge and 403 raise no stepUp and no forbidden", async () => {
    const { auth, events } = await signedIn(mode);
    const stepUp = encodeURIComponent('Bearer error="insufficient_user_authentication", acr_values="mfa"');
    await auth.fetch(redirectVia(api, '/a', `${other.url}/step?status=401&www=${stepUp}`));
    await auth.fetch(redirectVia(api, '/b', `${other.url}/deny?status=403&www=${encodeURIComponent('Bearer error="insufficient_scope", scope="admin"')}`));
    await new Promise((resolve) => setTimeout(resolve, 20)); // forbidden is emitted once its error body is read
    expect(events).toEqual([]);
    // Control: the API's own 403 is reported.
    await auth.fetch('/deny?status=403');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(events).toEqual(['forbidden']);
  });

  it("another origin's Date does not move the server clock (a JWT would be judged expired by it)", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const jwt = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ exp, sub: 'alice' })).toString('base64url')}.`;
    const farFuture = encodeURIComponent(new Date(Date.now() + 86_400_000).toUTCString());
    for (const via of ['other', 'api'] as const) {
      const { auth, refreshes } = await signedIn(mode);
      await auth.login({ accessToken: jwt, tokenType: scheme });
      const lying = via === 'other' ? redirectVia(api, '/r', `${other.url}/clock?date=${farFuture}`) : `/clock?date=${farFuture}`;
      await auth.fetch(lying);
      await auth.fetch('/after');
      // Only the API's own Date makes the token look a day older, and so refreshed before the next request.
      expect({ via, refreshes: refreshes() }).toEqual({ via, refreshes: via === 'api' ? 1 : 0 });
    }
  });
});

describe('DPoP only', () => {
  it("another origin's DPoP-Nonce is not remembered; the API's own is", async () => {
    const { auth } = await signedIn('dpop');
    await auth.fetch(redirectVia(api, '/r', `${other.url}/n?nonce=evil-nonce`));
    await auth.fetch('/next');
    expect(proofOf(api.to('/next')[0]).nonce).toBeUndefined();
    await auth.fetch('/own?nonce=api-nonce');
    await auth.fetch('/later');
    expect(proofOf(api.to('/later')[0]).nonce).toBe('api-nonce');
  });

  it('a 307 to another origin keeps the method and body there, without token or proof (ky Request too)', async () => {
    const { auth } = await signedIn('dpop');
    await auth.fetch(redirectVia(api, '/post', `${other.url}/sink`, 307), { method: 'POST', body: 'data', headers: { 'x-app': '1' } });
    await auth.http.post(redirectVia(api, '/post', `${other.url}/sink`, 308), { json: { a: 1 } }).json();
    expect(other.to('/sink').map((r) => ({ method: r.method, body: r.body, app: r.headers['x-app'], ...credentials(r) }))).toEqual([
      { method: 'POST', body: 'data', app: '1', authorization: undefined, dpop: undefined },
      { method: 'POST', body: '{"a":1}', app: undefined, authorization: undefined, dpop: undefined },
    ]);
  });

  it('a chain through three origins and back is followed, and no hop after the API sees the proof', async () => {
    const { auth } = await signedIn('dpop');
    const chain = redirectVia(api, '/1', redirectVia(api, '/2', redirectVia(other, '/3', redirectVia(third, '/4', `${api.url}/5`))));
    expect((await auth.fetch(chain)).status).toBe(200);
    const hops = [api.to('/1'), api.to('/2'), other.to('/3'), third.to('/4'), api.to('/5')].map((r) => credentials(r[0]).dpop !== undefined);
    expect(hops).toEqual([true, true, false, false, false]);
  });

  it('a hop after logout() goes without the token and the proof', async () => {
    const { auth } = await signedIn('dpop');
    const pending = auth.fetch(`${api.url}/slow-redirect?delay=300&status=302&to=${encodeURIComponent(`${api.url}/after-logout`)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await auth.logout();
    await pending.catch(() => undefined);
    expect(credentials(api.to('/slow-redirect')[0]).authorization).toBe(`DPoP ${TOKEN}`);
    expect(api.to('/after-logout').map(credentials)).toEqual([{ authorization: undefined, dpop: undefined }]);
  });

  it('a one-shot stream body: a 303 drops it and is followed, a 307 would need it again and is a clear TypeError', async () => {
    const { auth } = await signedIn('dpop');
    const stream = () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
    const init = (body: ReadableStream<Uint8Array>) => ({ method: 'POST', body, duplex: 'half' }) as RequestInit;
    expect((await auth.fetch(redirectVia(api, '/s303', `${api.url}/got`, 303), init(stream()))).status).toBe(200);
    await expect(auth.fetch(redirectVia(api, '/s307', `${api.url}/got`, 307), init(stream()))).rejects.toThrow(/one-shot ReadableStream/);
    expect(api.to('/got').map((r) => r.method)).toEqual(['GET']);
  });

  it('an app that asks for redirect: "manual" gets the redirect itself, as from fetch', async () => {
    const { auth } = await signedIn('dpop');
    const response = await auth.fetch(redirectVia(api, '/m', `${other.url}/x`), { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(other.requests).toEqual([]);
  });

  it('more than 20 redirects is a NetworkError, as fetch reports it', async () => {
    const { auth } = await signedIn('dpop');
    let url = `${api.url}/end`;
    for (let i = 0; i < 21; i += 1) url = redirectVia(api, `/loop${i}`, url);
    await expect(auth.fetch(url)).rejects.toMatchObject({ code: 'ERR_NETWORK' });
  });

  // A browser's opaque redirect (test/browser/urls.test.ts) is refused with this error; auth.http must not retry it,
  // which its action says (retrying would meet the same redirect).
  it('a refused redirect is not transient, so auth.http does not retry it', () => {
    const error = refusedRedirectError({ method: 'GET', url: `${api.url}/moved` });
    expect(error).toMatchObject({ code: 'ERR_NETWORK', action: 'contact-support' });
    expect(isTransient(error)).toBe(false);
  });
});

describe('Bearer, same origin', () => {
  it('a 401 after a same-origin redirect is refreshed and replayed as usual', async () => {
    const { auth, refreshes } = await signedIn('bearer');
    const response = await auth.fetch(redirectVia(api, '/old', `${api.url}/new?status=401`));
    expect(response.status).toBe(401);
    expect(refreshes()).toBe(1);
    expect(api.to('/new').map((r) => r.headers.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}-1`]);
  });
});
