/**
 * Mapping to the typed errors (issue 10 item 3): a response -> its class and fields (errorFromResponse, with the
 * bounded body reader), a failure without a response -> NetworkError / TimeoutError or passed through
 * (errorFromFailure). The classes themselves and the guards: error-classes.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import ky from 'ky';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthFetchError,
  ForbiddenError,
  HttpError,
  MAX_ERROR_BODY_BYTES,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  SessionExpiredError,
  TimeoutError,
  UnauthorizedError,
  errorFromFailure,
  errorFromResponse,
  isAuthFetchError,
  isForbiddenError,
  isHttpError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isTimeoutError,
  isUnauthorizedError,
  type ErrorCode,
  type UserAction,
} from '../src/errors/index.js';

// A token-like secret sent both in the query and in the Authorization header: it must never reach a message,
// a userMessage or JSON.stringify(error).
const SECRET = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.SECRET-sig-9f8e7d';
const FIXED_DATE = new Date(Date.UTC(2001, 0, 1, 12, 0, 0));
const ONE_MB = 1024 * 1024;

let server: Server;
let base: string;
const pendingTimers = new Set<ReturnType<typeof setTimeout>>();

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/bad-request': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_field', field: 'email' }));
  },
  '/unauthorized': (_req, res) => {
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end('Unauthorized');
  },
  '/unauthorized-bare': (_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"' });
    res.end();
  },
  '/expired': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    });
    res.end();
  },
  '/invalid': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate': 'Bearer error="invalid_token", error_description="Signature verification failed"',
    });
    res.end();
  },
  '/step-up': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate':
        'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr phrh", max_age=300',
    });
    res.end();
  },
  '/forbidden': (_req, res) => {
    res.writeHead(403, {
      'www-authenticate': 'Bearer error="insufficient_scope", scope="read:admin write:admin"',
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ message: 'nope' }));
  },
  '/forbidden-plain': (_req, res) => {
    res.writeHead(403);
    res.end();
  },
  '/missing': (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/problem+json; charset=utf-8' });
    res.end(
      JSON.stringify({
        type: 'https://api.example/problems/not-found',
        title: 'Not Found',
        status: 404,
        detail: 'Order 42 does not exist',
      }),
    );
  },
  '/request-timeout': (_req, res) => {
    res.writeHead(408, { 'content-type': 'text/plain' });
    res.end('Request Timeout');
  },
  '/conflict': (_req, res) => {
    res.writeHead(409, { 'content-type': 'text/plain' });
    res.end('Conflict');
  },
  '/rate-seconds': (_req, res) => {
    res.writeHead(429, { 'retry-after': '120' });
    res.end();
  },
  '/rate-date': (_req, res) => {
    // The server's clock is far from ours: the wait must be measured against its Date header.
    res.sendDate = false;
    res.writeHead(429, {
      date: FIXED_DATE.toUTCString(),
      'retry-after': new Date(FIXED_DATE.getTime() + 30_000).toUTCString(),
    });
    res.end();
  },
  '/rate-date-no-date': (_req, res) => {
    res.sendDate = false;
    res.writeHead(429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() });
    res.end();
  },
  '/rate-date-past': (_req, res) => {
    res.writeHead(429, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() });
    res.end();
  },
  '/rate-garbage': (_req, res) => {
    res.writeHead(429, { 'retry-after': 'soon' });
    res.end();
  },
  '/server': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<h1>Internal Server Error</h1>');
  },
  '/unavailable': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('Service Unavailable');
  },
  '/huge': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    // Several writes so the body arrives in many chunks.
    const piece = 'x'.repeat(64 * 1024);
    for (let i = 0; i < ONE_MB / piece.length; i++) res.write(piece);
    res.end();
  },
  '/huge-multibyte': (_req, res) => {
    // '€' is 3 bytes: 64 KiB is not a multiple of 3, so the limit cuts a character in half.
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('€'.repeat(100_000));
  },
  '/bad-json': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error": "unterminated');
  },
  '/empty': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end();
  },
  '/invalid-utf8': (_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(Buffer.from([0x61, 0xff, 0xfe, 0xfd, 0x62]));
  },
  '/aborted-body': (req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '100000' });
    res.write('partial');
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      req.socket.destroy();
    }, 30);
    pendingTimers.add(timer);
  },
  '/stalled-body': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.write('the rest never comes');
  },
  '/slow': (_req, res) => {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      res.writeHead(200);
      res.end('late');
    }, 2_000);
    pendingTimers.add(timer);
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const handler = routes[path];
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const timer of pendingTimers) clearTimeout(timer);
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Fetches a route with the secret in the query, the fragment and the Authorization header, and maps it. */
async function mapRoute(
  path: string,
  options?: Parameters<typeof errorFromResponse>[2],
  init: RequestInit = { headers: { authorization: `Bearer ${SECRET}` } },
): Promise<{ error: HttpError; url: string }> {
  const url = `${base}${path}?access_token=${SECRET}&page=2#token=${SECRET}`;
  const response = await fetch(url, init);
  const error = await errorFromResponse(response, { method: 'GET', url }, options);
  return { error, url };
}

