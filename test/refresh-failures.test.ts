/**
 * When the refresh fails (issue 3; DESIGN.md "Refresh strategies", behaviours 4 and 7): transient failures of the
 * token endpoint (5xx, 429, reset, hang) are retried twice with backoff, then reported with `refreshError`, and the
 * session and its tokens are kept; unusable answers are reported without retry storms; a rejection ends the session
 * once. Every request settles. And over a whole session with refreshes, failures and its end, no token appears in
 * any event, log line or error.
 */
import { inspect } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { startExampleServer, type FaultName } from '../examples/server/index.mjs';
import {
  NetworkError,
  RateLimitError,
  ServerError,
  SessionExpiredError,
  TimeoutError,
  TokenResponseError,
  memoryStorage,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type AuthEventType,
  type TokenStorage,
} from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

const server = useExampleServer({ opaqueTokens: true });
const createClient = useClients();

interface Setup {
  auth: AuthClient;
  storage: TokenStorage;
  refreshToken: string;
  refreshErrors: AuthEvents['refreshError'][];
  expired: AuthEvents['sessionExpired'][];
}

/** A signed-in client whose access token the server no longer accepts: the next request must refresh. */
async function staleSession(options: AuthClientOptions = {}): Promise<Setup> {
  const storage = memoryStorage();
  const auth = createClient({ ...exampleClientOptions(server), storage, ...options });
  const issued = await server.issueTokens();
  await auth.login(issued);
  const { refreshError: refreshErrors, sessionExpired: expired } = recordEvents(auth, ['refreshError', 'sessionExpired']);
  server.expireAll();
  server.resetStats();
  return { auth, storage, refreshToken: issued.refresh_token, refreshErrors, expired };
}

