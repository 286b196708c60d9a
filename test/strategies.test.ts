/**
 * The refresh strategies (DESIGN.md "Refresh strategies"): the exact refresh_token grant of `oauth2Refresh` (form,
 * client authentication, rotation) against a scripted token endpoint, `sessionRefresh` against the example server's
 * cookie session, and `customRefresh`. On 127.0.0.1.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExampleServer, OAuthTokenResponse } from '../examples/server/index.mjs';
import {
  SessionExpiredError,
  customRefresh,
  oauth2Refresh,
  sessionRefresh,
  type AuthClient,
  type AuthClientOptions,
  type RefreshContext,
} from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServers } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';
import { startTokenEndpoint } from './helpers/token-endpoint.js';

const createClient = useClients();
/** Example servers (opaque tokens unless a test asks for JWTs), closed after the file. */
const startServer = useExampleServers({ opaqueTokens: true });

// Registered after useClients, so it runs before the clients are disposed (vitest runs afterEach hooks as a stack).
afterEach(() => {
  vi.useRealTimers();
});

/** A client for the example server: baseUrl `/api`, oauth2Refresh against its token endpoint unless overridden. */
function clientFor(server: ExampleServer, options: AuthClientOptions = {}): AuthClient {
  return createClient({ ...exampleClientOptions(server), ...options });
}

/** A token endpoint that answers from a script, in order (`invalid_grant` once it runs out), recording each call. */
async function startRecordingTokenEndpoint(answers: Array<Record<string, unknown>>) {
  const endpoint = await startTokenEndpoint(() => {
    const answer = answers.shift() ?? { error: 'invalid_grant' };
    return { status: 'error' in answer ? 400 : 200, body: answer };
  });
  return { url: endpoint.url, calls: endpoint.requests, close: endpoint.close };
}

