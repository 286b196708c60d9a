/**
 * Attack: `Retry-After` oddities (behaviour 13: honoured up to `retry.maxRetryAfter`, beyond it the error goes to the
 * app at once). ky reads the hint its own way: a value that is neither a number nor a date (`abc`), `1e400`
 * (Infinity) or `1e3` made ky wait the whole `maxRetryAfter` (60 s by default) before each retry, two minutes for a
 * GET, since `NaN < max` is false and a number in exponent form was not checked at all. ky also reads `RateLimit-Reset`
 * and `X-RateLimit-Reset` when there is no `Retry-After`, and waited up to a minute on those too.
 *
 * Each case answers 429 (or 503) with the hint; a client with `retry: { limit: 2, backoffLimit: 50 }` must settle
 * quickly: at once (the hint asks for longer than allowed) or after the short backoff (an unreadable hint is ignored,
 * RFC 9110 section 10.2.3 defines only delta-seconds and an HTTP-date).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimitError } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits += 1;
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const headers: Record<string, string> = {};
    for (const name of ['retry-after', 'ratelimit-reset', 'x-ratelimit-reset']) {
      const value = query.get(name);
      if (value !== null) headers[name] = value;
    }
    res.writeHead(Number(query.get('status') ?? 429), headers);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** GET with these query parameters; how long it took, how many attempts reached the server, and the error. */
async function attempt(params: Record<string, string>) {
  const auth = createClient({ baseUrl: origin, retry: { limit: 2, backoffLimit: 50 } });
  hits = 0;
  const started = Date.now();
  const error = (await auth.http.get('limited', { searchParams: params }).catch((e: unknown) => e)) as RateLimitError;
  return { ms: Date.now() - started, hits, error };
}

describe('a retry hint ky cannot read is not a reason to wait a minute', () => {
  it.each(['abc', 'soon', '12abc'])('Retry-After: %s is ignored (short backoff, all retries)', async (value) => {
    const { ms, hits: attempts, error } = await attempt({ 'retry-after': value });
    expect(error.code).toBe('ERR_RATE_LIMITED');
    expect(attempts).toBe(3);
    expect(ms).toBeLessThan(5_000);
  });

  it('a 503 with an unreadable Retry-After is retried with the backoff, not after 60 s', async () => {
    const { ms, hits: attempts, error } = await attempt({ 'retry-after': 'tomorrow', status: '503' });
    expect(error.code).toBe('ERR_SERVER');
    expect(attempts).toBe(3);
    expect(ms).toBeLessThan(5_000);
  });
});

describe('a retry hint beyond maxRetryAfter gives the error at once', () => {
  it.each([
    ['retry-after', '1e3'],
    ['retry-after', '1e400'],
    ['retry-after', '3600'],
    ['ratelimit-reset', '3600'],
    ['x-ratelimit-reset', String(Math.floor(Date.now() / 1000) + 3600)],
  ])('%s: %s', async (name, value) => {
    const { ms, hits: attempts, error } = await attempt({ [name]: value });
    expect(error.code).toBe('ERR_RATE_LIMITED');
    expect(attempts).toBe(1);
    expect(ms).toBeLessThan(5_000);
  });

  it('a short hint is still honoured (Retry-After: 1 waits about a second per retry)', async () => {
    const { ms, hits: attempts } = await attempt({ 'retry-after': '1' });
    expect(attempts).toBe(3);
    expect(ms).toBeGreaterThanOrEqual(1_900);
    expect(ms).toBeLessThan(10_000);
  });
});
