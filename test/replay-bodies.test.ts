/**
 * Request bodies survive the replay after a 401 (DESIGN.md "Behaviour that must hold" 3): JSON, text, FormData,
 * URLSearchParams, Blob, through auth.http and auth.fetch; a one-shot stream gets a clear error instead of an empty
 * replay. Against the example server's `/api/echo` on 127.0.0.1.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ExampleServer } from '../examples/server/index.mjs';
import {
  createAuthClient,
  oauth2Refresh,
  type AuthClient,
} from '../src/index.js';
import { useClients, useExampleServers } from './helpers/example.js';

const createClient = useClients();
/** Example servers (opaque tokens unless a test asks for JWTs), closed after the file. */
const startServer = useExampleServers({ opaqueTokens: true });

// Registered after useClients, so it runs before the clients are disposed (vitest runs afterEach hooks as a stack).
afterEach(() => {
  vi.useRealTimers();
});

/** What `/api/echo` answers. */
interface Echo {
  method: string;
  contentType: string | null;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  length: number;
}

const hits = (server: ExampleServer, path: string): number => server.stats.requestsByPath[path] ?? 0;

describe('bodies survive the replay (behaviour 3)', () => {
  let server: ExampleServer;
  let auth: AuthClient;

  beforeAll(async () => {
    server = await startServer();
    auth = createAuthClient({
      baseUrl: `${server.url}/api`,
      refresh: oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: 'demo-spa' }),
    });
    await auth.login(await server.issueTokens());
  });
  afterAll(() => auth.dispose());

  /** Make the current token stale, send, and check that the request was refused once and replayed once. */
  async function sendStale(send: () => Promise<Response>): Promise<Echo> {
    server.expireAll();
    const before = { echo: hits(server, '/api/echo'), refresh: server.stats.refreshCalls };
    const response = await send();
    expect(response.status).toBe(200);
    expect(hits(server, '/api/echo') - before.echo).toBe(2);
    expect(server.stats.refreshCalls - before.refresh).toBe(1);
    return (await response.json()) as Echo;
  }

  /** Decode what the echo received. */
  const bytesOf = (echo: Echo) => (echo.bodyEncoding === 'base64' ? [...Buffer.from(echo.body, 'base64')] : [...Buffer.from(echo.body)]);

  /** Parse a multipart echo back into its fields. */
  async function formOf(echo: Echo): Promise<Array<[string, string]>> {
    expect(echo.contentType).toMatch(/^multipart\/form-data; boundary=/);
    const form = await new Response(echo.body, { headers: { 'content-type': echo.contentType ?? '' } }).formData();
    const entries: Array<[string, string]> = [];
    for (const [name, value] of form) entries.push([name, typeof value === 'string' ? value : `${value.name}:${value.type}:${await value.text()}`]);
    return entries;
  }

  const json = { greeting: 'grüße', list: [1, 2, 3] };
  const binary = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0xfe, 0x01]);
  const makeForm = () => {
    const form = new FormData();
    form.set('title', 'Tea party');
    form.set('file', new Blob(['mad hatter'], { type: 'text/plain' }), 'hatter.txt');
    return form;
  };
  const expectedForm: Array<[string, string]> = [
    ['title', 'Tea party'],
    ['file', 'hatter.txt:text/plain:mad hatter'],
  ];

  describe('auth.http', () => {
    it('json', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { json }));
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('text', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: 'Off with their heads ✂' }));
      expect(echo.contentType).toBe('text/plain;charset=UTF-8');
      expect(echo.body).toBe('Off with their heads ✂');
    });
    it('URLSearchParams', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: new URLSearchParams({ a: '1', b: 'x y&z' }) }));
      expect(echo.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(echo.body).toBe('a=1&b=x+y%26z');
    });
    it('FormData', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: makeForm() }));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('Blob', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: new Blob([binary], { type: 'image/png' }) }));
      expect(echo.contentType).toBe('image/png');
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('ArrayBuffer', async () => {
      const echo = await sendStale(() => auth.http.post('echo', { body: binary.slice().buffer }));
      expect(echo.contentType).toBeNull();
      expect(bytesOf(echo)).toEqual([...binary]);
    });
  });

  describe('auth.fetch', () => {
    const url = () => `${server.url}/api/echo`;
    it('json (string with its content type)', async () => {
      const echo = await sendStale(() =>
        auth.fetch('echo', { method: 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json' } }),
      );
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('text', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: 'Curiouser and curiouser' }));
      expect(echo.contentType).toBe('text/plain;charset=UTF-8');
      expect(echo.body).toBe('Curiouser and curiouser');
    });
    it('URLSearchParams', async () => {
      const echo = await sendStale(() => auth.fetch(url(), { method: 'POST', body: new URLSearchParams({ q: 'rabbit hole' }) }));
      expect(echo.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8');
      expect(echo.body).toBe('q=rabbit+hole');
    });
    it('FormData', async () => {
      const echo = await sendStale(() => auth.fetch(new URL(url()), { method: 'POST', body: makeForm() }));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('Blob', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: new Blob([binary], { type: 'image/png' }) }));
      expect(echo.contentType).toBe('image/png');
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('ArrayBuffer', async () => {
      const echo = await sendStale(() => auth.fetch('echo', { method: 'POST', body: binary.slice().buffer }));
      expect(echo.contentType).toBeNull();
      expect(bytesOf(echo)).toEqual([...binary]);
    });
    it('a Request with a JSON body', async () => {
      const echo = await sendStale(() =>
        auth.fetch(new Request(url(), { method: 'POST', body: JSON.stringify(json), headers: { 'content-type': 'application/json' } })),
      );
      expect(echo.contentType).toBe('application/json');
      expect(JSON.parse(echo.body)).toEqual(json);
    });
    it('a Request with a FormData body', async () => {
      const echo = await sendStale(() => auth.fetch(new Request(url(), { method: 'POST', body: makeForm() })));
      expect(await formOf(echo)).toEqual(expectedForm);
    });
    it('a Request with a stream body (Request.clone() makes it replayable)', async () => {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed '));
          controller.enqueue(new TextEncoder().encode('tea'));
          controller.close();
        },
      });
      const echo = await sendStale(() =>
        auth.fetch(new Request(url(), { method: 'POST', body: stream, duplex: 'half' } as RequestInit & { duplex: 'half' })),
      );
      expect(echo.body).toBe('streamed tea');
    });
  });

  it('a one-shot ReadableStream body meets a 401: a clear TypeError, and no silent empty replay', async () => {
    server.expireAll();
    const before = hits(server, '/api/echo');
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode('only once'));
        controller.close();
      },
    });
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit & { duplex: 'half' };

    const error = await auth.fetch('echo', init).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/one-shot ReadableStream/);
    expect((error as TypeError).message).toMatch(/cannot be sent again/);
    expect(pulled).toBe(1);
    // Only the first attempt (answered 401) reached the server.
    expect(hits(server, '/api/echo') - before).toBe(1);
    // The token was renewed all the same: the next request goes through at once.
    expect((await auth.fetch('echo', { method: 'POST', body: 'after' })).status).toBe(200);
    expect(hits(server, '/api/echo') - before).toBe(2);
  });
});