/** What every mapped error must satisfy, whatever its class. */
function expectSafe(error: AuthFetchError, url: string): void {
  expect(error).toBeInstanceOf(AuthFetchError);
  expect(error).toBeInstanceOf(Error);
  expect(error.message).not.toContain(SECRET);
  expect(error.message).not.toContain('access_token');
  expect(error.message).not.toContain('?');
  expect(error.message).not.toContain('#');
  expect(error.message).toContain(`GET ${url.slice(0, url.indexOf('?'))}`);
  expect(error.userMessage.length).toBeGreaterThan(10);
  expect(error.userMessage).not.toMatch(/\bHTTP\b|\b[1-5]\d\d\b|token|status|undefined/i);
  expect(error.userMessage).not.toContain(SECRET);
  const json = JSON.stringify(error);
  expect(json).not.toContain(SECRET);
  expect(json).not.toContain('access_token');
  const parsed = JSON.parse(json) as Record<string, unknown>;
  expect(parsed).toMatchObject({
    name: error.name,
    code: error.code,
    message: error.message,
    userMessage: error.userMessage,
    action: error.action,
  });
  expect(parsed).not.toHaveProperty('response');
  expect(parsed).not.toHaveProperty('body');
  expect(parsed).not.toHaveProperty('headers');
  expect(parsed).not.toHaveProperty('cause');
}

function expectHttp(
  error: HttpError,
  url: string,
  expected: { cls: abstract new (...args: never[]) => HttpError; code: ErrorCode; name: string; status: number; action: UserAction },
): void {
  expectSafe(error, url);
  expect(error).toBeInstanceOf(expected.cls);
  expect(error).toBeInstanceOf(HttpError);
  expect(error.code).toBe(expected.code);
  expect(error.name).toBe(expected.name);
  expect(error.status).toBe(expected.status);
  expect(error.action).toBe(expected.action);
  expect(error.method).toBe('GET');
  // The field keeps the full URL (what the app asked for); only messages and JSON drop the query.
  expect(error.url).toBe(url);
  expect(error.response).toBeInstanceOf(Response);
  expect(error.message).toContain(`Request failed with status ${expected.status}`);
  expect(isHttpError(error)).toBe(true);
  expect(isAuthFetchError(error)).toBe(true);
  const json = error.toJSON();
  expect(json.status).toBe(expected.status);
  expect(json.url).toBe(url.slice(0, url.indexOf('?')));
}

