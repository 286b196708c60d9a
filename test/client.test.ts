/**
 * createAuthClient through the public API, against real servers: the example API and token server on
 * 127.0.0.1, and a small recording server on another port (another origin) that answers every request and
 * remembers what it received. Covers token attachment to authorized origins only (DESIGN behaviour 5, also behind
 * a redirect), URL resolution against baseUrl, `auth.fetch` as a drop-in for fetch, events, login / session /
 * getAccessToken / logout, restoring from storage, and option validation. Typed errors are in client-errors.test.ts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_ID, startExampleServer, type ExampleServer } from '../examples/server/index.mjs';
import {
  AuthFetchError,
  ForbiddenError,
  TokenResponseError,
  UnauthorizedError,
  createAuthClient,
  customRefresh,
  memoryStorage,
  oauth2Refresh,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type AuthEventType,
  type TokenSet,
  type TokenStorage,
} from '../src/index.js';
import { useClients } from './helpers/example.js';

// ---------------------------------------------------------------------------------------------------------------
// A recording server: another origin that must never see the token unless authorized
// ---------------------------------------------------------------------------------------------------------------

interface Recorded {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface RecordingServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  url: string;
  port: number;
  requests: Recorded[];
  /** Requests whose path (without query) is `path`. */
  to(path: string): Recorded[];
  close(): Promise<void>;
}

