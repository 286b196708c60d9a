/**
 * The client's events through the public API, against the example API on 127.0.0.1: `forbidden` and
 * `unauthorized` with the very errors the app gets, subscribing and unsubscribing, listeners that throw, and no
 * token in any payload or log line.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CLIENT_ID } from '../examples/server/index.mjs';
import {
  ForbiddenError,
  UnauthorizedError,
  customRefresh,
  memoryStorage,
  oauth2Refresh,
  type AuthEvents,
  type AuthEventType,
  type AuthClientOptions,
} from '../src/index.js';
import { signedInClient, useClients, useExampleServer } from './helpers/example.js';

const api = useExampleServer();
const client = useClients();

afterEach(() => {
  vi.restoreAllMocks();
});

/** A client on the example API, signed in with a real (ES256 JWT) access token. */
const signedIn = (options: AuthClientOptions = {}) => signedInClient(client, api, options);

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
