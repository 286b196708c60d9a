/**
 * Attack: a 401 whose body arrives slowly (a large HTML error page over a slow link, or a server that drips it).
 * `auth.fetch` hands back the final `Response` as `fetch` would, without reading its body; but to build the
 * `unauthorized` (and `stepUp`) event the auth path read a copy of the body first (bounded: 64 KiB, 5 s) and only
 * then resolved. So the mere presence of an `unauthorized` listener held every final 401 for up to 5 seconds, and a
 * step-up 401 was held that long with or without a listener. Now the response waits for its event at most 200 ms: the
 * event still comes first when the body came with the headers (the usual case), and later when it is slow.
 * `auth.http` always emits before it rejects (its error is that same memoized error).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customRefresh, type AuthClient } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const www =
      req.url === '/step-up'
        ? 'Bearer error="insufficient_user_authentication", acr_values="mfa"'
        : 'Bearer error="invalid_token"';
    res.writeHead(401, { 'content-type': 'text/html', 'www-authenticate': www });
    res.write('<html>');
    // A byte every 200 ms, for ever (until the client goes away).
    const drip = setInterval(() => res.write('.'), 200);
    res.on('close', () => clearInterval(drip));
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

/** Signed in, with a strategy that always gives a new token (which the API refuses too: the replay's 401 is final). */
async function signedIn(): Promise<AuthClient> {
  let n = 0;
  const auth = createClient({
    baseUrl: origin,
    retry: 0,
    refresh: customRefresh(async () => ({ accessToken: `at-${++n}`, refreshToken: 'rt' })),
  });
  await auth.login({ accessToken: 'at-0', refreshToken: 'rt' });
  return auth;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = Date.now();
  const value = await work();
  return { ms: Date.now() - started, value };
}

describe('a final 401 with a slow body', () => {
  it('auth.fetch resolves at once although an unauthorized listener is attached; the event still comes', async () => {
    const auth = await signedIn();
    const heard: unknown[] = [];
    auth.on('unauthorized', (error) => heard.push(error));
    const { ms, value: response } = await timed(() => auth.fetch('/data'));
    expect(response.status).toBe(401);
    expect(ms).toBeLessThan(2_000);
    await response.body?.cancel();
    await expect.poll(() => heard.length, { timeout: 10_000 }).toBe(1);
  });

  it('a step-up 401 is handed back at once, and stepUp is still emitted', async () => {
    const auth = await signedIn();
    const acr: unknown[] = [];
    auth.on('stepUp', ({ acrValues }) => acr.push(acrValues));
    const { ms, value: response } = await timed(() => auth.fetch('/step-up'));
    expect(response.status).toBe(401);
    expect(ms).toBeLessThan(2_000);
    await response.body?.cancel();
    await expect.poll(() => acr, { timeout: 10_000 }).toEqual([['mfa']]);
  });

  it('auth.http emits unauthorized before it rejects', async () => {
    const auth = await signedIn();
    const order: string[] = [];
    auth.on('unauthorized', () => order.push('event'));
    await auth.http.get('data').catch(() => order.push('rejected'));
    expect(order).toEqual(['event', 'rejected']);
  });
});