/** Answers `?status=NNN` with that status (default 200) and a JSON echo of what it received. */
async function startRecordingServer(): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Recorded = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(entry);
      const status = Number(new URL(entry.url, 'http://x').searchParams.get('status') ?? '200');
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: entry.method, url: entry.url, body: entry.body, contentType: req.headers['content-type'] ?? null }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    to: (path) => requests.filter((r) => new URL(r.url, 'http://x').pathname === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------------------------

let api: ExampleServer;
let other: RecordingServer;
const client = useClients();

beforeAll(async () => {
  [api, other] = await Promise.all([startExampleServer(), startRecordingServer()]);
});

afterAll(async () => {
  await Promise.all([api.close(), other.close()]);
});

beforeEach(() => {
  api.setFault('none');
  api.resetStats();
  other.requests.length = 0;
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A client on the example API, signed in with a real (ES256 JWT) access token. */
async function signedIn(options: AuthClientOptions = {}): Promise<{ auth: AuthClient; token: string; refreshToken: string }> {
  const auth = client({ baseUrl: api.url, ...options });
  const issued = await api.issueTokens();
  await auth.login(issued);
  return { auth, token: issued.access_token, refreshToken: issued.refresh_token };
}

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
    expect(await fromString.json()).toEqual({ method: 'PUT', url: '/s', body: 'string body', contentType: 'text/plain' });

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

// ---------------------------------------------------------------------------------------------------------------
// 5. Events
// ---------------------------------------------------------------------------------------------------------------

describe('events', () => {
  it('emits forbidden with the very ForbiddenError that auth.http throws', async () => {
    const { auth } = await signedIn();
    const seen: ForbiddenError[] = [];
    auth.on('forbidden', (error) => seen.push(error));
    const thrown: unknown = await auth.http.get('api/admin').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(ForbiddenError);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    expect(seen[0]).toBe(thrown);
    expect(seen[0]?.requiredScope).toEqual(['admin']);

    // Through auth.fetch too, and the app can still read the body the event's error was built from.
    const response = await auth.fetch('api/admin');
    expect(await response.json()).toMatchObject({ detail: 'Admins only' });
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen[1]).toBeInstanceOf(ForbiddenError);
  });

  it('emits unauthorized for a 401 that no refresh could cure', async () => {
    let refreshes = 0;
    const auth = client({
      baseUrl: api.url,
      refresh: customRefresh(() => {
        refreshes++;
        return { accessToken: `still-not-a-valid-token-${refreshes}` };
      }),
    });
    await auth.login({ access_token: 'not-a-valid-token' });
    const seen: UnauthorizedError[] = [];
    auth.on('unauthorized', (error) => seen.push(error));

    const thrown: unknown = await auth.http.get('api/me').then(
      () => undefined,
      (error: unknown) => error,
    );
    // One refresh, one replay, then the 401 is final: no loop.
    expect(refreshes).toBe(1);
    expect(api.stats.requestsByPath['/api/me']).toBe(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(thrown);
    expect(seen[0]).toBeInstanceOf(UnauthorizedError);
    expect(seen[0]?.reason).toBe('invalid-token');

    // auth.fetch emits it too, and resolves with the 401.
    const response = await auth.fetch('api/me');
    expect(response.status).toBe(401);
    expect(refreshes).toBe(2);
    expect(seen).toHaveLength(2);
  });

  it('on() returns an unsubscribe that works, and off() works', async () => {
    const auth = client({ baseUrl: api.url });
    const viaUnsubscribe = vi.fn();
    const viaOff = vi.fn();
    const stays = vi.fn();
    const unsubscribe = auth.on('login', viaUnsubscribe);
    auth.on('login', viaOff);
    auth.on('login', stays);

    await auth.login({ accessToken: 'opaque-a' });
    expect(viaUnsubscribe).toHaveBeenCalledTimes(1);
    expect(viaOff).toHaveBeenCalledTimes(1);

    unsubscribe();
    auth.off('login', viaOff);
    await auth.login({ accessToken: 'opaque-b' });
    expect(viaUnsubscribe).toHaveBeenCalledTimes(1);
    expect(viaOff).toHaveBeenCalledTimes(1);
    expect(stays).toHaveBeenCalledTimes(2);
  });

  it('a throwing listener does not break the client: the request resolves, others run, logger.error hears it', async () => {
    const errors: unknown[][] = [];
    const { auth } = await signedIn({ logger: { error: (...args: unknown[]) => errors.push(args) } });
    const boom = new Error('listener bug');
    const after = vi.fn();
    auth.on('forbidden', () => {
      throw boom;
    });
    auth.on('forbidden', after);

    const response = await auth.fetch('api/admin');
    expect(response.status).toBe(403);
    await vi.waitFor(() => expect(after).toHaveBeenCalledTimes(1));
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.[0])).toMatch(/forbidden.*listener/);
    expect(errors[0]).toContain(boom);

    // auth.http: the typed error still arrives as itself, not as the listener's error.
    await expect(auth.http.get('api/admin')).rejects.toBeInstanceOf(ForbiddenError);
    await vi.waitFor(() => expect(after).toHaveBeenCalledTimes(2));
  });

  it('without a logger, a throwing listener is reported to console.error', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const auth = client({ baseUrl: api.url });
    const boom = new Error('login listener bug');
    auth.on('login', () => {
      throw boom;
    });
    await expect(auth.login({ accessToken: 'opaque-c' })).resolves.toBeUndefined();
    expect(auth.session.status).toBe('active');
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]).toContain(boom);
  });

  it('no log line and no event payload of a whole session contains a token', async () => {
    const lines: { level: string; args: unknown[] }[] = [];
    const record = (level: string) => (...args: unknown[]) => lines.push({ level, args });
    const payloads: unknown[] = [];
    const storage = memoryStorage();
    const auth = client({
      baseUrl: api.url,
      storage,
      refresh: oauth2Refresh({ tokenEndpoint: `${api.url}/oauth/token`, clientId: CLIENT_ID }),
      retry: { backoffLimit: 50 },
      logger: { debug: record('debug'), warn: record('warn'), error: record('error') },
    });
    const types: AuthEventType[] = ['login', 'refresh', 'refreshError', 'sessionExpired', 'loginRequired', 'logout', 'unauthorized', 'forbidden'];
    for (const type of types) auth.on(type, (payload: AuthEvents[typeof type]) => payloads.push({ type, payload }));

    const secrets = new Set<string>();
    const remember = async () => {
      const stored = await storage.get();
      if (stored?.accessToken) secrets.add(stored.accessToken);
      if (stored?.refreshToken) secrets.add(stored.refreshToken);
    };

    await auth.login(await api.issueTokens());
    await remember();
    await auth.http.get('api/me').json();
    await auth.http.get('api/admin').catch(() => undefined); // forbidden
    api.expireAll();
    await auth.http.get('api/me').json(); // 401 -> refresh -> replay
    await remember();
    await auth.refresh(); // manual
    await remember();
    api.setFault('status-503', { times: 3 });
    await auth.refresh().catch(() => undefined); // refreshError, session kept
    expect(auth.session.status).toBe('active');
    api.revokeRefreshTokens();
    api.expireAll();
    await auth.http.get('api/me').catch(() => undefined); // refresh rejected -> sessionExpired
    await auth.login(await api.issueTokens());
    await remember();
    await auth.logout();
    await new Promise((resolve) => setTimeout(resolve, 10)); // loginRequired is announced on a 0 ms timer

    // The session really went through every step (so the check below covers them).
    const seenTypes = payloads.map((p) => (p as { type: string }).type);
    for (const type of ['login', 'refresh', 'refreshError', 'sessionExpired', 'loginRequired', 'logout', 'forbidden']) {
      expect(seenTypes).toContain(type);
    }
    expect(lines.some((l) => l.level === 'debug' && /refresh succeeded/.test(String(l.args[0])))).toBe(true);
    expect(lines.some((l) => l.level === 'debug' && /replaying/.test(String(l.args[0])))).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /session ended/.test(String(l.args[0])))).toBe(true);
    expect(secrets.size).toBeGreaterThanOrEqual(6);

    const logText = lines.map((l) => inspect(l.args, { depth: Infinity })).join('\n');
    const eventText = payloads.map((p) => inspect(p, { depth: Infinity }) + JSON.stringify(p)).join('\n');
    for (const secret of secrets) {
      expect(logText).not.toContain(secret);
      expect(eventText).not.toContain(secret);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 6. login / session / getAccessToken / logout
// ---------------------------------------------------------------------------------------------------------------

describe('login, session, getAccessToken, logout', () => {
  it('login() with a raw OAuth response: active, expiresAt = arrival + expires_in', async () => {
    const auth = client({ baseUrl: api.url });
    expect(auth.session).toEqual({ status: 'signed-out' });
    const before = Date.now();
    await auth.login({ access_token: 'opaque-access', expires_in: 120, refresh_token: 'opaque-refresh', token_type: 'Bearer' });
    const after = Date.now();
    expect(auth.session.status).toBe('active');
    expect(auth.session.expiresAt).toBeGreaterThanOrEqual(before + 120_000);
    expect(auth.session.expiresAt).toBeLessThanOrEqual(after + 120_000);
    expect(await auth.getAccessToken()).toBe('opaque-access');
  });

  it('login() with a JWT and no expires_in takes expiresAt from the JWT exp', async () => {
    const auth = client({ baseUrl: api.url });
    const { expires_in: _dropped, ...withoutExpiry } = await api.issueTokens();
    await auth.login(withoutExpiry);
    const exp = decodeJwt(withoutExpiry.access_token).exp;
    expect(typeof exp).toBe('number');
    expect(auth.session).toEqual({ status: 'active', expiresAt: (exp as number) * 1000 });
    // And the token works.
    expect((await auth.fetch('/api/me')).status).toBe(200);
  });

  it('an opaque token without expiry is fine: active, no expiresAt', async () => {
    const auth = client({ baseUrl: api.url });
    await auth.login({ access_token: 'opaque-no-expiry' });
    expect(auth.session).toEqual({ status: 'active' });
    await auth.login({ accessToken: 'opaque-token-set' });
    expect(auth.session).toEqual({ status: 'active' });
    expect(await auth.getAccessToken()).toBe('opaque-token-set');
  });

  it('login() with garbage rejects with TokenResponseError and keeps the current session', async () => {
    const auth = client({ baseUrl: api.url });
    await auth.login({ access_token: 'good-token', expires_in: 300 });
    const before = auth.session;
    const logins = vi.fn();
    auth.on('login', logins);
    const garbage: unknown[] = [{}, { access_token: 5 }, 'a string', null, { access_token: '' }, { accessToken: 42 }];
    for (const input of garbage) {
      const error: unknown = await auth.login(input as TokenSet).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TokenResponseError);
      expect(error).toBeInstanceOf(AuthFetchError);
      expect((error as TokenResponseError).code).toBe('ERR_TOKEN_RESPONSE');
    }
    expect(logins).not.toHaveBeenCalled();
    expect(auth.session).toEqual(before);
    expect(await auth.getAccessToken()).toBe('good-token');
  });

  it('getAccessToken() gives the token, or undefined when signed out', async () => {
    const auth = client({ baseUrl: api.url });
    expect(await auth.getAccessToken()).toBeUndefined();
    const issued = await api.issueTokens();
    await auth.login(issued);
    expect(await auth.getAccessToken()).toBe(issued.access_token);
  });

  it('login emits { source: local } with the expiry and no token', async () => {
    const auth = client({ baseUrl: api.url });
    const seen: AuthEvents['login'][] = [];
    auth.on('login', (payload) => seen.push(payload));
    const issued = await api.issueTokens();
    await auth.login(issued);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toEqual({ source: 'local', expiresAt: auth.session.expiresAt });
    const text = JSON.stringify(seen);
    expect(text).not.toContain(issued.access_token);
    expect(text).not.toContain(issued.refresh_token);
  });

  it('logout() clears the session, emits logout (local), and the next request goes without a token', async () => {
    const { auth, token } = await signedIn();
    expect((await auth.fetch('/api/me')).status).toBe(200);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${token}`);

    const seen: AuthEvents['logout'][] = [];
    auth.on('logout', (payload) => seen.push(payload));
    await auth.logout();
    expect(seen).toEqual([{ source: 'local' }]);
    expect(auth.session).toEqual({ status: 'signed-out' });
    expect(await auth.getAccessToken()).toBeUndefined();

    const response = await auth.fetch('/api/me');
    expect(response.status).toBe(401);
    expect(api.stats.lastAuthorization['/api/me']).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 7. Storage
// ---------------------------------------------------------------------------------------------------------------

describe('storage', () => {
  it('restores tokens already in the storage on creation: the first request carries them', async () => {
    const issued = await api.issueTokens();
    const storage = memoryStorage({ name: 'restore-test' });
    await storage.set({ accessToken: issued.access_token, refreshToken: issued.refresh_token });
    const auth = client({ baseUrl: api.url, storage });
    const response = await auth.fetch('api/me');
    expect(response.status).toBe(200);
    expect(api.stats.lastAuthorization['/api/me']).toBe(`Bearer ${issued.access_token}`);
    expect(auth.session.status).toBe('active');
    expect(await auth.getAccessToken()).toBe(issued.access_token);
  });

  it('a storage that hands back a corrupted value leaves the client signed out, without throwing', async () => {
    const corrupted: unknown[] = ['garbage', 42, { accessToken: 42 }, { accessToken: '' }, { refreshToken: 'r' }, [], { accessToken: 'a', expiresAt: 'soon' }];
    for (const value of corrupted) {
      other.requests.length = 0;
      const storage: TokenStorage = {
        name: 'corrupted-test',
        shared: false,
        get: async () => value as TokenSet,
        set: async () => undefined,
        clear: async () => undefined,
      };
      const auth = client({ baseUrl: other.url, storage });
      expect(await auth.getAccessToken()).toBeUndefined();
      expect(auth.session).toEqual({ status: 'signed-out' });
      expect((await auth.fetch('/x')).status).toBe(200);
      expect(other.requests[0]?.headers.authorization).toBeUndefined();
    }
  });

  it('a storage whose get() rejects, or throws synchronously, leaves the client signed out, and warns', async () => {
    const failures: (() => Promise<TokenSet | undefined>)[] = [
      () => Promise.reject(new Error('disk on fire')),
      () => {
        throw new Error('thrown before any promise');
      },
    ];
    for (const get of failures) {
      const warnings: unknown[][] = [];
      const storage: TokenStorage = {
        name: 'failing-test',
        shared: false,
        get,
        set: async () => undefined,
        clear: async () => undefined,
      };
      const auth = client({ baseUrl: other.url, storage, logger: { warn: (...args: unknown[]) => warnings.push(args) } });
      expect(await auth.getAccessToken()).toBeUndefined();
      expect(auth.session.status).toBe('signed-out');
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]?.[0])).toMatch(/reading stored tokens failed/);
      // Sign-in still works over it.
      await auth.login({ accessToken: 'after-failure' });
      expect(auth.session.status).toBe('active');
    }
  });

  it('memoryStorage given a corrupted value by a JS caller reads as signed out', async () => {
    const storage = memoryStorage();
    await storage.set({ accessToken: 7 } as unknown as TokenSet);
    const auth = client({ baseUrl: other.url, storage });
    expect(await auth.getAccessToken()).toBeUndefined();
    expect(auth.session.status).toBe('signed-out');
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 8. Option validation
// ---------------------------------------------------------------------------------------------------------------

describe('createAuthClient option validation', () => {
  it('rejects bad options with clear TypeErrors', () => {
    expect(() => createAuthClient({ timeout: -1 })).toThrow(TypeError);
    expect(() => createAuthClient({ timeout: -1 })).toThrow(/timeout/);
    expect(() => createAuthClient({ timeout: Number.NaN })).toThrow(/timeout/);
    expect(() => createAuthClient({ loginRequired: 'maybe' as 'wait' })).toThrow(TypeError);
    expect(() => createAuthClient({ loginRequired: 'maybe' as 'wait' })).toThrow(/loginRequired/);
    expect(() => createAuthClient({ baseUrl: 'not a url' })).toThrow(TypeError);
    expect(() => createAuthClient({ baseUrl: 'not a url' })).toThrow(/baseUrl/);
    expect(() => createAuthClient({ refreshLeeway: -5 })).toThrow(/refreshLeeway/);
    expect(() => createAuthClient({ loginTimeout: 0 })).toThrow(/loginTimeout/);
  });

  it('accepts the defaults', () => {
    const auth = client();
    expect(auth.session).toEqual({ status: 'signed-out' });
    expect(typeof auth.http.get).toBe('function');
  });
});
