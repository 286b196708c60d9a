// @vitest-environment jsdom
/**
 * One URL per request in a page (DESIGN behaviour 9): strings that are not full URLs resolve against
 * `document.baseURI`, as a browser's fetch resolves them, so a `<base href>` pointing at a third origin takes them
 * there, without the token. jsdom keeps Node's fetch, which resolves nothing itself: what arrives where shows the URL
 * authfetch resolved is the one it fetched. Chromium, whose fetch does resolve against the document, is in
 * `test/browser/urls.test.ts`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, type AuthClient, type AuthClientOptions } from '../src/index.js';
import { startRecordingServer, type RecordingServer } from './helpers/recording.js';

const TOKEN = 'dom-url-token';

describe('in a page with <base href> on a third origin', () => {
  let api: RecordingServer;
  let second: RecordingServer;
  let third: RecordingServer;
  let base: HTMLBaseElement;
  const clients: AuthClient[] = [];

  beforeAll(async () => {
    [api, second, third] = await Promise.all([startRecordingServer('127.0.0.1'), startRecordingServer('127.0.0.2'), startRecordingServer('127.0.0.3')]);
    base = document.createElement('base');
    base.href = `${third.url}/base/`;
    document.head.append(base);
  });
  afterAll(async () => {
    base.remove();
    await Promise.all([api.close(), second.close(), third.close()]);
  });
  afterEach(() => {
    for (const auth of clients.splice(0)) auth.dispose();
    for (const server of [api, second, third]) server.reset();
  });

  async function signedIn(options: AuthClientOptions): Promise<AuthClient> {
    const auth = createAuthClient({ retry: 0, crossTab: false, ...options });
    clients.push(auth);
    await auth.login({ accessToken: TOKEN });
    return auth;
  }

  const received = () =>
    [api, second, third].flatMap((server) =>
      server.requests.map((r) => ({ at: `${server.host}${r.url}`, token: r.headers.authorization !== undefined })),
    );

  it('reads document.baseURI as the browser does', () => {
    expect(document.baseURI).toBe(`${third.url}/base/`);
  });

  it('sends "http:api-host:port/x" where the page would (the base), without the token', async () => {
    const auth = await signedIn({ authorizedOrigins: [api.url] });
    const apiHostPort = `${api.host}:${api.port}`;
    await auth.fetch(`http:${apiHostPort}/x`);
    await auth.http.get(`http:${apiHostPort}/y`).json();
    expect(received()).toEqual([
      { at: `127.0.0.3/base/${apiHostPort}/x`, token: false },
      { at: `127.0.0.3/base/${apiHostPort}/y`, token: false },
    ]);
  });

  it('without baseUrl, resolves paths against the base; protocol-relative strings keep their host', async () => {
    const auth = await signedIn({ authorizedOrigins: [api.url] });
    await auth.fetch('me');
    await auth.fetch('/root');
    await auth.fetch(`//${second.host}:${second.port}/p`);
    expect(received()).toEqual([
      { at: '127.0.0.2/p', token: false },
      { at: '127.0.0.3/base/me', token: false },
      { at: '127.0.0.3/root', token: false },
    ]);
  });

  it('with baseUrl, paths go to it with the token; a relative baseUrl resolves against the base too', async () => {
    const auth = await signedIn({ baseUrl: `${api.url}/v1` });
    await auth.fetch('/me');
    await auth.http.get('me').json();
    expect(received()).toEqual([
      { at: '127.0.0.1/v1/me', token: true },
      { at: '127.0.0.1/v1/me', token: true },
    ]);
    // A relative baseUrl lands on the third origin, which is then authorized as baseUrl's origin (by default).
    const relative = await signedIn({ baseUrl: 'api' });
    await relative.fetch('me');
    expect(received().at(-1)).toEqual({ at: '127.0.0.3/base/api/me', token: true });
  });

  it('an authorized origin by default is only the page origin and baseUrl, never the <base> origin', async () => {
    const auth = await signedIn({});
    await auth.fetch('me');
    expect(received()).toEqual([{ at: '127.0.0.3/base/me', token: false }]);
  });
});
