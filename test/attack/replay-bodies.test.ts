/**
 * Attack: one-shot bodies that are not a `ReadableStream`. Node's fetch (undici), Deno and Bun also take an async
 * iterable as a body (`body: asyncGenerator()` or a Node `Readable`, with `duplex: 'half'`). The auth path recognised
 * only `ReadableStream` as one-shot, so after a 401 and a refresh an async generator's body was replayed EMPTY (the
 * server got a POST with no payload and answered 200), and a Node `Readable` failed with undici's untyped "Response
 * body object should not be disturbed or locked". Behaviour 3: a body that cannot be replayed gets a clear error
 * rather than a silent empty replay. Replayable bodies (a string, an array of bytes) still replay as before.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { customRefresh } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;
/** What the API received: the Authorization header and the body of each request. */
let received: Array<{ authorization?: string; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(req.headers.authorization === 'Bearer at-new' ? 200 : 401);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
});

/** Signed in with a token the API refuses; the refresh gives one it accepts. */
async function signedIn() {
  const auth = createClient({ baseUrl: origin, refresh: customRefresh(async () => ({ accessToken: 'at-new', refreshToken: 'rt-new' })) });
  await auth.login({ accessToken: 'at-old', refreshToken: 'rt-old' });
  return auth;
}

const payload = () => new TextEncoder().encode('payload');

describe('a one-shot async iterable body met by a 401', () => {
  it.each([
    ['an async generator', () => (async function* () { yield payload(); })()],
    ['a Node Readable', () => Readable.from([Buffer.from('payload')])],
  ])('%s: a clear TypeError, never a silent empty replay', async (_name, makeBody) => {
    const auth = await signedIn();
    const init = { method: 'POST', body: makeBody(), duplex: 'half' } as unknown as RequestInit;
    const error = await auth.fetch('/upload', init).then(
      (response) => `resolved ${response.status}`,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/one-shot/);
    // The first attempt carried the payload; nothing was sent again without it.
    expect(received).toEqual([{ authorization: 'Bearer at-old', body: 'payload' }]);
  });

  it('a replayable body (an array of bytes) is replayed whole', async () => {
    const auth = await signedIn();
    const init = { method: 'POST', body: [payload()], duplex: 'half' } as unknown as RequestInit;
    const response = await auth.fetch('/upload', init);
    expect(response.status).toBe(200);
    expect(received.map((request) => request.authorization)).toEqual(['Bearer at-old', 'Bearer at-new']);
    expect(received[0]?.body).toBe(received[1]?.body);
    expect(received[1]?.body).not.toBe('');
  });

  it('without a 401 an async iterable body goes out once, untouched', async () => {
    const auth = await signedIn();
    await auth.login({ accessToken: 'at-new', refreshToken: 'rt' });
    const init = { method: 'POST', body: (async function* () { yield payload(); })(), duplex: 'half' } as unknown as RequestInit;
    expect((await auth.fetch('/upload', init)).status).toBe(200);
    expect(received).toEqual([{ authorization: 'Bearer at-new', body: 'payload' }]);
  });
});
