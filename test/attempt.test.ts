/**
 * The per-attempt timeout (src/attempt.ts), against a real server on 127.0.0.1 that can hang: both ways of bounding an
 * attempt end it for real (the server sees the connection closed), reject with authfetch's TimeoutError, and leave
 * the app's own abort and its own dispatcher alone. Also which way a client picks, and that a client's attempts on
 * Node carry undici's headersTimeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAttempt, defaultBounding, UNDICI_MIN_TIMEOUT_MS, type AttemptBounding, type AttemptTarget } from '../src/attempt.js';
import { TimeoutError, isTimeoutError } from '../src/errors/index.js';
import { createAuthClient } from '../src/index.js';

let server: Server;
let base = '';
/** Requests to /hang whose connection the client closed, and requests seen per path. */
const seen = { closedHangs: 0, byPath: new Map<string, number>(), headersTimeouts: [] as unknown[] };

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    seen.byPath.set(path, (seen.byPath.get(path) ?? 0) + 1);
    if (path === '/hang') {
      // Never answer: only the client can end this request, by closing the connection.
      res.on('close', () => seen.closedHangs++);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, authorization: req.headers.authorization ?? null }));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen.closedHangs = 0;
  seen.byPath.clear();
});

const target = (path: string, signal?: AbortSignal): AttemptTarget => ({ method: 'GET', url: `${base}${path}`, signal });
const identity = (response: Response): Response => response;
const rethrow = (error: unknown): never => {
  throw error;
};

