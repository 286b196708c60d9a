/**
 * Attack: `expiresAt` in seconds instead of epoch milliseconds, the most common slip of a careless app or custom
 * strategy (`Math.floor(Date.now() / 1000) + 3600`, or a JWT `exp` copied as is). It was stored as is: the token read
 * as expired since 1970 (`session.expiresAt` a January 1970 time), so with a refresh strategy every request refreshed
 * first, five requests five refreshes (with rotation, five refresh tokens spent), silently. A time before 1973 in
 * epoch ms is no real expiry; such a value is refused with a message that names the unit (behaviour 7: bad input gets
 * a typed error, never a token in the message).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customRefresh, isAuthFetchError, type TokenSet } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const inSeconds = () => Math.floor(Date.now() / 1000) + 3600;

describe('expiresAt is epoch milliseconds', () => {
  it('login() refuses an expiresAt in seconds, naming the unit and not the token', async () => {
    const auth = createClient({ baseUrl: origin });
    const error = await auth.login({ accessToken: 'at-seconds-1a2b3c', expiresAt: inSeconds() }).catch((e: unknown) => e);
    expect(isAuthFetchError(error)).toBe(true);
    expect((error as Error).message).toMatch(/expiresAt/);
    expect((error as Error).message).toMatch(/milliseconds/);
    expect((error as Error).message).not.toContain('at-seconds-1a2b3c');
    expect(auth.session.status).toBe('signed-out');
  });

  it('a strategy that answers expiresAt in seconds does not make every request refresh first', async () => {
    let refreshes = 0;
    const auth = createClient({
      baseUrl: origin,
      retry: 0,
      refresh: customRefresh(async (): Promise<TokenSet> => {
        refreshes += 1;
        return { accessToken: `at-${refreshes}`, refreshToken: `rt-${refreshes}`, expiresAt: inSeconds() };
      }),
    });
    const refreshErrors: unknown[] = [];
    auth.on('refreshError', ({ error }) => refreshErrors.push(error));
    // A token that has just expired: the first request refreshes first.
    await auth.login({ accessToken: 'at-0', refreshToken: 'rt-0', expiresAt: Date.now() - 1_000 });
    for (let i = 0; i < 5; i += 1) expect((await auth.fetch('/x')).status).toBe(200);
    // The bad answer is reported, not stored as a 1970 expiry that reads as "expired" at every later request.
    expect(auth.session.expiresAt ?? 0).toBeGreaterThan(1e11);
    expect(refreshErrors.length).toBeGreaterThan(0);
    expect(String((refreshErrors[0] as Error).message)).toMatch(/milliseconds/);
  });

  it('an expiry in milliseconds is kept as it is', async () => {
    const auth = createClient({ baseUrl: origin });
    const expiresAt = Date.now() + 3_600_000;
    await auth.login({ accessToken: 'at-ms', expiresAt });
    expect(auth.session).toEqual({ status: 'active', expiresAt });
  });
});
