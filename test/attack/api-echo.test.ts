/**
 * Attack: the HTTP reason phrase (status text) of an API response is server text. A server that echoes the request
 * into it (some debugging proxies and hostile servers do) put the access token into `HttpError.statusText`, and from
 * there into `toJSON()` (what apps log) and the `forbidden` event; control characters and 100 KB phrases were kept
 * as they came. DESIGN "Errors": server text kept in a field has control characters stripped and its length capped;
 * no event payload or logged form carries a token.
 *
 * The same holds for the challenges of a 401 (`UnauthorizedError.challenges`, in the `unauthorized` and `stepUp`
 * events), whose `error_description` or token68 may echo the token, and for the error body (`HttpError.body`, parsed JSON or text), which the `forbidden` event carries: a
 * body that echoes the request kept the token there. The token is now replaced by `[redacted]` wherever it appears in
 * the body, which is otherwise kept as the server sent it (apps read validation details from it).
 *
 * Node's own HTTP server refuses such phrases, so the API here is a raw TCP server writing its status line by hand.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customRefresh, type ForbiddenError, type UnauthorizedError } from '../../src/index.js';
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

/** The body a path asks for: `/body-json` and `/body-text` echo the Authorization header, anything else is `{}`. */
function bodyFor(path: string, authorization: string): { type: string; body: string } {
  if (path.startsWith('/body-json')) {
    return { type: 'application/problem+json', body: JSON.stringify({ title: 'Denied', detail: `you sent ${authorization}`, errors: [{ field: 'name', got: authorization }] }) };
  }
  if (path.startsWith('/body-text')) return { type: 'text/plain', body: `Denied. You sent ${authorization}.` };
  // 60 KB of nesting: under the 64 KiB read limit, 30 000 levels deep once parsed.
  if (path.startsWith('/body-deep')) return { type: 'application/json', body: `${'['.repeat(30_000)}"${authorization}"${']'.repeat(30_000)}` };
  return { type: 'application/json', body: '{}' };
}

beforeAll(async () => {
  server = createServer((socket: Socket) => {
    let head = '';
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ', 2)[1] ?? '/';
      const authorization = /\r\nauthorization: ([^\r\n]*)/i.exec(head)?.[1] ?? '';
      const status = path.includes('status=500') ? 500 : path.includes('status=422') ? 422 : path.startsWith('/www-echo') ? 401 : 403;
      const { type, body } = bodyFor(path, authorization);
      // `/www-echo`: a 401 whose challenge echoes the Authorization header, in error_description and as a token68.
      const challenge = path.startsWith('/www-echo')
        ? `www-authenticate: Bearer error="invalid_token", error_description="bad token ${authorization}"\r\nwww-authenticate: ${authorization}\r\n`
        : '';
      socket.end(
        `HTTP/1.1 ${status} ${reasonFor(path, authorization)}\r\ncontent-type: ${type}\r\n${challenge}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        'utf8',
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

describe('the body of an API error that echoes the token', () => {
  it('JSON: the token is redacted in error.body and in the forbidden event, the rest kept', async () => {
    const auth = await signedIn();
    const heard: ForbiddenError[] = [];
    auth.on('forbidden', (error) => heard.push(error));
    const error = (await auth.http.get('body-json').catch((e: unknown) => e)) as ForbiddenError;
    expect(JSON.stringify(error.body)).not.toContain(TOKEN);
    expect(error.body).toEqual({
      title: 'Denied',
      detail: 'you sent Bearer [redacted]',
      errors: [{ field: 'name', got: 'Bearer [redacted]' }],
    });
    await expect.poll(() => heard.length).toBe(1);
    expect(JSON.stringify(heard[0]?.body)).not.toContain(TOKEN);
    // The Response the app may read itself is untouched: only what authfetch hands out is redacted.
    expect(await error.response.text()).toContain(TOKEN);
  });

  it('a body nested 30 000 levels deep is still a typed error, redacted, with no stack overflow', async () => {
    const auth = await signedIn();
    const heard: ForbiddenError[] = [];
    auth.on('forbidden', (error) => heard.push(error));
    const error = (await auth.http.get('body-deep').catch((e: unknown) => e)) as ForbiddenError;
    expect(error.code).toBe('ERR_FORBIDDEN');
    let depth = 0;
    let node: unknown = error.body;
    while (Array.isArray(node)) {
      node = node[0];
      depth += 1;
    }
    expect(depth).toBe(30_000);
    expect(node).toBe('Bearer [redacted]');
    await expect.poll(() => heard.length).toBe(1);
  });

  it('text: the token is redacted', async () => {
    const auth = await signedIn();
    const error = (await auth.http.get('body-text', { searchParams: { status: 422 } }).catch((e: unknown) => e)) as ForbiddenError;
    expect(error.status).toBe(422);
    expect(error.body).toBe('Denied. You sent Bearer [redacted].');
  });
});

describe('the challenges of a 401 that echo the token', () => {
  it('are redacted in UnauthorizedError.challenges and the unauthorized event', async () => {
    const renewed = 'at-ECHO-renewed-7e2c4b9a';
    const auth = createClient({ baseUrl: origin, retry: 0, refresh: customRefresh(async () => ({ accessToken: renewed, refreshToken: 'rt' })) });
    await auth.login({ accessToken: TOKEN, refreshToken: 'rt' });
    const heard: UnauthorizedError[] = [];
    auth.on('unauthorized', (error) => heard.push(error));
    const error = (await auth.http.get('www-echo').catch((e: unknown) => e)) as UnauthorizedError;
    expect(error.code).toBe('ERR_UNAUTHORIZED');
    expect(error.reason).toBe('invalid-token');
    const shown = JSON.stringify(error.challenges);
    expect(shown).not.toContain(renewed);
    expect(shown).toContain('bad token Bearer [redacted]');
    expect(heard).toHaveLength(1);
    expect(JSON.stringify(heard[0]?.challenges)).not.toContain(renewed);
  });
});
