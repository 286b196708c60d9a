/**
 * Attack: an API that answers something no HTTP client can read: response headers past undici's limit (16 KiB by
 * default), here one 100 KB header. Node's fetch fails with `UND_ERR_HEADERS_OVERFLOW`, which authfetch reported as a
 * `NetworkError` whose `userMessage` told the person to check their internet connection (action `check-connection`),
 * and `auth.http` sent the request twice more. The connection is fine; the server is broken.
 *
 * Fixed: `errorFromFailure` tells a response the platform could not parse (undici's `UND_ERR_HEADERS_OVERFLOW`,
 * `HPE_*` parser codes, a content-length mismatch) from no response at all: still a `NetworkError` (there is no
 * `Response` to give), but with action `contact-support`, a message that does not blame the connection, and
 * `isTransient` false, so nothing retries it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NetworkError } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
let server: Server;
let origin: string;
let hits = 0;

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    socket.on('data', () => {
      hits += 1;
      socket.end(`HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(100_000)}\r\ncontent-length: 0\r\n\r\n`);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('an answer with headers no client can read', () => {
  it('is a typed NetworkError, with no token in it', async () => {
    const auth = createClient({ baseUrl: origin, retry: 0 });
    await auth.login({ accessToken: 'at-hostile-api' });
    const error = (await auth.http.get('big').catch((e: unknown) => e)) as NetworkError;
    expect(error.code).toBe('ERR_NETWORK');
    expect(JSON.stringify(error)).not.toContain('at-hostile-api');
  });

  it('does not tell the person to check their connection, and is not retried', async () => {
    const auth = createClient({ baseUrl: origin, retry: { limit: 2, backoffLimit: 10 } });
    await auth.login({ accessToken: 'at-hostile-api' });
    hits = 0;
    const error = (await auth.http.get('big').catch((e: unknown) => e)) as NetworkError;
    expect(error.action).not.toBe('check-connection');
    expect(hits).toBe(1);
  });
});