/** Settle within `ms` or fail: proves that nothing hangs. */
async function settleWithin<T>(promises: Promise<T>[], ms: number): Promise<PromiseSettledResult<T>[]> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`requests still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([Promise.allSettled(promises), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Three requests at once over both surfaces, all waiting on the same refresh. */
function threeRequests(auth: AuthClient): Promise<unknown>[] {
  return [auth.http.get('me').json(), auth.http.get('items/1').json(), auth.fetch('me')];
}

const rejections = (results: PromiseSettledResult<unknown>[]): unknown[] =>
  results.map((r) => (r.status === 'rejected' ? r.reason : new Error('expected a rejection, got a result')));

// -----------------------------------------------------------------------------------------------------------------

describe('transient failures: retried with backoff, reported, the session kept', () => {
  const cases: Array<{ fault: FaultName; errorClass: new (...args: never[]) => Error; code: string; timeout?: number }> = [
    { fault: 'status-503', errorClass: ServerError, code: 'ERR_SERVER' },
    { fault: 'status-500', errorClass: ServerError, code: 'ERR_SERVER' },
    { fault: 'status-429', errorClass: RateLimitError, code: 'ERR_RATE_LIMITED' },
    { fault: 'reset', errorClass: NetworkError, code: 'ERR_NETWORK' },
    { fault: 'hang', errorClass: TimeoutError, code: 'ERR_TIMEOUT', timeout: 300 },
  ];

  it.each(cases)('$fault: 3 attempts, then refreshError and $code for every waiting request', async ({ fault, errorClass, code, timeout }) => {
    const { auth, storage, refreshToken, refreshErrors, expired } = await staleSession(timeout ? { timeout } : {});
    server.setFault(fault);

    const started = Date.now();
    const results = await settleWithin(threeRequests(auth), 15_000);
    const elapsed = Date.now() - started;

    for (const reason of rejections(results)) {
      expect(reason).toBeInstanceOf(errorClass);
      expect(reason).toMatchObject({ code });
    }
    // One refresh for all three requests: the first attempt and two retries, and no more (neither ky's retries
    // of the requests nor anything else may start the refresh again).
    expect(server.stats.refreshCalls).toBe(3);
    expect(refreshErrors).toHaveLength(1);
    expect(refreshErrors[0]?.error).toBeInstanceOf(errorClass);
    expect(rejections(results)[0]).toBe(refreshErrors[0]?.error);
    expect(elapsed).toBeLessThan(10_000); // a few seconds in all
    if (fault === 'status-429' || fault === 'status-503') {
      // Retry-After: 1 (sent with both) is honoured, capped by the backoff limit: two waits of at least a second.
      expect(elapsed).toBeGreaterThanOrEqual(1900);
    }
    if (fault === 'status-429') expect(refreshErrors[0]?.error).toMatchObject({ retryAfterMs: 1000 });

    // Never signs the user out, never loses the tokens.
    expect(expired).toEqual([]);
    expect(auth.session.status).toBe('active');
    expect((await storage.get())?.refreshToken).toBe(refreshToken);

    // Once the endpoint is healthy, the next request refreshes with the same refresh token and succeeds.
    server.setFault('none');
    await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(server.stats.refreshCalls).toBe(4);
    expect(server.stats.reuseDetected).toBe(0);
    expect((await storage.get())?.refreshToken).not.toBe(refreshToken); // rotated now
  });

  it.each(['status-503', 'status-500', 'reset'] as const)('%s once: healed by the retry, the app sees nothing', async (fault) => {
    const { auth, refreshErrors, expired } = await staleSession();
    const { refresh: refreshes } = recordEvents(auth, ['refresh']);
    server.setFault(fault, { times: 1 });

    await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(server.stats.refreshCalls).toBe(2);
    expect(refreshErrors).toEqual([]);
    expect(expired).toEqual([]);
    expect(refreshes).toHaveLength(1);
  });

  it('a hanging token endpoint with timeout: 300: every request settles, also ones started during the retries', async () => {
    const { auth } = await staleSession({ timeout: 300 });
    server.setFault('hang');

    const first = Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? auth.fetch('me') : auth.http.get('me').json()));
    await vi.waitFor(() => expect(server.stats.refreshCalls).toBeGreaterThanOrEqual(2), { timeout: 5000, interval: 10 });
    const during = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? auth.fetch('items/2') : auth.http.get('items/2').json()));

    const results = await settleWithin([...first, ...during], 10_000);
    expect(results.map((r) => r.status)).toEqual(Array(30).fill('rejected'));
    for (const reason of rejections(results)) expect(reason).toBeInstanceOf(TimeoutError);
    expect(server.stats.refreshCalls).toBe(3);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('unusable answers: TokenResponseError, reported, not retried, the session kept', () => {
  it.each(['html', 'not-json-object', 'no-access-token'] as const)('%s', async (fault) => {
    const { auth, storage, refreshToken, refreshErrors, expired } = await staleSession();
    server.setFault(fault);

    const results = await settleWithin(threeRequests(auth), 10_000);
    for (const reason of rejections(results)) {
      expect(reason).toBeInstanceOf(TokenResponseError);
      expect(reason).toMatchObject({ code: 'ERR_TOKEN_RESPONSE', action: 'retry' });
    }
    // An endpoint that answers HTML answers HTML again: one call, not a retry storm.
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshErrors).toHaveLength(1);
    expect(refreshErrors[0]?.error).toBeInstanceOf(TokenResponseError);
    expect(expired).toEqual([]);
    expect(auth.session.status).toBe('active');
    expect((await storage.get())?.refreshToken).toBe(refreshToken);

    server.setFault('none');
    await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
    expect(server.stats.refreshCalls).toBe(2);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('rejection (invalid_grant): the session ends, once', () => {
  it('clears the tokens, emits sessionExpired then loginRequired, rejects every waiting request', async () => {
    const { auth, storage, refreshErrors, expired } = await staleSession();
    const order: string[] = [];
    const loginRequired: AuthEvents['loginRequired'][] = [];
    auth.on('sessionExpired', () => order.push('sessionExpired'));
    auth.on('loginRequired', (e) => {
      order.push('loginRequired');
      loginRequired.push(e);
    });
    server.setFault('reject');

    const results = await settleWithin(threeRequests(auth), 10_000);
    for (const reason of rejections(results)) {
      expect(reason).toBeInstanceOf(SessionExpiredError);
      expect(reason).toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'refresh-rejected', action: 'sign-in' });
    }
    expect(server.stats.refreshCalls).toBe(1); // a rejection is final: not retried
    expect(expired).toHaveLength(1);
    expect(expired[0]?.reason).toBe('refresh-rejected');
    await vi.waitFor(() => expect(loginRequired).toHaveLength(1), { timeout: 2000 });
    expect(order).toEqual(['sessionExpired', 'loginRequired']);
    expect(loginRequired[0]).toEqual({ reason: 'refresh-rejected', pending: 0 });
    expect(refreshErrors).toEqual([]); // the end of a session is not a "refresh error"
    expect(auth.session.status).toBe('expired');
    expect(await storage.get()).toBeUndefined();
    expect(await auth.getAccessToken()).toBeUndefined();

    // Later requests fail fast with the same reason, without calling the token endpoint again.
    await expect(auth.http.get('me')).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'refresh-rejected' });
    expect(server.stats.refreshCalls).toBe(1);
    expect(expired).toHaveLength(1);
  });

  it('a late 401 for a request sent before the session ended does not end it a second time', async () => {
    const { auth, expired } = await staleSession();
    // The slow request goes out with the stale token and is judged after the session has ended.
    let slowSettled = false;
    const slow = auth.fetch('slow-check?ms=800').finally(() => {
      slowSettled = true;
    });
    await vi.waitFor(() => expect(server.stats.requestsByPath['/api/slow-check']).toBe(1), { timeout: 5000, interval: 5 });
    server.setFault('reject');
    await expect(auth.fetch('me')).rejects.toMatchObject({ reason: 'refresh-rejected' });
    expect(slowSettled).toBe(false);

    await expect(slow).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'refresh-rejected' });
    expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    expect(server.stats.refreshCalls).toBe(1);
  });
});

// -----------------------------------------------------------------------------------------------------------------

describe('no token leaks (DESIGN "Events": no payload, log line or error message ever contains a token)', () => {
  const EVENT_TYPES: AuthEventType[] = [
    'login',
    'refresh',
    'refreshError',
    'sessionWarning',
    'sessionExpired',
    'loginRequired',
    'logout',
    'unauthorized',
    'forbidden',
    'stepUp',
    'storageFallback',
  ];

  it('over a whole session with refreshes, failures and its end', async () => {
    // JWTs: long, structured strings, the kind a careless message would quote.
    const jwtServer = await startExampleServer({ opaqueTokens: false });
    const secrets = new Set<string>();
    const noteTokens = (body: unknown) => {
      if (typeof body !== 'object' || body === null) return;
      for (const key of ['access_token', 'refresh_token', 'id_token'] as const) {
        const value = (body as Record<string, unknown>)[key];
        if (typeof value === 'string') secrets.add(value);
      }
    };
    // The client's own fetch sees every token endpoint answer and every Authorization header it sends.
    const spyFetch: typeof fetch = async (input, init) => {
      const request = new Request(input, init);
      const authorization = request.headers.get('authorization');
      if (authorization) secrets.add(authorization.replace(/^\S+\s+/, ''));
      const response = await fetch(request);
      if (request.url.endsWith('/oauth/token') && response.ok) noteTokens(await response.clone().json().catch(() => undefined));
      return response;
    };

    const seen: string[] = [];
    const capture = (label: string, value: unknown) => {
      seen.push(`${label}: ${inspect(value, { depth: 8, getters: false, showHidden: false })}`);
      if (value instanceof Error) {
        seen.push(`${label} message: ${value.message}`, `${label} string: ${String(value)}`, `${label} json: ${JSON.stringify(value)}`);
        seen.push(`${label} stack: ${value.stack ?? ''}`);
        const userMessage = (value as { userMessage?: unknown }).userMessage;
        if (typeof userMessage === 'string') seen.push(`${label} userMessage: ${userMessage}`);
        let cause: unknown = (value as { cause?: unknown }).cause;
        for (let depth = 0; cause instanceof Error && depth < 5; depth++, cause = (cause as { cause?: unknown }).cause) {
          seen.push(`${label} cause: ${cause.message} ${String(cause)}`);
        }
      }
    };
    const logLines: string[] = [];
    const logger = {
      debug: (message: string, ...details: unknown[]) => logLines.push(`debug ${message}`) && capture('log.debug', [message, ...details]),
      warn: (message: string, ...details: unknown[]) => logLines.push(`warn ${message}`) && capture('log.warn', [message, ...details]),
      error: (message: string, ...details: unknown[]) => logLines.push(`error ${message}`) && capture('log.error', [message, ...details]),
    };

    const auth = createClient({ ...exampleClientOptions(jwtServer), fetch: spyFetch, logger, timeout: 300 });
    for (const type of EVENT_TYPES) {
      auth.on(type, (payload: unknown) => {
        capture(`event ${type}`, payload);
        if (typeof payload === 'object' && payload !== null && 'error' in payload) capture(`event ${type} error`, payload.error);
        if (payload instanceof Error) capture(`event ${type}`, payload);
      });
    }
    const attempt = async (label: string, run: () => Promise<unknown>) => {
      try {
        capture(`${label} result`, await run());
      } catch (error) {
        capture(`${label} error`, error);
      }
    };

    try {
      const issued = await jwtServer.issueTokens();
      noteTokens(issued);
      await auth.login(issued);
      await attempt('fresh', () => auth.http.get('me').json());

      // Refreshes, with rotation.
      for (let i = 0; i < 2; i++) {
        jwtServer.expireAll();
        await attempt(`refresh ${i}`, () => auth.http.get('me').json());
      }
      await attempt('manual refresh', () => auth.refresh());
      // Transient failures of every kind, and unusable answers.
      const faults = [
        ['status-500', 'http'],
        ['reset', 'http'],
        ['hang', 'fetch'],
        ['html', 'http'],
        ['not-json-object', 'fetch'],
        ['no-access-token', 'http'],
      ] as const;
      for (const [fault, surface] of faults) {
        jwtServer.setFault(fault);
        jwtServer.expireAll();
        await attempt(`${surface} ${fault}`, () => (surface === 'http' ? auth.http.get('me').json() : auth.fetch('me')));
        jwtServer.setFault('none');
      }
      // 401s no refresh cures, 403, 404, 5xx of the API itself.
      await attempt('step-up', () => auth.http.get('step-up').json());
      await attempt('admin', () => auth.http.get('admin').json());
      await attempt('not found', () => auth.http.get('items/99').json());
      await attempt('api 500', () => auth.http.get('status/500', { retry: 0 }).json());
      await attempt('getAccessToken', async () => typeof (await auth.getAccessToken()));
      // The end: the refresh is rejected.
      jwtServer.setFault('reject');
      jwtServer.expireAll();
      await attempt('rejected http', () => auth.http.get('me').json());
      await attempt('after end fetch', () => auth.fetch('me'));
      await attempt('after end refresh', () => auth.refresh());
      await new Promise((resolve) => setTimeout(resolve, 20)); // loginRequired is announced on a 0 ms timer
      await attempt('logout', () => auth.logout());
    } finally {
      await jwtServer.close();
    }

    // The scenario really produced what it claims to check.
    expect(secrets.size).toBeGreaterThanOrEqual(6);
    expect(seen.some((line) => line.startsWith('event refreshError'))).toBe(true);
    expect(seen.some((line) => line.startsWith('event sessionExpired'))).toBe(true);
    expect(seen.some((line) => line.startsWith('event stepUp'))).toBe(true);
    expect(seen.some((line) => line.startsWith('event loginRequired'))).toBe(true);
    expect(logLines.some((line) => line.startsWith('debug authfetch: refresh succeeded'))).toBe(true);
    expect(logLines.some((line) => line.startsWith('warn '))).toBe(true);

    const text = seen.join('\n');
    // Not only whole tokens: any 16 characters of a token's random part (96 bits) would be a leak, so a token cut
    // short, or a JWT printed without its header, is caught too. For a JWT the random part is its signature.
    const WINDOW = 16;
    const windows = new Set<string>();
    for (let i = 0; i + WINDOW <= text.length; i++) windows.add(text.slice(i, i + WINDOW));
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(20);
      expect(text.includes(secret), `a token (…${secret.slice(-6)}) leaked`).toBe(false);
      const random = secret.split('.')[2] ?? secret;
      for (let i = 0; i + WINDOW <= random.length; i++) {
        expect(windows.has(random.slice(i, i + WINDOW)), `part of a token (…${secret.slice(-6)}) leaked`).toBe(false);
      }
    }
  });
});
