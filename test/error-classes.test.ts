/**
 * The error classes and their guards (issue 10 item 3): one constructor shape that only assigns, literal names and
 * codes, the brand that guards check, toJSON; and the small helpers the errors module uses (URL redaction, server
 * text, OAuth error codes, isTransient, the bounded reader). Mapping responses and failures: errors.test.ts.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  AuthFetchError,
  ForbiddenError,
  HttpError,
  NetworkError,
  NotFoundError,
  RateLimitError,
  ServerError,
  SessionExpiredError,
  SignInError,
  TimeoutError,
  TokenResponseError,
  UnauthorizedError,
  errorFromFailure,
  isAuthFetchError,
  isForbiddenError,
  isHttpError,
  isNetworkError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isSessionExpiredError,
  isSignInError,
  isTimeoutError,
  isTokenResponseError,
  isTransient,
  isUnauthorizedError,
  oauthErrorCode,
  type ErrorCode,
} from '../src/errors/index.js';
import { readBounded } from '../src/lib/read-body.js';
import { redactUrl } from '../src/lib/redact-url.js';
import { serverText } from '../src/lib/server-text.js';

const SECRET = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.SECRET-sig-9f8e7d';

describe('guards', () => {
  const cases: Array<[ErrorCode, (value: unknown) => boolean, boolean]> = [
    ['ERR_HTTP', isHttpError, true],
    ['ERR_UNAUTHORIZED', isUnauthorizedError, true],
    ['ERR_FORBIDDEN', isForbiddenError, true],
    ['ERR_NOT_FOUND', isNotFoundError, true],
    ['ERR_RATE_LIMITED', isRateLimitError, true],
    ['ERR_SERVER', isServerError, true],
    ['ERR_NETWORK', isNetworkError, false],
    ['ERR_TIMEOUT', isTimeoutError, false],
    ['ERR_SESSION_EXPIRED', isSessionExpiredError, false],
    ['ERR_TOKEN_RESPONSE', isTokenResponseError, false],
    ['ERR_SIGN_IN', isSignInError, false],
  ];

  // Issue 10 item 3: a code alone is not enough (axios errors carry `code: 'ERR_NETWORK'`); the brand
  // `Symbol.for('authfetch.error')`, shared by every realm and every copy of the package, is.
  it.each(cases)('recognise a branded object with code %s (another bundle or realm)', (code, guard, http) => {
    const foreign = { code, name: 'Whatever', message: 'from elsewhere', [Symbol.for('authfetch.error')]: true };
    expect(guard(foreign)).toBe(true);
    expect(isAuthFetchError(foreign)).toBe(true);
    expect(isHttpError(foreign)).toBe(http);
    // Every other specific guard says no.
    for (const [otherCode, otherGuard] of cases) {
      if (otherCode !== code && otherGuard !== isHttpError) expect(otherGuard(foreign)).toBe(false);
    }
  });

  it.each(cases)('refuse an unbranded object with code %s (another library\'s error)', (code, guard) => {
    const axiosLike = Object.assign(new Error('Network Error'), { code, isAxiosError: true });
    expect(guard(axiosLike)).toBe(false);
    expect(isAuthFetchError(axiosLike)).toBe(false);
    expect(isHttpError(axiosLike)).toBe(false);
  });

  it('recognise an error made in another realm by its brand', () => {
    const foreign: unknown = runInNewContext(
      'Object.assign(new Error("x"), { name: "ForbiddenError", code: "ERR_FORBIDDEN", [Symbol.for("authfetch.error")]: true })',
    );
    expect(foreign instanceof Error).toBe(false);
    expect(isForbiddenError(foreign)).toBe(true);
    expect(isHttpError(foreign)).toBe(true);
    expect(isAuthFetchError(foreign)).toBe(true);
    const unbranded: unknown = runInNewContext('Object.assign(new Error("x"), { code: "ERR_FORBIDDEN" })');
    expect(isAuthFetchError(unbranded)).toBe(false);
  });

  it('the brand is on the prototype, invisible to JSON and Object.keys', () => {
    const error = new NetworkError();
    expect((error as unknown as Record<symbol, unknown>)[Symbol.for('authfetch.error')]).toBe(true);
    expect(Object.getOwnPropertySymbols(error)).toEqual([]);
    expect(JSON.stringify(error)).not.toContain('authfetch.error');
  });

  it('reject everything else without throwing', () => {
    const throwing = {
      get code(): never {
        throw new Error('boom');
      },
    };
    const others: unknown[] = [
      null,
      undefined,
      'ERR_FORBIDDEN',
      403,
      {},
      { code: 403 },
      { code: 'ERR_SOMETHING' },
      { code: 'ECONNREFUSED' },
      new Error('x'),
      new TypeError('Failed to fetch'),
      new DOMException('timed out', 'TimeoutError'),
      throwing,
    ];
    for (const value of others) {
      expect(isAuthFetchError(value)).toBe(false);
      for (const [, guard] of cases) expect(guard(value)).toBe(false);
    }
  });
});

describe('constructors', () => {
  it('SessionExpiredError: message first and optional, reason in options', () => {
    const error = new SessionExpiredError('The refresh token was rejected', {
      reason: 'refresh-rejected',
      cause: new Error('invalid_grant'),
    });
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toBeInstanceOf(AuthFetchError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('ERR_SESSION_EXPIRED');
    expect(SessionExpiredError.code).toBe('ERR_SESSION_EXPIRED');
    expect(error.name).toBe('SessionExpiredError');
    expect(error.reason).toBe('refresh-rejected');
    expect(error.action).toBe('sign-in');
    expect(error.userMessage).toBe('Your session has ended. Please sign in again.');
    expect((error.cause as Error).message).toBe('invalid_grant');
    expect(error.toJSON()).toEqual({
      name: 'SessionExpiredError',
      code: 'ERR_SESSION_EXPIRED',
      message: 'The refresh token was rejected',
      userMessage: 'Your session has ended. Please sign in again.',
      action: 'sign-in',
      reason: 'refresh-rejected',
    });

    const bare = new SessionExpiredError();
    // The reasons are a closed union now (issue 10 item 9): a strategy that throws it without one means "rejected".
    expect(bare.reason).toBe('refresh-rejected');
    expect(bare.message).toBe('The session has ended (refresh-rejected)');
    expect('cause' in bare).toBe(false);
    expect(isSessionExpiredError(bare)).toBe(true);
  });

  it('TokenResponseError: constructible with just a message', () => {
    const error = new TokenResponseError('The token response has no access_token');
    expect(error.message).toBe('The token response has no access_token');
    expect(error.code).toBe('ERR_TOKEN_RESPONSE');
    expect(TokenResponseError.code).toBe('ERR_TOKEN_RESPONSE');
    expect(error.name).toBe('TokenResponseError');
    expect(error.action).toBe('retry');
    expect(error.userMessage).toMatch(/couldn't renew your session/);
    expect(error.userMessage).not.toMatch(/token/i);
    expect(error.status).toBeUndefined();
    expect(new TokenResponseError(undefined, { status: 502 }).toJSON().status).toBe(502);
    expect(isTokenResponseError(error)).toBe(true);
  });

  // Issue 10 item 3: one constructor shape for the family, `(message?, options)`, and constructors that only assign;
  // reading `WWW-Authenticate` and `Retry-After` into fields is errorFromResponse's job (tested above).
  it('HTTP classes: (message?, options) like every class; the constructor assigns, it does not parse the response', () => {
    const response = new Response(null, {
      status: 403,
      statusText: 'Forbidden',
      headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:write"' },
    });
    const error = new ForbiddenError(undefined, { response, method: 'DELETE', url: 'https://api.example/orders/1?sig=abc' });
    expect(error.requiredScope).toBeUndefined();
    expect(error.message).toBe('Request failed with status 403: DELETE https://api.example/orders/1');
    expect(error.body).toBeUndefined();
    expect(new ForbiddenError(undefined, { response, method: 'GET', requiredScope: ['orders:write'] }).requiredScope).toEqual([
      'orders:write',
    ]);

    const rate = new RateLimitError(undefined, {
      response: new Response(null, { status: 429, headers: { 'retry-after': '3' } }),
      method: 'GET',
      url: 'https://api.example/x',
      userMessage: 'Slow down, please.',
      retryAfterMs: 3_000,
    });
    expect(rate.retryAfterMs).toBe(3_000);
    expect(rate.userMessage).toBe('Slow down, please.');
    expect(rate.message).toBe('Request failed with status 429: GET https://api.example/x');

    const step = new UnauthorizedError('Step up, please', {
      response: new Response(null, { status: 401 }),
      method: 'GET',
      url: 'https://api.example/x',
      reason: 'step-up-required',
    });
    expect(step.message).toBe('Step up, please');
    expect(step.reason).toBe('step-up-required');
    expect(step.challenges).toEqual([]);
    expect(step.userMessage).toMatch(/confirm your identity/);
  });

  it('statics and literal names', () => {
    expect([
      HttpError.code,
      UnauthorizedError.code,
      ForbiddenError.code,
      NotFoundError.code,
      RateLimitError.code,
      ServerError.code,
      NetworkError.code,
      TimeoutError.code,
    ]).toEqual([
      'ERR_HTTP',
      'ERR_UNAUTHORIZED',
      'ERR_FORBIDDEN',
      'ERR_NOT_FOUND',
      'ERR_RATE_LIMITED',
      'ERR_SERVER',
      'ERR_NETWORK',
      'ERR_TIMEOUT',
    ]);
    const network = new NetworkError();
    expect(network.name).toBe('NetworkError');
    expect(network.message).toBe('Network request failed');
    expect(network.action).toBe('check-connection');
  });

  it('SignInError: a plain message and an action per reason, the OAuth code kept, nothing of the server in message', () => {
    const blocked = new SignInError(undefined, { reason: 'popup-blocked' });
    expect(blocked.code).toBe('ERR_SIGN_IN');
    expect(blocked.name).toBe('SignInError');
    expect(blocked.message).toBe('Sign-in failed (popup-blocked)');
    expect(blocked.userMessage).toMatch(/pop-ups/);
    expect(blocked.action).toBe('sign-in');
    const denied = new SignInError(undefined, { reason: 'access-denied', oauthError: 'access_denied' });
    expect(denied.oauthError).toBe('access_denied');
    expect(denied.toJSON()).toMatchObject({ code: 'ERR_SIGN_IN', reason: 'access-denied', oauthError: 'access_denied' });
    expect(new SignInError(undefined, { reason: 'server-error' }).action).toBe('retry');
    expect(new SignInError(undefined, { reason: 'invalid-response' }).action).toBe('contact-support');
    expect(isSignInError(denied)).toBe(true);
    expect(isAuthFetchError(denied)).toBe(true);
  });

  it('types: codes are literal per class and the code union is exhaustive', () => {
    expectTypeOf<ForbiddenError['code']>().toEqualTypeOf<'ERR_FORBIDDEN'>();
    expectTypeOf<ForbiddenError['name']>().toEqualTypeOf<'ForbiddenError'>();
    expectTypeOf<AuthFetchError['code']>().toEqualTypeOf<ErrorCode>();
    expectTypeOf(errorFromFailure).returns.toBeUnknown();
    const describeCode = (code: ErrorCode): string => {
      switch (code) {
        case 'ERR_HTTP':
        case 'ERR_UNAUTHORIZED':
        case 'ERR_FORBIDDEN':
        case 'ERR_NOT_FOUND':
        case 'ERR_RATE_LIMITED':
        case 'ERR_SERVER':
          return 'http';
        case 'ERR_NETWORK':
        case 'ERR_TIMEOUT':
        case 'ERR_SESSION_EXPIRED':
        case 'ERR_TOKEN_RESPONSE':
        case 'ERR_SIGN_IN':
          return 'other';
        default: {
          const unreachable: never = code;
          return unreachable;
        }
      }
    };
    expect(describeCode('ERR_TIMEOUT')).toBe('other');
  });
});

describe('redactUrl', () => {
  it('drops query, fragment and user info but keeps the path', () => {
    expect(redactUrl(`https://user:pw@api.example/a/b?access_token=${SECRET}#id_token=x`)).toBe('https://api.example/a/b');
    expect(redactUrl('/relative/path?token=1')).toBe('/relative/path');
    expect(redactUrl('not a url#frag')).toBe('not a url');
  });
});

describe('serverText and oauthErrorCode', () => {
  it('strip control characters, cap the length, and drop text that carries a secret', () => {
    expect(serverText('invalid_grant\r\nX-Injected: 1\u0000\u009b')).toBe('invalid_grantX-Injected: 1');
    expect(serverText('x'.repeat(100))).toHaveLength(64);
    expect(serverText(`token ${SECRET} echoed`, [SECRET])).toBeUndefined();
    // A cut echo of a long secret is caught too.
    expect(serverText(`${SECRET}${'y'.repeat(80)}`, [SECRET])).toBeUndefined();
    expect(serverText(SECRET.slice(0, 20), [SECRET])).toBeUndefined();
    expect(serverText('', [])).toBeUndefined();
    expect(serverText(42)).toBeUndefined();
  });

  it('keep an OAuth error code only as RFC 6749 section 5.2 allows it', () => {
    expect(oauthErrorCode('invalid_client')).toBe('invalid_client');
    expect(oauthErrorCode('bad"quote')).toBeUndefined();
    expect(oauthErrorCode('line\nbreak')).toBeUndefined();
    expect(oauthErrorCode('é')).toBeUndefined();
    expect(oauthErrorCode('x'.repeat(65))).toBeUndefined();
    expect(oauthErrorCode('rt-123456789', ['rt-123456789'])).toBeUndefined();
    expect(oauthErrorCode({ error: 'invalid_grant' })).toBeUndefined();
  });
});

describe('isTransient', () => {
  const response = (status: number) => new Response(null, { status });
  it('is true for no answer, 5xx, 429, 408 and 425, false for the rest and for anything not ours', () => {
    expect(isTransient(new NetworkError())).toBe(true);
    expect(isTransient(new TimeoutError())).toBe(true);
    expect(isTransient(new ServerError(undefined, { response: response(503), method: 'GET' }))).toBe(true);
    expect(isTransient(new RateLimitError(undefined, { response: response(429), method: 'GET' }))).toBe(true);
    expect(isTransient(new HttpError(undefined, { response: response(408), method: 'GET' }))).toBe(true);
    expect(isTransient(new HttpError(undefined, { response: response(425), method: 'GET' }))).toBe(true);
    expect(isTransient(new HttpError(undefined, { response: response(409), method: 'GET' }))).toBe(false);
    expect(isTransient(new ForbiddenError(undefined, { response: response(403), method: 'GET' }))).toBe(false);
    expect(isTransient(new TokenResponseError())).toBe(false);
    expect(isTransient(new SessionExpiredError())).toBe(false);
    expect(isTransient(Object.assign(new Error('x'), { code: 'ERR_NETWORK' }))).toBe(false);
    expect(isTransient(new TypeError('fetch failed'))).toBe(false);
  });
});

describe('readBounded', () => {
  const stream = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
        controller.close();
      },
    });

  it('reads a body within the bound whole, and cuts one past it, cancelling the rest', async () => {
    expect(await readBounded(stream('ab', 'cd'), 4)).toEqual({ bytes: new TextEncoder().encode('abcd'), complete: true });
    const cut = await readBounded(stream('ab', 'cd', 'ef'), 3);
    expect(cut).toEqual({ bytes: new TextEncoder().encode('abc'), complete: false });
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    expect((await readBounded(endless, 4096))?.complete).toBe(false);
    expect(cancelled).toBe(true);
  });

  it('gives undefined for a stall past the deadline and for a locked stream; null is an empty body', async () => {
    const stalled = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined) });
    expect(await readBounded(stalled, 10, 20)).toBeUndefined();
    const locked = stream('x');
    locked.getReader();
    expect(await readBounded(locked, 10)).toBeUndefined();
    expect(await readBounded(null, 10)).toEqual({ bytes: new Uint8Array(0), complete: true });
  });
});
