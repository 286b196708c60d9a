/**
 * createAuthClient through the public API, against real servers: the example API and token server on
 * 127.0.0.1, and a recording server on another port (another origin, test/helpers/recording.ts). Covers token
 * attachment to authorized origins only (DESIGN behaviour 5, also behind a redirect), URL resolution against baseUrl
 * and `auth.fetch` as a drop-in for fetch. Events are in client-events.test.ts, login / session / storage / options
 * in client-session.test.ts, typed errors in client-errors.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createAuthClient,
  customRefresh,
  type AuthClientOptions,
} from '../src/index.js';
import { signedInClient, useClients, useExampleServer } from './helpers/example.js';
import { useRecordingServer } from './helpers/recording.js';

const api = useExampleServer();
/** Another origin, which must never see the token unless authorized. */
const other = useRecordingServer();
const client = useClients();

afterEach(() => {
  vi.restoreAllMocks();
});

/** A client on the example API, signed in with a real (ES256 JWT) access token. */
const signedIn = (options: AuthClientOptions = {}) => signedInClient(client, api, options);

// ---------------------------------------------------------------------------------------------------------------
// 1. Token attachment only to authorized origins (DESIGN behaviour 5)
// ---------------------------------------------------------------------------------------------------------------

describe('the token goes to authorized origins only', () => {
  it('by default attaches it for the baseUrl origin, and to no other origin, whatever the input type', async () => {
    const { auth, token } = await signedIn();

    // The control: the baseUrl origin gets the token (so the absence below means something).
    const own = await auth.fetch('/api/me');
    expect(own.status).toBe(200);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);

    await auth.fetch(`${other.url}/string`);
    await auth.fetch(new URL('/url', other.url));
    await auth.fetch(new Request(`${other.url}/request`, { method: 'POST', body: 'payload' }));
    await auth.http.get(`${other.url}/http`).json();
    await auth.http.post(new URL('/http-url', other.url), { json: { a: 1 } }).json();

    const paths = other.requests.map((r) => new URL(r.url, 'http://x').pathname);
    expect(paths).toEqual(['/string', '/url', '/request', '/http', '/http-url']);
    for (const request of other.requests) expect(request.headers.authorization).toBeUndefined();
    // The requests themselves went through intact.
    expect(other.to('/request')[0]?.body).toBe('payload');
    expect(other.to('/http-url')[0]?.body).toBe('{"a":1}');
  });

  it('with authorizedOrigins as strings, authorizes exactly those origins (replacing the baseUrl default)', async () => {
    // A path in the rule is ignored: only its origin counts.
    const { auth, token } = await signedIn({ authorizedOrigins: [`${other.url}/some/path`] });

    await auth.fetch(`${other.url}/yes`);
    await auth.http.get(`${other.url}/yes-http`).json();
    expect(other.to('/yes')[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(other.to('/yes-http')[0]?.headers.authorization).toBe(`Bearer ${token}`);

    // The baseUrl origin is no longer in the list: the example API gets no token and answers 401.
    const response = await auth.fetch('/api/me');
    expect(response.status).toBe(401);
    expect(api.stats.lastAuthorization['/api/me']).toBeUndefined();
  });

  it('with a RegExp rule, matches it against the origin only', async () => {
    const { auth, token } = await signedIn({
      authorizedOrigins: [new RegExp(`^http://127\\.0\\.0\\.1:${other.port}$`, 'g')],
    });
    // Twice: a global RegExp must not alternate through lastIndex.
    await auth.fetch(`${other.url}/one`);
    await auth.fetch(`${other.url}/two`);
    expect(other.to('/one')[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect(other.to('/two')[0]?.headers.authorization).toBe(`Bearer ${token}`);
    expect((await auth.fetch('/api/me')).status).toBe(401);
  });

  it('treats localhost and 127.0.0.1 as different origins', async () => {
    const { auth } = await signedIn({ authorizedOrigins: [other.url] });
    await auth.fetch(`http://localhost:${other.port}/by-name`);
    expect(other.to('/by-name')).toHaveLength(1);
    expect(other.to('/by-name')[0]?.headers.authorization).toBeUndefined();
  });

  it('does not carry the token across a redirect to another origin (auth.fetch and auth.http)', async () => {
    const { auth, token } = await signedIn();
    const away = (path: string) => `/api/redirect?to=${encodeURIComponent(`${other.url}${path}`)}`;

    const viaFetch = await auth.fetch(away('/landing-fetch'));
    expect(viaFetch.status).toBe(200);
    expect(viaFetch.url).toBe(`${other.url}/landing-fetch`);
    const viaHttp = await auth.http.get(away('/landing-http').slice(1)).json<{ url: string }>();
    expect(viaHttp.url).toBe('/landing-http');

    // The redirecting endpoint (authorized) got the token; the origin it sent us to did not.
    expect(api.stats.lastAuthorization['/api/redirect']).toBe(`Bearer ${token}`);
    expect(other.to('/landing-fetch')[0]?.headers.authorization).toBeUndefined();
    expect(other.to('/landing-http')[0]?.headers.authorization).toBeUndefined();

    // Control: a same-origin redirect keeps it (so the drop above is about the origin, not redirects as such).
    const same = await auth.fetch(`/api/redirect?to=${encodeURIComponent('/api/me')}`);
    expect(same.status).toBe(200);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);
  });

  it('leaves an Authorization header the app set itself untouched', async () => {
    const { auth } = await signedIn({ authorizedOrigins: [other.url] });
    await auth.fetch(`${other.url}/own-init`, { headers: { Authorization: 'Basic dXNlcjpwdw==' } });
    await auth.fetch(new Request(`${other.url}/own-request`, { headers: { authorization: 'Bearer app-made' } }));
    await auth.http.get(`${other.url}/own-http`, { headers: { authorization: 'Custom xyz' } }).json();
    expect(other.to('/own-init')[0]?.headers.authorization).toBe('Basic dXNlcjpwdw==');
    expect(other.to('/own-request')[0]?.headers.authorization).toBe('Bearer app-made');
    expect(other.to('/own-http')[0]?.headers.authorization).toBe('Custom xyz');
  });

  it('rejects a malformed authorizedOrigins entry at creation with a TypeError', () => {
    for (const rule of ['not a url', 'api.example.com', '', 'data:text/plain,x']) {
      expect(() => createAuthClient({ authorizedOrigins: [rule] })).toThrow(TypeError);
    }
    expect(() => createAuthClient({ authorizedOrigins: ['api.example.com'] })).toThrow(/authorizedOrigins/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. URL resolution
// ---------------------------------------------------------------------------------------------------------------

describe('URL resolution', () => {
  it('resolves relative paths, with or without a leading slash, against a baseUrl with a path', async () => {
    for (const baseUrl of [`${other.url}/api`, `${other.url}/api/`]) {
      other.requests.length = 0;
      const auth = client({ baseUrl });
      await auth.fetch('me');
      await auth.fetch('/me');
      await auth.http.get('me').json();
      await auth.http.get('/me').json();
      await auth.http.get('items/1?x=1&y=2').json();
      expect(other.requests.map((r) => r.url)).toEqual(['/api/me', '/api/me', '/api/me', '/api/me', '/api/items/1?x=1&y=2']);
    }
  });

  it('uses absolute URLs as they are, never prefixed with baseUrl', async () => {
    const auth = client({ baseUrl: `${api.url}/api` });
    await auth.fetch(`${other.url}/absolute?q=1`);
    await auth.http.get(`${other.url}/absolute-http`).json();
    expect(other.requests.map((r) => r.url)).toEqual(['/absolute?q=1', '/absolute-http']);
    expect(api.stats.requestsByPath).toEqual({});
  });

  it('without baseUrl (in Node), a relative path is a clear TypeError and nothing is sent', async () => {
    const auth = client();
    await expect(auth.fetch('api/me')).rejects.toThrow(TypeError);
    await expect(auth.fetch('/api/me')).rejects.toThrow(/relative URL.*baseUrl/);
    // ky builds its Request synchronously, so the TypeError may come before a promise exists.
    await expect(async () => auth.http.get('api/me').json()).rejects.toThrow(/baseUrl/);
    // An absolute URL still works.
    expect((await auth.fetch(`${other.url}/ok`)).status).toBe(200);
    expect(other.requests.map((r) => r.url)).toEqual(['/ok']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. auth.fetch is a drop-in for fetch
// ---------------------------------------------------------------------------------------------------------------

describe('auth.fetch as a drop-in for fetch', () => {
  it('takes a string, a URL or a Request, with init (method, headers, body)', async () => {
    const { auth, token } = await signedIn({ authorizedOrigins: [other.url] });

    const fromString = await auth.fetch(`${other.url}/s`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'x-app': 'one' },
      body: 'string body',
    });
    expect(fromString).toBeInstanceOf(Response);
    expect(await fromString.json()).toEqual({ method: 'PUT', path: '/s', url: '/s', body: 'string body', contentType: 'text/plain' });

    const fromUrl = await auth.fetch(new URL('/u', other.url), { method: 'POST', body: new URLSearchParams({ a: '1' }) });
    expect(await fromUrl.json()).toMatchObject({ method: 'POST', body: 'a=1', contentType: 'application/x-www-form-urlencoded;charset=UTF-8' });

    const request = new Request(`${other.url}/r`, { method: 'POST', headers: { 'x-app': 'two' }, body: 'request body' });
    expect(await (await auth.fetch(request)).json()).toMatchObject({ method: 'POST', body: 'request body' });
    // A Request plus init: init wins, as with fetch.
    const merged = await auth.fetch(new Request(`${other.url}/m`, { method: 'POST', body: 'old' }), { method: 'PATCH', body: 'new' });
    expect(await merged.json()).toMatchObject({ method: 'PATCH', body: 'new' });

    expect(other.to('/s')[0]?.headers['x-app']).toBe('one');
    expect(other.to('/r')[0]?.headers['x-app']).toBe('two');
    for (const r of other.requests) expect(r.headers.authorization).toBe(`Bearer ${token}`);
  });

  it('resolves with the Response for 401, 403, 404 and 500 (no throw, no retry) and the body can be read', async () => {
    // Signed in with a refresh that cannot cure this server's 401: the final 401 is handed back.
    const { auth } = await signedIn({ refresh: customRefresh(async () => api.issueTokens()) });
    for (const status of [401, 403, 404, 500]) {
      const response = await auth.fetch(`api/status/${status}`);
      expect(response.status).toBe(status);
      expect(response.ok).toBe(false);
      expect(await response.json()).toMatchObject({ status });
    }
    // 401: the first attempt and the replay after the refresh; the others exactly once (fetch does not retry).
    expect(api.stats.requestsByPath).toMatchObject({ '/api/status/401': 2, '/api/status/403': 1, '/api/status/404': 1, '/api/status/500': 1 });

    // Signed out: a 401 is simply returned.
    const signedOut = client({ baseUrl: api.url });
    const response = await signedOut.fetch('/api/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('Bearer');
    expect(await response.json()).toMatchObject({ title: 'Unauthorized' });
  });
});
