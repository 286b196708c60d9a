/**
 * login(), session, getAccessToken() and logout() through the public API, against the example API on
 * 127.0.0.1 (and a recording server as a second origin); restoring from storage, storages that hold garbage or
 * throw, and createAuthClient's option validation.
 */
import { decodeJwt } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthFetchError,
  TokenResponseError,
  createAuthClient,
  memoryStorage,
  type AuthEvents,
  type TokenSet,
  type TokenStorage,
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
