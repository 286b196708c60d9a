/**
 * The typed errors as `auth.http` throws them from real responses and real failures (DESIGN "Errors"): the class
 * chain, `code`, the fields, `userMessage` and `action`, messages that name method and URL but never a token, and
 * the retry defaults (idempotent requests on network errors, 408, 429 and 5xx only; PLATFORM-NOTES warns that ky
 * mapped inside its retry loop retries everything). Also what `auth.fetch` rejects with when there is no response.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  AuthFetchError,
  ForbiddenError,
  HttpError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  SessionExpiredError,
  TimeoutError,
  UnauthorizedError,
  customRefresh,
  isAuthFetchError,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type UserAction,
} from '../src/index.js';
import { useClients, useExampleServer } from './helpers/example.js';
import { caught } from './helpers/caught.js';
import { closedPort } from './helpers/ports.js';

const api = useExampleServer();
const createClient = useClients();

function client(options: AuthClientOptions = {}): AuthClient {
  return createClient({ baseUrl: api.url, ...options });
}

/** A client signed in with a real access token (scope without `admin`); the token is returned for leak checks. */
async function signedIn(options: AuthClientOptions = {}): Promise<{ auth: AuthClient; secrets: string[] }> {
  const auth = client(options);
  const issued = await api.issueTokens();
  await auth.login(issued);
  return { auth, secrets: [issued.access_token, issued.refresh_token] };
}

/** Hits of a path on the example server. */
const hits = (path: string) => api.stats.requestsByPath[path] ?? 0;

const USER_ACTIONS: readonly UserAction[] = ['sign-in', 'retry', 'request-access', 'go-back', 'check-connection', 'contact-support', 'none'];

/**
 * What every authfetch error must satisfy: an Error and an AuthFetchError with the code and action expected, a
 * `userMessage` in plain language (no status codes, no protocol words), a message that names method and URL,
 * and no token in the message or in `JSON.stringify(error)`.
 */
