/**
 * Attack: the HTTP reason phrase (status text) of an API response is server text. A server that echoes the request
 * into it (some debugging proxies and hostile servers do) put the access token into `HttpError.statusText`, and from
 * there into `toJSON()` (what apps log) and the `forbidden` event; control characters and 100 KB phrases were kept
 * as they came. DESIGN "Errors": server text kept in a field has control characters stripped and its length capped;
 * no event payload or logged form carries a token.
 *
 * Node's own HTTP server refuses such phrases, so the API here is a raw TCP server writing its status line by hand.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForbiddenError } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const TOKEN = 'at-ECHO-5c1e9a7b3d2f4e6a8b0c';
const createClient = useClients();

let server: Server;
let origin: string;

/** The reason phrase a path asks for: `/echo` echoes the Authorization header, `/long` is 100 KB, `/controls` has C0/DEL. */
function reasonFor(path: string, authorization: string): string {
  if (path.startsWith('/echo')) return `Echo ${authorization}`;
  if (path.startsWith('/long')) return 'x'.repeat(100_000);
  if (path.startsWith('/controls')) return 'Denied\x01\x07\x7f by <b>policy</b>';
  return 'Forbidden';
}

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ', 2)[1] ?? '/';
      const authorization = /\r\nauthorization: ([^\r\n]*)/i.exec(head)?.[1] ?? '';
      const status = path.includes('status=500') ? 500 : 403;
      socket.end(
        `HTTP/1.1 ${status} ${reasonFor(path, authorization)}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}`,
        'latin1',
      );
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function signedIn() {
  const auth = createClient({ baseUrl: origin, retry: 0 });
  await auth.login({ accessToken: TOKEN });
  return auth;
}

describe('the status text of an API answer is server text', () => {
  it.each(['echo', 'echo?status=500'])('a phrase echoing the token never reaches statusText, toJSON() or the message (%s)', async (path) => {
    const auth = await signedIn();
    const error = (await auth.http.get(path).catch((e: unknown) => e)) as ForbiddenError;
    expect(error.status).toBe(path.includes('500') ? 500 : 403);
    expect(error.statusText).not.toContain(TOKEN);
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(error.message).not.toContain(TOKEN);
  });

  it('the forbidden event carries no token in its status text', async () => {
    const auth = await signedIn();
    const heard: ForbiddenError[] = [];
    auth.on('forbidden', (error) => heard.push(error));
    const response = await auth.fetch('echo');
    expect(response.status).toBe(403);
    // The Response handed back is the platform's own: its statusText is what the server said.
    expect(response.statusText).toContain(TOKEN);
    await expect.poll(() => heard.length).toBe(1);
    expect(heard[0]?.statusText).not.toContain(TOKEN);
    expect(JSON.stringify(heard[0])).not.toContain(TOKEN);
  });

  it('control characters are stripped and the length is capped', async () => {
    const auth = await signedIn();
    const controls = (await auth.http.get('controls').catch((e: unknown) => e)) as ForbiddenError;
    expect(controls.statusText).toBe('Denied by <b>policy</b>');
    const long = (await auth.http.get('long').catch((e: unknown) => e)) as ForbiddenError;
    expect(long.statusText.length).toBeLessThanOrEqual(64);
    expect(JSON.stringify(long).length).toBeLessThan(1000);
  });

  it('an ordinary phrase is kept as it is', async () => {
    const auth = await signedIn();
    const error = (await auth.http.get('plain').catch((e: unknown) => e)) as ForbiddenError;
    expect(error.statusText).toBe('Forbidden');
    expect(error.toJSON().statusText).toBe('Forbidden');
  });
});
