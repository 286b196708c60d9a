/**
 * Attack: ky's own per-call `timeout` through `auth.http`. The client's `timeout` bounds each network attempt, never
 * the time a request is held for a refresh or a sign-in (DESIGN, option `timeout`), which is why `auth.http` gives ky
 * `timeout: false`. But an app that writes `auth.http.get(path, { timeout: 5000 })`, as ky's README teaches, gets ky's
 * timer back around the whole call: a request held while a slower refresh runs fails with `TimeoutError` ("Request
 * timed out") although no network attempt outlived anything, and the refresh it waited for then succeeds unseen.
 *
 * Unfixed. The fix would be for `auth.http` to take a per-call `timeout` out of ky's options (as it does `prefixUrl`)
 * and hand it to the auth path as that request's per-attempt bound (a WeakMap keyed on ky's Request, read by
 * src/attempt.ts), or to document that the per-call option bounds held time too.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customRefresh } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(req.headers.authorization === 'Bearer at-new' ? 200 : 401, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

/** A client whose refresh takes `ms`, signed in with a token the API refuses. */
async function slowRefreshClient(ms: number) {
  const auth = createClient({
    baseUrl: origin,
    refresh: customRefresh(async () => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { accessToken: 'at-new', refreshToken: 'rt-new' };
    }),
  });
  await auth.login({ accessToken: 'at-old', refreshToken: 'rt-old' });
  return auth;
}

describe('a per-call timeout of auth.http', () => {
  it('still bounds a network attempt that hangs', async () => {
    const auth = await slowRefreshClient(0);
    await auth.login({ accessToken: 'at-new', refreshToken: 'rt' });
    const error = await auth.http.get('slow', { timeout: 200, retry: 0, searchParams: { delay: 5000 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT' });
  });

  it.fails('does not count the time the request is held for a refresh', async () => {
    const auth = await slowRefreshClient(600);
    // Each network attempt answers at once; only the refresh between them is slow.
    const body = await auth.http.get('data', { timeout: 300 }).json();
    expect(body).toEqual({ ok: true });
  });
});