function expectWellFormed(
  error: unknown,
  expected: { code: string; action: UserAction; method: string; url: string; secrets?: string[] },
): asserts error is AuthFetchError {
  expect(error).toBeInstanceOf(Error);
  expect(error).toBeInstanceOf(AuthFetchError);
  expect(isAuthFetchError(error)).toBe(true);
  const e = error as AuthFetchError;
  expect(e.code).toBe(expected.code);
  expect(e.action).toBe(expected.action);
  expect(USER_ACTIONS).toContain(e.action);
  expect(e.userMessage.length).toBeGreaterThan(10);
  expect(e.userMessage).not.toMatch(/\d{3}|HTTP|token|ERR_|status|undefined/i);
  // The message names the method and the URL without its query.
  expect(e.message).toContain(`${expected.method} ${expected.url.split('?')[0]}`);
  const json = JSON.stringify(e);
  expect(JSON.parse(json)).toMatchObject({ code: expected.code, name: e.name, userMessage: e.userMessage, action: e.action });
  for (const secret of expected.secrets ?? []) {
    expect(e.message).not.toContain(secret);
    expect(json).not.toContain(secret);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 401
// ---------------------------------------------------------------------------------------------------------------

describe('401: UnauthorizedError', () => {
  it('signed out: reason missing-credentials, with the parsed challenge', async () => {
    const auth = client();
    const error = await caught(auth.http.get('api/me').json());
    expectWellFormed(error, { code: 'ERR_UNAUTHORIZED', action: 'sign-in', method: 'GET', url: `${api.url}/api/me` });
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toBeInstanceOf(HttpError);
    const e = error as UnauthorizedError;
    expect(e.name).toBe('UnauthorizedError');
    expect(e.status).toBe(401);
    expect(e.method).toBe('GET');
    expect(e.url).toBe(`${api.url}/api/me`);
    expect(e.reason).toBe('missing-credentials');
    expect(e.challenges).toHaveLength(1);
    expect(e.challenges[0]?.scheme).toBe('bearer');
    expect({ ...e.challenges[0]?.params }).toEqual({ realm: 'example' });
    expect(e.body).toMatchObject({ title: 'Unauthorized', detail: 'Sign-in required' });
    expect(e.userMessage).toMatch(/sign in/i);
    // A 401 is not retried by ky.
    expect(hits('/api/me')).toBe(1);
  });

  it('a garbage token the app sent itself: reason invalid-token; an expired one: expired-token', async () => {
    const auth = client();
    const garbage = 'garbage.token.value';
    const invalid = await caught(auth.http.get('api/me', { headers: { authorization: `Bearer ${garbage}` } }));
    expectWellFormed(invalid, { code: 'ERR_UNAUTHORIZED', action: 'sign-in', method: 'GET', url: `${api.url}/api/me`, secrets: [garbage] });
    expect((invalid as UnauthorizedError).reason).toBe('invalid-token');
    expect((invalid as UnauthorizedError).challenges[0]?.params.error).toBe('invalid_token');

    const expired = (await api.issueTokens({ ttl: 0 })).access_token;
    const error = await caught(auth.http.get('api/me', { headers: { authorization: `Bearer ${expired}` } }));
    expectWellFormed(error, { code: 'ERR_UNAUTHORIZED', action: 'sign-in', method: 'GET', url: `${api.url}/api/me`, secrets: [expired] });
    expect((error as UnauthorizedError).reason).toBe('expired-token');
    expect((error as UnauthorizedError).userMessage).toMatch(/session has ended/i);
  });

  it('a garbage token from login(), refreshed into another garbage token: invalid-token after one replay', async () => {
    const auth = client({ refresh: customRefresh(() => ({ accessToken: 'renewed-but-still-garbage' })) });
    await auth.login({ access_token: 'garbage-from-login' });
    const error = await caught(auth.http.get('api/me').json());
    expectWellFormed(error, {
      code: 'ERR_UNAUTHORIZED',
      action: 'sign-in',
      method: 'GET',
      url: `${api.url}/api/me`,
      secrets: ['garbage-from-login', 'renewed-but-still-garbage'],
    });
    expect((error as UnauthorizedError).reason).toBe('invalid-token');
    expect(hits('/api/me')).toBe(2);
    // Issue 10 item 5: the session is still active, so the text must not say it has ended; the event says the same.
    expect(auth.session.status).toBe('active');
    expect((error as UnauthorizedError).userMessage).not.toMatch(/session has ended/i);
    expect((error as UnauthorizedError).userMessage).toMatch(/couldn't confirm your access/i);
    const events: UnauthorizedError[] = [];
    auth.on('unauthorized', (event) => events.push(event));
    await caught(auth.http.get('api/me/again'));
    expect(events[0]?.userMessage).toBe((error as UnauthorizedError).userMessage);
  });

  it('a rejected token and no refresh strategy: the session is over (SessionExpiredError no-refresh-token)', async () => {
    const auth = client();
    await auth.login({ access_token: 'garbage-no-strategy' });
    const ended: AuthEvents['sessionExpired'][] = [];
    auth.on('sessionExpired', (payload) => ended.push(payload));
    const error = await caught(auth.http.get('api/me'));
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toBeInstanceOf(AuthFetchError);
    const e = error as SessionExpiredError;
    expect(e.code).toBe('ERR_SESSION_EXPIRED');
    expect(e.reason).toBe('no-refresh-token');
    expect(e.action).toBe('sign-in');
    expect(e.message).not.toContain('garbage-no-strategy');
    expect(JSON.stringify(e)).not.toContain('garbage-no-strategy');
    expect(ended).toEqual([{ reason: 'no-refresh-token' }]);
    expect(auth.session).toEqual({ status: 'expired' });
    // Not retried: running the auth path again cannot help.
    expect(hits('/api/me')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 403, 404, 400
// ---------------------------------------------------------------------------------------------------------------

describe('other client errors', () => {
  it('403: ForbiddenError with requiredScope, hit exactly once (not retried)', async () => {
    const { auth, secrets } = await signedIn();
    const error = await caught(auth.http.get('api/admin').json());
    expectWellFormed(error, { code: 'ERR_FORBIDDEN', action: 'request-access', method: 'GET', url: `${api.url}/api/admin`, secrets });
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toBeInstanceOf(HttpError);
    const e = error as ForbiddenError;
    expect(e.name).toBe('ForbiddenError');
    expect(e.status).toBe(403);
    expect(e.requiredScope).toEqual(['admin']);
    expect(e.body).toMatchObject({ title: 'Forbidden', detail: 'Admins only' });
    expect(e.userMessage).toMatch(/access/i);
    expect(hits('/api/admin')).toBe(1);
  });

  it('404: NotFoundError with the problem-details body; the response stays readable', async () => {
    const { auth, secrets } = await signedIn();
    // A token in the query (a bad practice apps still have) never reaches the message or the JSON.
    const url = `${api.url}/api/items/99?access_token=${secrets[0]}`;
    const error = await caught(auth.http.get(url).json());
    expectWellFormed(error, { code: 'ERR_NOT_FOUND', action: 'go-back', method: 'GET', url, secrets });
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toBeInstanceOf(HttpError);
    const e = error as NotFoundError;
    expect(e.status).toBe(404);
    expect(e.body).toEqual({
      status: 404,
      type: 'https://authfetch.example/problems/not-found',
      title: 'Not Found',
      detail: 'There is no item 99',
    });
    expect(e.response.headers.get('content-type')).toContain('application/problem+json');
    expect(await e.response.json()).toEqual(e.body);
    expect(hits('/api/items/99')).toBe(1);
  });

  it('400: a plain HttpError (no subclass), not retried', async () => {
    const { auth, secrets } = await signedIn();
    const error = await caught(auth.http.get('api/status/400').json());
    expectWellFormed(error, { code: 'ERR_HTTP', action: 'contact-support', method: 'GET', url: `${api.url}/api/status/400`, secrets });
    expect(error).toBeInstanceOf(HttpError);
    for (const subclass of [UnauthorizedError, ForbiddenError, NotFoundError, RateLimitError, ServerError]) {
      expect(error).not.toBeInstanceOf(subclass);
    }
    const e = error as HttpError;
    expect(e.name).toBe('HttpError');
    expect(e.status).toBe(400);
    expect(e.statusText).toBe('Bad Request');
    expect(e.body).toEqual({ status: 400, title: 'Bad Request' });
    expect(hits('/api/status/400')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 429 and 5xx: retried, then typed
// ---------------------------------------------------------------------------------------------------------------

describe('429 and 5xx', () => {
  it('429 with retry: 0: RateLimitError with retryAfterMs, one hit', async () => {
    const { auth, secrets } = await signedIn({ retry: 0 });
    const error = await caught(auth.http.get('api/status/429?retryAfter=7').json());
    expectWellFormed(error, { code: 'ERR_RATE_LIMITED', action: 'retry', method: 'GET', url: `${api.url}/api/status/429`, secrets });
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as RateLimitError).retryAfterMs).toBe(7000);
    expect((error as RateLimitError).status).toBe(429);
    expect(hits('/api/status/429')).toBe(1);
  });

  it('429 honours Retry-After between retries, then throws RateLimitError', async () => {
    const { auth } = await signedIn({ retry: { limit: 1 } });
    const started = Date.now();
    const error = await caught(auth.http.get('api/status/429?retryAfter=1').json());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).retryAfterMs).toBe(1000);
    expect(hits('/api/status/429')).toBe(2);
  });

  it('500 and 503 on GET: ServerError after 2 retries (3 hits)', async () => {
    const { auth, secrets } = await signedIn({ retry: { backoffLimit: 50 } });
    for (const status of [500, 503]) {
      const path = `/api/status/${status}`;
      const error = await caught(auth.http.get(path.slice(1)).json());
      expectWellFormed(error, { code: 'ERR_SERVER', action: 'retry', method: 'GET', url: `${api.url}${path}`, secrets });
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toBeInstanceOf(HttpError);
      expect((error as ServerError).status).toBe(status);
      expect((error as ServerError).userMessage).toMatch(/try again/i);
      expect(hits(path)).toBe(3);
    }
  });

  it('500 on POST: ServerError after one hit (POST is not idempotent)', async () => {
    const { auth } = await signedIn({ retry: { backoffLimit: 50 } });
    const error = await caught(auth.http.post('api/status/500', { json: { a: 1 } }).json());
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).method).toBe('POST');
    expect((error as ServerError).message).toContain(`POST ${api.url}/api/status/500`);
    expect(hits('/api/status/500')).toBe(1);
  });

  it('the default retry: 5xx retried twice with ky backoff, 403/404 never', async () => {
    const { auth } = await signedIn();
    await caught(auth.http.get('api/status/502'));
    expect(hits('/api/status/502')).toBe(3);
    await caught(auth.http.get('api/status/403'));
    await caught(auth.http.get('api/status/404'));
    expect(hits('/api/status/403')).toBe(1);
    expect(hits('/api/status/404')).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// No response: network, timeout, abort
// ---------------------------------------------------------------------------------------------------------------

describe('failures without a response', () => {
  it('a refused connection: NetworkError with the cause (auth.http and auth.fetch)', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/api/me`;
    const { auth, secrets } = await signedIn({ retry: 0, authorizedOrigins: [`http://127.0.0.1:${port}`] });

    const error = await caught(auth.http.get(url).json());
    expectWellFormed(error, { code: 'ERR_NETWORK', action: 'check-connection', method: 'GET', url, secrets });
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).not.toBeInstanceOf(HttpError);
    const e = error as NetworkError;
    expect(e.name).toBe('NetworkError');
    expect(e.cause).toBeInstanceOf(TypeError);
    expect(e.message).toContain('ECONNREFUSED');
    expect(e.userMessage).toMatch(/connection/i);

    const viaFetch = await caught(auth.fetch(url, { method: 'DELETE' }));
    expectWellFormed(viaFetch, { code: 'ERR_NETWORK', action: 'check-connection', method: 'DELETE', url, secrets });
  });

  it('a refused connection is retried for GET by default, then NetworkError', async () => {
    const port = await closedPort();
    const auth = client({ retry: { backoffLimit: 20 } });
    const error = await caught(auth.http.get(`http://127.0.0.1:${port}/x`));
    expect(error).toBeInstanceOf(NetworkError);
  });

  it('an attempt that outlives timeout: TimeoutError, not retried', async () => {
    const { auth, secrets } = await signedIn({ timeout: 300 });
    const started = Date.now();
    const error = await caught(auth.http.get('api/slow?ms=20000').json());
    expect(Date.now() - started).toBeLessThan(10_000);
    expectWellFormed(error, { code: 'ERR_TIMEOUT', action: 'retry', method: 'GET', url: `${api.url}/api/slow`, secrets });
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).not.toBeInstanceOf(HttpError);
    const e = error as TimeoutError;
    expect(e.name).toBe('TimeoutError');
    expect(e.timeout).toBe(300);
    expect(e.message).toContain('300 ms');
    expect(hits('/api/slow')).toBe(1);

    const viaFetch = await caught(auth.fetch('api/slow?ms=20000'));
    expect(viaFetch).toBeInstanceOf(TimeoutError);
    expect(hits('/api/slow')).toBe(2);
  });

  it("an app's per-call ky timeout: TimeoutError, and no token is left on the Request that ky's error holds", async () => {
    const { auth, secrets } = await signedIn();
    const error = await caught(auth.http.get('api/slow?ms=5000', { timeout: 200, retry: 0 }).json());
    expectWellFormed(error, { code: 'ERR_TIMEOUT', action: 'retry', method: 'GET', url: `${api.url}/api/slow`, secrets });
    // auth.http sets the token on ky's own Request in place (no header copy per request); ky's TimeoutError keeps
    // that Request, so the token is taken off it before the error reaches the app.
    const kyError = (error as TimeoutError).cause as { name?: string; request?: Request };
    expect(kyError.name).toBe('TimeoutError');
    expect(kyError.request).toBeInstanceOf(Request);
    expect(kyError.request?.headers.get('authorization')).toBeNull();
    expect(hits('/api/slow')).toBe(1);
  });

  it("the app's own abort passes through as the platform's AbortError", async () => {
    const { auth } = await signedIn();
    for (const call of [
      (signal: AbortSignal) => auth.http.get('api/slow?ms=20000', { signal }).json(),
      (signal: AbortSignal) => auth.fetch('api/slow?ms=20000', { signal }),
    ]) {
      api.resetStats();
      const controller = new AbortController();
      const pending = caught(call(controller.signal));
      // Abort once the request is at the server (an event, not a guess at timing).
      await vi.waitFor(() => expect(hits('/api/slow')).toBe(1), { timeout: 5000 });
      controller.abort();
      const error = await pending;
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      expect(isAuthFetchError(error)).toBe(false);
      expect(hits('/api/slow')).toBe(1);
    }

    // Already aborted: nothing is sent.
    api.resetStats();
    const error = await caught(auth.fetch('api/me', { signal: AbortSignal.abort() }));
    expect((error as DOMException).name).toBe('AbortError');
    expect(hits('/api/me')).toBe(0);
  });
});