describe('errorFromResponse', () => {
  it('maps 400 to HttpError with the parsed JSON body and contact-support', async () => {
    const { error, url } = await mapRoute('/bad-request');
    expectHttp(error, url, { cls: HttpError, code: 'ERR_HTTP', name: 'HttpError', status: 400, action: 'contact-support' });
    expect(error.constructor).toBe(HttpError);
    expect(error.statusText).toBe('Bad Request');
    // The status text is the server's words (issue 9 item 7): it stays in `statusText`, out of `message`.
    expect(error.message).toBe(`Request failed with status 400: GET ${base}/bad-request`);
    expect(error.body).toEqual({ error: 'invalid_field', field: 'email' });
    expect(isUnauthorizedError(error)).toBe(false);
  });

  it('maps 401 without a challenge: unknown when credentials were sent, missing-credentials when not', async () => {
    const { error, url } = await mapRoute('/unauthorized', { credentialsSent: true });
    expectHttp(error, url, {
      cls: UnauthorizedError,
      code: 'ERR_UNAUTHORIZED',
      name: 'UnauthorizedError',
      status: 401,
      action: 'sign-in',
    });
    const unauthorized = error as UnauthorizedError;
    expect(unauthorized.challenges).toEqual([]);
    expect(unauthorized.reason).toBe('unknown');
    // Without word of the session (issue 10 item 5), the text claims neither that it ended nor that it is active.
    expect(unauthorized.userMessage).toBe('Please sign in to continue.');
    expect(unauthorized.body).toBe('Unauthorized');
    expect(isUnauthorizedError(error)).toBe(true);

    const anonymous = await mapRoute('/unauthorized', { credentialsSent: false }, {});
    expect((anonymous.error as UnauthorizedError).reason).toBe('missing-credentials');
    expect(anonymous.error.action).toBe('sign-in');
  });

  it('reads a bare Bearer challenge (RFC 6750 3.1) as missing-credentials only when no credentials were sent', async () => {
    const anonymous = await mapRoute('/unauthorized-bare', { credentialsSent: false }, {});
    const error = anonymous.error as UnauthorizedError;
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error.reason).toBe('missing-credentials');
    expect(error.challenges).toHaveLength(1);
    expect(error.challenges[0]?.scheme).toBe('bearer');
    expect(error.challenges[0]?.params.realm).toBe('api');
    expect(error.body).toBeUndefined();
    expectSafe(error, anonymous.url);

    const withToken = await mapRoute('/unauthorized-bare', { credentialsSent: true });
    expect((withToken.error as UnauthorizedError).reason).toBe('unknown');
    const notSaid = await mapRoute('/unauthorized-bare');
    expect((notSaid.error as UnauthorizedError).reason).toBe('unknown');
  });

  it('maps 401 invalid_token with an expiry description to expired-token', async () => {
    const { error, url } = await mapRoute('/expired', { credentialsSent: true });
    expectHttp(error, url, {
      cls: UnauthorizedError,
      code: 'ERR_UNAUTHORIZED',
      name: 'UnauthorizedError',
      status: 401,
      action: 'sign-in',
    });
    expect((error as UnauthorizedError).reason).toBe('expired-token');
    expect(error.message).toContain('expired-token');
    expect(error.toJSON().reason).toBe('expired-token');
  });

  it('maps 401 invalid_token without expiry to invalid-token', async () => {
    const { error, url } = await mapRoute('/invalid', { credentialsSent: true });
    expectSafe(error, url);
    expect((error as UnauthorizedError).reason).toBe('invalid-token');
  });

  it('maps 401 insufficient_user_authentication (RFC 9470) to step-up-required with its own message', async () => {
    const { error, url } = await mapRoute('/step-up', { credentialsSent: true });
    expectHttp(error, url, {
      cls: UnauthorizedError,
      code: 'ERR_UNAUTHORIZED',
      name: 'UnauthorizedError',
      status: 401,
      action: 'sign-in',
    });
    const unauthorized = error as UnauthorizedError;
    expect(unauthorized.reason).toBe('step-up-required');
    expect(unauthorized.userMessage).toMatch(/confirm your identity/i);
    expect(unauthorized.challenges[0]?.params).toMatchObject({ acr_values: 'phr phrh', max_age: '300' });
  });

  it('maps 403 insufficient_scope to ForbiddenError with requiredScope', async () => {
    const { error, url } = await mapRoute('/forbidden');
    expectHttp(error, url, {
      cls: ForbiddenError,
      code: 'ERR_FORBIDDEN',
      name: 'ForbiddenError',
      status: 403,
      action: 'request-access',
    });
    const forbidden = error as ForbiddenError;
    expect(forbidden.requiredScope).toEqual(['read:admin', 'write:admin']);
    expect(forbidden.toJSON().requiredScope).toEqual(['read:admin', 'write:admin']);
    expect(forbidden.userMessage).toMatch(/access/i);
    expect(forbidden.userMessage).toMatch(/owner or an administrator/i);
    expect(forbidden.body).toEqual({ message: 'nope' });
    // Neither the status text nor the scope (both the server's words) in the message.
    expect(forbidden.message).toBe(`Request failed with status 403: GET ${base}/forbidden`);
    expect(isForbiddenError(error)).toBe(true);
    expect(isNotFoundError(error)).toBe(false);
  });

  it('leaves requiredScope undefined for a 403 without a challenge', async () => {
    const { error } = await mapRoute('/forbidden-plain');
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).requiredScope).toBeUndefined();
    expect(error.toJSON()).not.toHaveProperty('requiredScope');
    expect(error.body).toBeUndefined();
  });

  it('maps 404 and keeps an RFC 9457 problem details body as an object', async () => {
    const { error, url } = await mapRoute('/missing');
    expectHttp(error, url, { cls: NotFoundError, code: 'ERR_NOT_FOUND', name: 'NotFoundError', status: 404, action: 'go-back' });
    expect(error.body).toEqual({
      type: 'https://api.example/problems/not-found',
      title: 'Not Found',
      status: 404,
      detail: 'Order 42 does not exist',
    });
    expect(error.userMessage).toMatch(/moved or removed/);
    expect(isNotFoundError(error)).toBe(true);
    // The app can still read the response itself.
    expect(await error.response.json()).toMatchObject({ detail: 'Order 42 does not exist' });
  });

  it('maps 408 to a plain HttpError that suggests retry, and 409 to contact-support', async () => {
    const timeout = await mapRoute('/request-timeout');
    expectHttp(timeout.error, timeout.url, {
      cls: HttpError,
      code: 'ERR_HTTP',
      name: 'HttpError',
      status: 408,
      action: 'retry',
    });
    expect(timeout.error.constructor).toBe(HttpError);
    expect(timeout.error.body).toBe('Request Timeout');

    const conflict = await mapRoute('/conflict');
    expect(conflict.error.constructor).toBe(HttpError);
    expect(conflict.error.action).toBe('contact-support');
    expect(conflict.error.userMessage).toMatch(/contact support/i);
  });

  it('maps 429 with Retry-After in seconds', async () => {
    const { error, url } = await mapRoute('/rate-seconds');
    expectHttp(error, url, {
      cls: RateLimitError,
      code: 'ERR_RATE_LIMITED',
      name: 'RateLimitError',
      status: 429,
      action: 'retry',
    });
    expect((error as RateLimitError).retryAfterMs).toBe(120_000);
    expect(error.toJSON().retryAfterMs).toBe(120_000);
    expect(isRateLimitError(error)).toBe(true);
    expect(error.userMessage).toMatch(/wait a moment/);
  });

  it("measures a Retry-After HTTP-date against the response's Date header", async () => {
    const { error } = await mapRoute('/rate-date');
    expect((error as RateLimitError).retryAfterMs).toBe(30_000);
  });

  it('measures a Retry-After HTTP-date against now without a Date header, never negative, undefined if unreadable', async () => {
    const noDate = await mapRoute('/rate-date-no-date');
    const ms = (noDate.error as RateLimitError).retryAfterMs;
    expect(ms).toBeGreaterThan(50_000);
    expect(ms).toBeLessThanOrEqual(60_000);

    const past = await mapRoute('/rate-date-past');
    expect((past.error as RateLimitError).retryAfterMs).toBe(0);

    const garbage = await mapRoute('/rate-garbage');
    expect(garbage.error).toBeInstanceOf(RateLimitError);
    expect((garbage.error as RateLimitError).retryAfterMs).toBeUndefined();
    expect(garbage.error.toJSON()).not.toHaveProperty('retryAfterMs');
  });

  it.each([
    ['/server', 500, '<h1>Internal Server Error</h1>'],
    ['/unavailable', 503, 'Service Unavailable'],
  ])('maps %s (%i) to ServerError', async (path, status, body) => {
    const { error, url } = await mapRoute(path);
    expectHttp(error, url, { cls: ServerError, code: 'ERR_SERVER', name: 'ServerError', status, action: 'retry' });
    expect(error.body).toBe(body);
    expect(error.userMessage).toMatch(/on our side/);
    expect(isServerError(error)).toBe(true);
  });

  it('bounds a 1 MB body to 64 KiB and leaves error.response readable in full', async () => {
    const { error } = await mapRoute('/huge');
    expect(error).toBeInstanceOf(ServerError);
    expect(typeof error.body).toBe('string');
    expect((error.body as string).length).toBe(MAX_ERROR_BODY_BYTES);
    expect(MAX_ERROR_BODY_BYTES).toBe(64 * 1024);
    expect(error.response.bodyUsed).toBe(false);
    const full = await error.response.text();
    expect(full.length).toBe(ONE_MB);
  });

  it('does not fail when the 64 KiB limit cuts a multi-byte character', async () => {
    const { error } = await mapRoute('/huge-multibyte');
    const body = error.body as string;
    expect(typeof body).toBe('string');
    expect(body).toBe('€'.repeat(Math.floor(MAX_ERROR_BODY_BYTES / 3)));
    expect((await error.response.text()).length).toBe(100_000);
  });

  it('keeps invalid JSON under a JSON content type as text', async () => {
    const { error } = await mapRoute('/bad-json');
    expect(error.body).toBe('{"error": "unterminated');
  });

  it('gives undefined for an empty body', async () => {
    const { error } = await mapRoute('/empty');
    expect(error.body).toBeUndefined();
    expect(error.status).toBe(400);
  });

  it('gives undefined for a body that is not valid UTF-8', async () => {
    const { error } = await mapRoute('/invalid-utf8');
    expect(error.body).toBeUndefined();
    expect(error).toBeInstanceOf(HttpError);
  });

  it('gives undefined, without throwing, when the body stream is cut off', async () => {
    const { error } = await mapRoute('/aborted-body');
    expect(error).toBeInstanceOf(ServerError);
    expect(error.body).toBeUndefined();
  });

  it('gives up on a stalled body after bodyTimeout instead of hanging', async () => {
    const started = Date.now();
    const { error } = await mapRoute('/stalled-body', { bodyTimeout: 100 });
    expect(error).toBeInstanceOf(ServerError);
    expect(error.body).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives undefined when the body was already read', async () => {
    const url = `${base}/bad-request`;
    const response = await fetch(url);
    await response.text();
    const error = await errorFromResponse(response, { method: 'POST', url });
    expect(error.body).toBeUndefined();
    expect(error.message).toBe(`Request failed with status 400: POST ${url}`);
  });
});

