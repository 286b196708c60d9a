/**
 * Mapping a response to its typed error (issue 10 item 3): errorFromResponse with the bounded body reader, against
 * the route server of test/helpers/error-routes.ts. Failures without a response: errors-from-failure.test.ts; the
 * classes themselves and the guards: error-classes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  AuthFetchError,
  ForbiddenError,
  HttpError,
  MAX_ERROR_BODY_BYTES,
  NotFoundError,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  errorFromResponse,
  isAuthFetchError,
  isForbiddenError,
  isHttpError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isUnauthorizedError,
  type ErrorCode,
  type UserAction,
} from '../src/errors/index.js';
import { ONE_MB, SECRET, useErrorRoutes } from './helpers/error-routes.js';

const routes = useErrorRoutes();

/** Fetches a route with the secret in the query, the fragment and the Authorization header, and maps it. */
async function mapRoute(
  path: string,
  options?: Parameters<typeof errorFromResponse>[2],
  init: RequestInit = { headers: { authorization: `Bearer ${SECRET}` } },
): Promise<{ error: HttpError; url: string }> {
  const url = `${routes.base}${path}?access_token=${SECRET}&page=2#token=${SECRET}`;
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
    expect(error.message).toBe(`Request failed with status 400: GET ${routes.base}/bad-request`);
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
    expect(forbidden.message).toBe(`Request failed with status 403: GET ${routes.base}/forbidden`);
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
    const url = `${routes.base}/bad-request`;
    const response = await fetch(url);
    await response.text();
    const error = await errorFromResponse(response, { method: 'POST', url });
    expect(error.body).toBeUndefined();
    expect(error.message).toBe(`Request failed with status 400: POST ${url}`);
  });
});
