/**
 * Mapping a failure without a response (issue 10 item 3): errorFromFailure gives NetworkError / TimeoutError, or
 * passes an app's abort through as it is. The classes themselves and the guards: error-classes.test.ts.
 */
import ky from 'ky';
import { describe, expect, it } from 'vitest';
import {
  AuthFetchError,
  NetworkError,
  SessionExpiredError,
  TimeoutError,
  errorFromFailure,
  isHttpError,
  isNetworkError,
  isTimeoutError,
} from '../src/errors/index.js';
import { SECRET, useErrorRoutes } from './helpers/error-routes.js';
import { closedPort } from './helpers/ports.js';
import { caught } from './helpers/caught.js';

const routes = useErrorRoutes();

describe('errorFromFailure', () => {
  it('maps a refused connection to NetworkError with the original as cause', async () => {
    const port = await closedPort();

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
    const pending = fetch(`${routes.base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const failure = await pending.then(
      () => expect.unreachable('aborted'),
      (error: unknown) => error,
    );
    expect((failure as Error).name).toBe('AbortError');
    expect(errorFromFailure(failure, { method: 'GET', url: `${routes.base}/slow` })).toBe(failure);
  });

  it("passes the app's own abort reason through unchanged", async () => {
    const reason = new Error('navigated away');
    const controller = new AbortController();
    const pending = fetch(`${routes.base}/slow`, { signal: controller.signal });
    controller.abort(reason);
    const failure = await caught(pending);
    expect(failure).toBe(reason);
    expect(errorFromFailure(failure, { method: 'GET', url: `${routes.base}/slow` })).toBe(reason);
  });

  it('maps the TimeoutError DOMException of AbortSignal.timeout() to TimeoutError', async () => {
    const url = `${routes.base}/slow?access_token=${SECRET}`;
    const failure = await caught(fetch(url, { signal: AbortSignal.timeout(1) }));
    expect((failure as DOMException).name).toBe('TimeoutError');
    const error = errorFromFailure(failure, { method: 'GET', url });
    expect(error).toBeInstanceOf(TimeoutError);
    const timeout = error as TimeoutError;
    expect(timeout.code).toBe('ERR_TIMEOUT');
    expect(timeout.cause).toBe(failure);
    expect(timeout.action).toBe('retry');
    expect(timeout.message).toBe(`Request timed out: GET ${routes.base}/slow`);
    expect(JSON.stringify(timeout)).not.toContain(SECRET);
    expect(isTimeoutError(timeout)).toBe(true);
  });

  it("maps ky's TimeoutError to TimeoutError", async () => {
    const url = `${routes.base}/slow`;
    const failure = await caught(ky.get(url, { timeout: 50, retry: 0 }));
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
