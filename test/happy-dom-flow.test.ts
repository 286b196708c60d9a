// @vitest-environment happy-dom
/**
 * The core flow in vitest's happy-dom environment, where apps' own tests often run (issue 10 item 8). happy-dom 21
 * brings its own `fetch`, and it differs from the platform's in two ways the client must not depend on:
 * `Response.clone()` empties the body of both copies (so a token endpoint's `invalid_grant` read from a clone is
 * lost), and `fetch(request, { signal })` ignores the signal when the input is a `Request` (so a timeout never fires).
 * These tests use happy-dom's own fetch, as an app's tests do, against the example server on 127.0.0.1.
 * `happy-dom.test.ts` has the timeout's cases in detail (a Request or a string, `auth.http` or `auth.fetch`).
 */
import { describe, expect, it } from 'vitest';
import { isSessionExpiredError, isTimeoutError, type AuthEvents } from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { caught } from './helpers/caught.js';

const server = useExampleServer({ opaqueTokens: true });
const createClient = useClients();

describe('in happy-dom', () => {
  it('runs with happy-dom as the DOM and its fetch as the global fetch', () => {
    expect(navigator.userAgent).toContain('HappyDOM');
    // The clients below send through happy-dom's fetch and read its Response class, not Node's (undici).
    expect((globalThis as { happyDOM?: unknown }).happyDOM).toBeDefined();
    expect(String(Response)).toContain('extends ResponseImplementation');
  });

  it('refreshes once on a 401 and replays every request that met it', async () => {
    const auth = createClient(exampleClientOptions(server));
    const refreshes: AuthEvents['refresh'][] = [];
    auth.on('refresh', (event) => refreshes.push(event));
    await auth.login(await server.issueTokens());
    server.expireAll();
    const answers = await Promise.all([1, 2, 3].map(() => auth.http.get('me').json<{ name: string }>()));
    expect(answers.map((me) => me.name)).toEqual(['Alice Liddell', 'Alice Liddell', 'Alice Liddell']);
    expect(server.stats.refreshCalls).toBe(1);
    expect(refreshes).toMatchObject([{ trigger: 'unauthorized', source: 'local' }]);
  });

  it('ends the session when the token endpoint answers invalid_grant', async () => {
    const auth = createClient(exampleClientOptions(server));
    const ended: AuthEvents['sessionExpired'][] = [];
    auth.on('sessionExpired', (event) => ended.push(event));
    await auth.login(await server.issueTokens());
    server.revokeRefreshTokens();
    server.expireAll();
    const error = await caught(auth.http.get('me'));
    expect(isSessionExpiredError(error)).toBe(true);
    expect(ended).toMatchObject([{ reason: 'refresh-rejected' }]);
    expect(auth.session.status).toBe('expired');
  });

  it("ends an auth.http attempt at the client's timeout", async () => {
    const auth = createClient({ ...exampleClientOptions(server), timeout: 300, retry: 0 });
    await auth.login(await server.issueTokens());
    const started = Date.now();
    const error = await caught(auth.http.get('slow?ms=5000'));
    expect(isTimeoutError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});