describe('errorFromFailure', () => {
  it('maps a refused connection to NetworkError with the original as cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const url = `http://127.0.0.1:${port}/x?access_token=${SECRET}`;
    const failure = await fetch(url, { headers: { authorization: `Bearer ${SECRET}` } }).then(
      () => expect.unreachable('the connection should be refused'),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(TypeError);

    const error = errorFromFailure(failure, { method: 'GET', url });
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toBeInstanceOf(AuthFetchError);
    const network = error as NetworkError;
    expect(network.code).toBe('ERR_NETWORK');
    expect(network.name).toBe('NetworkError');
    expect(network.cause).toBe(failure);
    expect(network.action).toBe('check-connection');
    expect(network.userMessage).toMatch(/internet connection/);
    expect(network.message).toBe(`Network request failed (ECONNREFUSED): GET http://127.0.0.1:${port}/x`);
    expect(network.url).toBe(url);
    expect(JSON.stringify(network)).not.toContain(SECRET);
    expect(isNetworkError(network)).toBe(true);
    expect(isHttpError(network)).toBe(false);
  });

  it('passes the platform AbortError of a user abort through unchanged', async () => {
    const controller = new AbortController();
    const pending = fetch(`${base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const failure = await pending.then(
      () => expect.unreachable('aborted'),
      (error: unknown) => error,
    );
    expect((failure as Error).name).toBe('AbortError');
    expect(errorFromFailure(failure, { method: 'GET', url: `${base}/slow` })).toBe(failure);
  });

  it("passes the app's own abort reason through unchanged", async () => {
    const reason = new Error('navigated away');
    const controller = new AbortController();
    const pending = fetch(`${base}/slow`, { signal: controller.signal });
    controller.abort(reason);
    const failure = await pending.catch((error: unknown) => error);
    expect(failure).toBe(reason);
    expect(errorFromFailure(failure, { method: 'GET', url: `${base}/slow` })).toBe(reason);
  });

  it('maps the TimeoutError DOMException of AbortSignal.timeout() to TimeoutError', async () => {
    const url = `${base}/slow?access_token=${SECRET}`;
    const failure = await fetch(url, { signal: AbortSignal.timeout(1) }).catch((error: unknown) => error);
    expect((failure as DOMException).name).toBe('TimeoutError');
    const error = errorFromFailure(failure, { method: 'GET', url });
    expect(error).toBeInstanceOf(TimeoutError);
    const timeout = error as TimeoutError;
    expect(timeout.code).toBe('ERR_TIMEOUT');
    expect(timeout.cause).toBe(failure);
    expect(timeout.action).toBe('retry');
    expect(timeout.message).toBe(`Request timed out: GET ${base}/slow`);
    expect(JSON.stringify(timeout)).not.toContain(SECRET);
    expect(isTimeoutError(timeout)).toBe(true);
  });

  it("maps ky's TimeoutError to TimeoutError", async () => {
    const url = `${base}/slow`;
    const failure = await ky.get(url, { timeout: 50, retry: 0 }).catch((error: unknown) => error);
    expect((failure as Error).name).toBe('TimeoutError');
    expect(isTimeoutError(failure)).toBe(false);
    const error = errorFromFailure(failure, { method: 'GET', url });
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).cause).toBe(failure);
  });

  it('passes authfetch errors through, our TimeoutError included despite its name', () => {
    const ours = new TimeoutError(undefined, { method: 'GET', url: 'https://api.example/x', timeout: 30_000 });
    expect(ours.message).toBe('Request timed out after 30000 ms: GET https://api.example/x');
    expect(errorFromFailure(ours, { method: 'GET', url: 'https://api.example/x' })).toBe(ours);
    const expired = new SessionExpiredError(undefined, { reason: 'idle' });
    expect(errorFromFailure(expired, { method: 'GET', url: 'https://api.example/x' })).toBe(expired);
  });

  it.each(['Failed to fetch', 'Failed to fetch (api.example)', 'NetworkError when attempting to fetch resource.', 'Load failed'])(
    'maps the browser TypeError "%s" to NetworkError',
    (message) => {
      const failure = new TypeError(message);
      const error = errorFromFailure(failure, { method: 'POST', url: 'https://api.example/orders?x=1' });
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as NetworkError).cause).toBe(failure);
      expect((error as NetworkError).message).toBe('Network request failed: POST https://api.example/orders');
    },
  );

  it('passes other failures through unchanged', () => {
    const request = { method: 'GET', url: 'https://api.example/x' };
    const bug = new TypeError('hooks[0] is not a function');
    expect(errorFromFailure(bug, request)).toBe(bug);
    const invalidUrl = new TypeError('Failed to parse URL from /x');
    expect(errorFromFailure(invalidUrl, request)).toBe(invalidUrl);
    const plain = new Error('fetch failed');
    expect(errorFromFailure(plain, request)).toBe(plain);
    expect(errorFromFailure('a string', request)).toBe('a string');
    expect(errorFromFailure(undefined, request)).toBeUndefined();
    expect(errorFromFailure(null, request)).toBeNull();
  });
});