describe('strategies', () => {
  describe('oauth2Refresh', () => {
    it('sends a form-encoded refresh_token grant with client_id and no client_secret; rotation replaces the refresh token', async () => {
      const endpoint = await startRecordingTokenEndpoint([
        { access_token: 'at-2', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-2' },
        { access_token: 'at-3', token_type: 'Bearer', expires_in: 300 }, // no refresh_token: keep rt-2
        { access_token: 'at-4', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-3' },
      ]);
      // The client's own fetch sees what cannot be observed on the wire (cache mode, credentials).
      const inits: RequestInit[] = [];
      const auth = createClient({
        refresh: oauth2Refresh({ tokenEndpoint: endpoint.url, clientId: 'my-spa' }),
        fetch: (input, init) => {
          if (init) inits.push(init);
          return fetch(input, init);
        },
      });
      await auth.login({ accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() + 300_000 });

      await auth.refresh();
      await auth.refresh();
      await auth.refresh();
      await endpoint.close();

      expect(endpoint.calls.map((c) => c.form)).toEqual([
        { grant_type: 'refresh_token', refresh_token: 'rt-1', client_id: 'my-spa' },
        { grant_type: 'refresh_token', refresh_token: 'rt-2', client_id: 'my-spa' },
        { grant_type: 'refresh_token', refresh_token: 'rt-2', client_id: 'my-spa' },
      ]);
      for (const call of endpoint.calls) {
        expect(call.method).toBe('POST');
        expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
        expect(call.headers.accept).toBe('application/json');
        expect(call.headers.authorization).toBeUndefined(); // never the access token, no client authentication
        expect(call.headers.cookie).toBeUndefined();
      }
      expect(inits).toHaveLength(3);
      for (const init of inits) expect(init).toMatchObject({ method: 'POST', cache: 'no-store', credentials: 'omit' });
      expect(await auth.getAccessToken()).toBe('at-4');
    });

    it('sends client_secret, scope and extra parameters only when given', async () => {
      const endpoint = await startRecordingTokenEndpoint([{ access_token: 'at-2', expires_in: 300 }]);
      const auth = createClient({
        refresh: oauth2Refresh({
          tokenEndpoint: endpoint.url,
          clientId: 'backend',
          clientSecret: 's3cret',
          // The default with a secret is Basic now (issue 10 item 6); the form body carries it only when asked.
          clientAuth: 'client_secret_post',
          scope: 'api:read',
          extraParams: { resource: 'https://api.example' },
        }),
      });
      await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
      await auth.refresh();
      await endpoint.close();
      expect(endpoint.calls[0]?.form).toEqual({
        grant_type: 'refresh_token',
        refresh_token: 'rt-1',
        client_id: 'backend',
        client_secret: 's3cret',
        scope: 'api:read',
        resource: 'https://api.example',
      });
    });

    it('spends each rotated refresh token once: several refreshes, no reuse detected by the server', async () => {
      const server = await startServer();
      const auth = clientFor(server);
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      await auth.login(await server.issueTokens());
      server.resetStats();
      for (let round = 0; round < 5; round++) {
        server.expireAll();
        // A few requests at once each round, so a double spend would have a chance to show.
        const statuses = await Promise.all([auth.fetch('me'), auth.http.get('me'), auth.fetch('items/1')].map((p) => p.then((r) => r.status)));
        expect(statuses).toEqual([200, 200, 200]);
      }
      expect(server.stats.refreshCalls).toBe(5);
      expect(server.stats.reuseDetected).toBe(0);
      expect(refreshes).toHaveLength(5);
    });
  });

  describe('sessionRefresh', () => {
    it('renews the access token with the session cookie; its 401 ends the session', async () => {
      const server = await startServer();
      const login = await fetch(`${server.url}/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'alice', password: 'wonderland' }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
      expect(cookie).toMatch(/^sid=/);

      // Node's fetch has no cookie jar: send the cookie to the session endpoints, as credentials: 'include' would.
      const cookieFetch: typeof fetch = (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (!url.startsWith(`${server.url}/session/`)) return fetch(input, init);
        const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
        headers.set('cookie', cookie);
        return fetch(input, { ...init, headers });
      };
      const auth = clientFor(server, { refresh: sessionRefresh({ url: `${server.url}/session/refresh` }), fetch: cookieFetch });
      const refreshes = recordEvents(auth, ['refresh']).refresh;
      const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;

      // Never signed in here (a reload with a live session): the first 401 gets the token from the cookie.
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(server.stats.sessionRefreshCalls).toBe(1);
      expect(auth.session.status).toBe('active');

      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(server.stats.sessionRefreshCalls).toBe(2);
      expect(refreshes.map((r) => r.trigger)).toEqual(['unauthorized', 'unauthorized']);

      // The server forgets the session: its 401 ends ours.
      server.revokeRefreshTokens();
      server.expireAll();
      const error = await auth.http.get('me').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SessionExpiredError);
      expect(error).toMatchObject({ reason: 'refresh-rejected', action: 'sign-in' });
      expect(server.stats.sessionRefreshCalls).toBe(3);
      expect(expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
      expect(auth.session.status).toBe('expired');
      expect(await auth.getAccessToken()).toBeUndefined();
    });
  });

  describe('customRefresh', () => {
    async function grant(server: ExampleServer, context: RefreshContext): Promise<OAuthTokenResponse> {
      const response = await context.fetch(`${server.url}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: context.tokens?.refreshToken ?? '', client_id: 'demo-spa' }),
        signal: context.signal,
      });
      return (await response.json()) as OAuthTokenResponse;
    }

    it('returning a TokenSet', async () => {
      const server = await startServer();
      const contexts: RefreshContext[] = [];
      const auth = clientFor(server, {
        refresh: customRefresh(async (context) => {
          contexts.push(context);
          const body = await grant(server, context);
          return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt: Date.now() + body.expires_in * 1000 };
        }),
      });
      const issued = await server.issueTokens();
      await auth.login(issued);
      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(contexts).toHaveLength(1);
      expect(contexts[0]?.tokens?.refreshToken).toBe(issued.refresh_token);
      expect(contexts[0]?.signal).toBeInstanceOf(AbortSignal);
      // The rotated refresh token was kept: a second round works and is no reuse.
      server.expireAll();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      expect(contexts[1]?.tokens?.refreshToken).not.toBe(issued.refresh_token);
      expect(server.stats.reuseDetected).toBe(0);
    });

    it('returning a raw OAuth token response', async () => {
      const server = await startServer();
      const auth = clientFor(server, { refresh: customRefresh((context) => grant(server, context)) });
      await auth.login(await server.issueTokens());
      server.expireAll();
      const before = Date.now();
      await expect(auth.http.get('me').json()).resolves.toMatchObject({ sub: 'alice' });
      // expires_in counts from the answer.
      expect(auth.session.expiresAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(auth.session.expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
    });

    it('throwing SessionExpiredError ends the session', async () => {
      const server = await startServer();
      const thrown = new SessionExpiredError('The sign-in SDK says the session is gone', { reason: 'refresh-rejected' });
      const auth = clientFor(server, {
        refresh: customRefresh(() => {
          throw thrown;
        }),
      });
      const expired = recordEvents(auth, ['sessionExpired']).sessionExpired;
      await auth.login(await server.issueTokens());
      server.expireAll();

      await expect(auth.http.get('me')).rejects.toBe(thrown);
      expect(expired).toEqual([{ reason: 'refresh-rejected', error: thrown }]);
      expect(auth.session.status).toBe('expired');
      expect(await auth.getAccessToken()).toBeUndefined();
    });
  });
});