/** The outcome of a promise: its value, or what it rejected with, and how long it took. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const started = performance.now();
  try {
    return { value: await promise, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

describe.each<[AttemptBounding, number]>([
  ['abort', 300],
  // 'undici' below its 10 s floor, so the test is quick: undici's clock ticks about once a second.
  ['undici', 300],
])('bounding %s', (bounding, timeout) => {
  const attempt = createAttempt({ fetch: globalThis.fetch.bind(globalThis), timeout, bounding });

  it('a response in time goes to onResponse, with the init the caller gave', async () => {
    const response = await attempt(`${base}/ok`, { headers: { authorization: 'Bearer t' } }, target('/ok'), identity, rethrow);
    expect(await response.json()).toEqual({ ok: true, authorization: 'Bearer t' });
  });

  it('a server that never answers: TimeoutError, and the connection is closed', async () => {
    // Warm: the first fetch of a process loads undici (and only then is there a global dispatcher).
    await (await attempt(`${base}/ok`, undefined, target('/ok'), identity, rethrow)).text();
    const outcome = await settle(attempt(`${base}/hang`, undefined, target('/hang'), identity, rethrow));
    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(isTimeoutError(outcome.error)).toBe(true);
    const error = outcome.error as TimeoutError;
    expect(error.timeout).toBe(timeout);
    expect(error.url).toBe(`${base}/hang`);
    expect(error.message).toContain(`${timeout} ms`);
    expect(outcome.ms).toBeGreaterThanOrEqual(timeout - 20);
    // 'abort' fires on time; 'undici' within its tick of about a second.
    expect(outcome.ms).toBeLessThan(bounding === 'abort' ? 1500 : 3500);
    // Not just the caller's promise: the attempt itself was ended, connection and all.
    await vi.waitFor(() => expect(seen.closedHangs).toBe(1), { timeout: 3000, interval: 10 });
  });

  it("the app's own abort passes through as the platform's AbortError, and closes the connection", async () => {
    const controller = new AbortController();
    const pending = settle(attempt(`${base}/hang`, { signal: controller.signal }, target('/hang', controller.signal), identity, rethrow));
    await vi.waitFor(() => expect(seen.byPath.get('/hang')).toBe(1), { timeout: 3000, interval: 5 });
    controller.abort();
    const outcome = await pending;
    expect((outcome.error as DOMException).name).toBe('AbortError');
    expect(outcome.error).not.toBeInstanceOf(TimeoutError);
    await vi.waitFor(() => expect(seen.closedHangs).toBe(1), { timeout: 3000, interval: 10 });
  });

  it('a failure without a response goes to onError', async () => {
    const closed = `http://127.0.0.1:1/nothing`;
    const outcome = await settle(
      attempt(closed, undefined, { method: 'GET', url: closed, signal: undefined }, identity, (error) => {
        throw new Error('mapped', { cause: error });
      }),
    );
    expect((outcome.error as Error).message).toBe('mapped');
    expect((outcome.error as Error).cause).toBeInstanceOf(TypeError);
  });
});

describe('bounding undici', () => {
  it("an app's own dispatcher is used as it is, and the timeout still holds (by a signal)", async () => {
    const dispatcherKey = Symbol.for('undici.globalDispatcher.1');
    const global = (globalThis as unknown as Record<symbol, { dispatch(options: object, handler: object): boolean }>)[dispatcherKey];
    expect(global).toBeDefined();
    const used: unknown[] = [];
    const appDispatcher = {
      dispatch(options: { headersTimeout?: unknown }, handler: object) {
        used.push(options.headersTimeout);
        return global!.dispatch(options, handler);
      },
    };
    const attempt = createAttempt({ fetch: globalThis.fetch.bind(globalThis), timeout: 300, bounding: 'undici' });
    const init = { dispatcher: appDispatcher } as RequestInit;
    const outcome = await settle(attempt(`${base}/hang`, init, target('/hang'), identity, rethrow));
    expect(outcome.error).toBeInstanceOf(TimeoutError);
    expect(outcome.ms).toBeLessThan(1500);
    // The app's dispatcher carried the request, untouched by authfetch's headersTimeout.
    expect(used).toEqual([undefined]);
    await vi.waitFor(() => expect(seen.closedHangs).toBe(1), { timeout: 3000, interval: 10 });
  });
});

describe('which bounding a client uses', () => {
  it("Node's own fetch with a timeout of 10 s or more: undici's headersTimeout; otherwise an AbortSignal", () => {
    expect(UNDICI_MIN_TIMEOUT_MS).toBe(10_000);
    expect(defaultBounding(undefined, 30_000)).toBe('undici');
    expect(defaultBounding(undefined, 10_000)).toBe('undici');
    expect(defaultBounding(undefined, 9_999)).toBe('abort');
    // An app's fetch may be anything: only a signal is sure to end it.
    expect(defaultBounding(globalThis.fetch, 30_000)).toBe('abort');
  });

  it('a client with the default timeout sends every attempt with headersTimeout 30000, through the global dispatcher', async () => {
    const key = Symbol.for('undici.globalDispatcher.1');
    const globals = globalThis as unknown as Record<symbol, { dispatch(options: object, handler: object): boolean } | undefined>;
    const original = globals[key];
    expect(original).toBeDefined();
    const recorded: unknown[] = [];
    // An app's global dispatcher (a proxy agent, say): authfetch must go through it, adding only the limit.
    globals[key] = {
      dispatch(options: { headersTimeout?: unknown }, handler: object) {
        recorded.push(options.headersTimeout);
        return original!.dispatch(options, handler);
      },
    };
    try {
      const auth = createAuthClient({ baseUrl: base });
      await auth.login({ access_token: 'at-1', token_type: 'Bearer', expires_in: 3600 });
      expect(await (await auth.fetch('ok')).json()).toEqual({ ok: true, authorization: 'Bearer at-1' });
      expect(await auth.http.get('ok').json()).toEqual({ ok: true, authorization: 'Bearer at-1' });
      expect(recorded).toEqual([30_000, 30_000]);
      auth.dispose();

      // A shorter timeout than undici's tick can serve: an AbortSignal, and no headersTimeout.
      recorded.length = 0;
      const short = createAuthClient({ baseUrl: base, timeout: 2000 });
      await short.login({ access_token: 'at-2', token_type: 'Bearer', expires_in: 3600 });
      await (await short.fetch('ok')).text();
      expect(recorded).toEqual([undefined]);
      short.dispose();
    } finally {
      globals[key] = original;
    }
  });
});
