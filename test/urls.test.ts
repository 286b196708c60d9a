/**
 * One URL per request (DESIGN behaviour 9): a string is resolved once, and the URL that is checked against
 * `authorizedOrigins` is the URL that is fetched. Three real servers on 127.0.0.1, 127.0.0.2 and 127.0.0.3 (three
 * origins); the token must reach 127.0.0.1 (the API) and nothing else, however the string is written. The same in a
 * page, where fetch resolves against `document.baseURI`, is in `test/urls-dom.test.ts` (jsdom) and
 * `test/browser/urls.test.ts` (Chromium).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthClient, type AuthClient, type AuthClientOptions } from '../src/index.js';
import { resolvePrefix, resolveRequestUrl } from '../src/auth-path/url.js';
import { startRecordingServer, type RecordingServer } from './helpers/recording.js';

const TOKEN = 'url-test-token';

describe('resolveRequestUrl (outside a page)', () => {
  const prefix = 'http://127.0.0.1:8080/v1/';
  it.each([
    ['me', `${prefix}me`],
    ['/me', `${prefix}me`],
    ['\\me', `${prefix}me`],
    ['me?x=1#f', `${prefix}me?x=1#f`],
    ['?q=1', `${prefix}?q=1`],
    ['', prefix],
    [' \t/me\n', `${prefix}me`],
    ['../up', `${prefix}../up`],
    ['http://other.test/x', 'http://other.test/x'],
    ['HTTPS://Other.Test/x', 'https://other.test/x'],
    [' https://other.test/x ', 'https://other.test/x'],
    ['//other.test/x', 'http://other.test/x'],
    ['\\\\other.test/x', 'http://other.test/x'],
    ['/\\other.test/x', 'http://other.test/x'],
    // Outside a page the prefix is the base: the URL standard reads a same-scheme "http:" string as relative to it.
    ['http:127.0.0.2:9/x', 'http://127.0.0.1:8080/v1/127.0.0.2:9/x'],
    ['https:other.test/x', 'https://other.test/x'],
  ])('%j resolves to %j, and keeps the origin a fetch of the result would reach', (input, expected) => {
    const resolved = resolveRequestUrl(input, prefix);
    expect(resolved).toBe(expected);
    // What is fetched is the resolved string, whose reading no longer depends on any base.
    expect(new URL(resolved).href).toBe(new URL(resolved, 'http://elsewhere.test/').href);
  });

  it('never lets a path change the origin of the prefix', () => {
    for (const path of ['@evil.test/x', ':9999/x', '.evil.test/x', '%2F%2Fevil.test', '..//evil.test', '\t/\t/evil.test']) {
      const resolved = resolveRequestUrl(path, prefix);
      expect(new URL(resolved).origin, path).toBe(
        path.replace(/[\t]/g, '').startsWith('//') ? 'http://evil.test' : 'http://127.0.0.1:8080',
      );
    }
  });

  it('reads long runs of spaces and controls in linear time', () => {
    const started = performance.now();
    const resolved = resolveRequestUrl(`${' '.repeat(200_000)}a${' \u0001'.repeat(200_000)}b${'\t'.repeat(200_000)}`, prefix);
    expect(resolved.startsWith(`${prefix}a`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('without a prefix, a relative path is a TypeError that names no query', () => {
    expect(() => resolveRequestUrl('me?secret=1', undefined)).toThrow(/"me" is a relative URL, but no baseUrl is set/);
    expect(() => resolveRequestUrl('//other.test/x', undefined)).toThrow(TypeError);
    expect(resolveRequestUrl('http:other.test/x', undefined)).toBe('http://other.test/x');
  });

  it('resolvePrefix ends the prefix with a slash and refuses what is not a URL', () => {
    expect(resolvePrefix('http://a.test/v1', 'baseUrl', undefined)).toBe('http://a.test/v1/');
    expect(resolvePrefix('http://a.test', 'baseUrl', undefined)).toBe('http://a.test/');
    expect(() => resolvePrefix('/v1?k=secret', 'baseUrl', undefined)).toThrow(/baseUrl "\/v1" is not a valid URL/);
  });
});

describe('auth.fetch and auth.http check and fetch one URL', () => {
  let api: RecordingServer;
  let second: RecordingServer;
  let third: RecordingServer;
  const clients: AuthClient[] = [];

  beforeAll(async () => {
    [api, second, third] = await Promise.all([startRecordingServer('127.0.0.1'), startRecordingServer('127.0.0.2'), startRecordingServer('127.0.0.3')]);
  });
  afterAll(async () => {
    for (const auth of clients) auth.dispose();
    await Promise.all([api.close(), second.close(), third.close()]);
  });
  beforeEach(() => {
    for (const server of [api, second, third]) server.reset();
  });

  async function signedIn(options: AuthClientOptions = {}): Promise<AuthClient> {
    const auth = createAuthClient({ baseUrl: `${api.url}/v1`, retry: 0, ...options });
    clients.push(auth);
    await auth.login({ accessToken: TOKEN });
    return auth;
  }

  /** Every request any server received, with where it arrived and whether it carried the token. */
  const received = () =>
    [api, second, third].flatMap((server) =>
      server.requests.map((r) => ({ at: `${server.host}${r.url}`, token: r.headers.authorization === `Bearer ${TOKEN}` })),
    );

  it('sends a path to baseUrl with the token, whatever its leading slashes', async () => {
    const auth = await signedIn();
    for (const input of ['me', '/me', ' /me', '\\me']) expect((await auth.fetch(input)).status).toBe(200);
    await auth.http.get('/me').json();
    expect(received()).toEqual(Array(5).fill({ at: '127.0.0.1/v1/me', token: true }));
  });

  it('sends "http:host:port/x", protocol-relative and backslash forms where they point, without the token', async () => {
    const auth = await signedIn();
    const hostPort = `${second.host}:${second.port}`;
    // Outside a page the base is baseUrl: the same scheme makes "http:" relative to it (the API, with the token) ...
    await auth.fetch(`http:${hostPort}/a`);
    // ... a network path takes baseUrl's scheme and goes to its own host (no token), as does a backslashed one.
    await auth.fetch(`//${hostPort}/b`);
    await auth.fetch(`\\\\${hostPort}/c`);
    await auth.http.get(`//${hostPort}/d`).json();
    expect(received()).toEqual([
      { at: `127.0.0.1/v1/${hostPort}/a`, token: true },
      { at: '127.0.0.2/b', token: false },
      { at: '127.0.0.2/c', token: false },
      { at: '127.0.0.2/d', token: false },
    ]);
  });

  it('treats case, spaces and default forms of an authorized origin as that origin, and look-alikes as others', async () => {
    const auth = await signedIn({ authorizedOrigins: [api.url] });
    await auth.fetch(`${api.url.toUpperCase()}/upper`);
    await auth.fetch(`  ${api.url}/spaced\t`);
    await auth.fetch(new URL(`${api.url}/url-object`));
    await auth.fetch(new Request(`${api.url}/request-object`));
    // fetch refuses a URL with credentials (the "user" here looks like the API's origin): nothing is sent.
    await expect(auth.fetch(`http://${api.host}:${api.port}@${second.host}:${second.port}/userinfo`)).rejects.toThrow(TypeError);
    await auth.fetch(`http://${second.host}:${second.port}/${api.url}`);
    expect(received()).toEqual([
      { at: '127.0.0.1/upper', token: true },
      { at: '127.0.0.1/spaced', token: true },
      { at: '127.0.0.1/url-object', token: true },
      { at: '127.0.0.1/request-object', token: true },
      { at: `127.0.0.2/${api.url}`, token: false },
    ]);
  });

  it('rejects inputs that are no URL with a TypeError, and sends nothing', async () => {
    const auth = createAuthClient({ retry: 0 });
    clients.push(auth);
    await auth.login({ accessToken: TOKEN });
    await expect(auth.fetch('me')).rejects.toThrow(/relative URL.*baseUrl/);
    await expect(auth.fetch('//127.0.0.2/x')).rejects.toThrow(TypeError);
    await expect(async () => auth.http.get('http://[::1').json()).rejects.toThrow(TypeError);
    expect(received()).toEqual([]);
  });
});
