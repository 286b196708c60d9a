/**
 * A failed refresh keeps its meaning (issue 10 item 4; DESIGN "Errors"): a failure inside a strategy that is not the
 * endpoint's answer keeps its own type with its cause; an endpoint that refuses the client itself gives a
 * `TokenResponseError` with `oauthError` and `contact-support` (no retries: they cannot help); `dispose()` during a
 * refresh is neither a token response error nor the end of the stored session.
 */
import { createServer as createHttpServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  NetworkError,
  SessionExpiredError,
  TokenResponseError,
  customRefresh,
  isAuthFetchError,
  memoryStorage,
  oauth2Refresh,
} from '../src/index.js';
import { useClients } from './helpers/example.js';
import { startTokenEndpoint, tokens, type TokenEndpoint } from './helpers/token-endpoint.js';
import { caught } from './helpers/caught.js';
import { closedPort } from './helpers/ports.js';
import { recordEvents } from './helpers/events.js';

const createClient = useClients();
const endpoints: TokenEndpoint[] = [];
afterEach(async () => {
  for (const endpoint of endpoints.splice(0)) await endpoint.close();
});

async function endpoint(...args: Parameters<typeof startTokenEndpoint>): Promise<TokenEndpoint> {
  const started = await startTokenEndpoint(...args);
  endpoints.push(started);
  return started;
}

function signedIn(options: Parameters<typeof createClient>[0]) {
  const storage = memoryStorage();
  const auth = createClient({ storage, retry: { limit: 2, backoffLimit: 20 }, ...options });
  const { refreshError: refreshErrors, sessionExpired: expired } = recordEvents(auth, ['refreshError', 'sessionExpired']);
  return { auth, storage, refreshErrors, expired };
}

describe('failures without an answer keep their type', () => {
  it('an unreachable token endpoint is a NetworkError with the platform error as cause, retried, session kept', async () => {
    const port = await closedPort();
    const { auth, storage, refreshErrors } = signedIn({
      refresh: oauth2Refresh({ tokenEndpoint: `http://127.0.0.1:${port}/token`, clientId: 'spa' }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const error = await caught(auth.refresh());
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).cause).toBeInstanceOf(TypeError);
    expect((error as NetworkError).message).toMatch(/^Network request failed \(ECONNREFUSED\): POST http:\/\/127\.0\.0\.1:\d+\/token$/);
    expect(refreshErrors.map((event) => event.error)).toEqual([error]);
    expect((await storage.get())?.refreshToken).toBe('rt-1');
  });

  it('a fetch option the platform refuses is a NetworkError with that cause, not "The refresh strategy failed"', async () => {
    const server = await endpoint(() => tokens('at-2'));
    // undici refuses any `window` but null: a real platform refusal, as workerd refuses `cache` before 2024-11-11.
    const refusing: typeof fetch = (input, init) => fetch(input, { ...init, window: {} } as unknown as RequestInit);
    const { auth, refreshErrors } = signedIn({
      fetch: refusing,
      refresh: oauth2Refresh({ tokenEndpoint: server.url, clientId: 'spa' }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const error = await caught(auth.refresh());
    expect(error).toBeInstanceOf(NetworkError);
    expect(((error as NetworkError).cause as Error).message).toMatch(/window/);
    expect(refreshErrors).toHaveLength(1);
    expect(server.requests).toHaveLength(0);
  });

  it("a custom strategy's own fetch failing is a NetworkError; anything else it throws names the class, never the text", async () => {
    const port = await closedPort();
    const network = signedIn({
      refresh: customRefresh(async ({ fetch: fetchFn, signal }) => {
        const response = await fetchFn(`http://127.0.0.1:${port}/renew`, { method: 'POST', signal });
        return (await response.json()) as { access_token: string };
      }),
    });
    await network.auth.login({ access_token: 'at-1', expires_in: 300 });
    expect(await caught(network.auth.refresh())).toBeInstanceOf(NetworkError);

    const sdk = signedIn({
      refresh: customRefresh(() => {
        throw new RangeError('SDK failed for refresh token rt-secret-1\r\nX-Injected: yes');
      }),
    });
    await sdk.auth.login({ access_token: 'at-1', expires_in: 300 });
    const error = await caught(sdk.auth.refresh());
    expect(error).toBeInstanceOf(TokenResponseError);
    expect((error as TokenResponseError).message).toBe('The refresh strategy threw RangeError');
    expect((error as TokenResponseError).cause).toBeInstanceOf(RangeError);
    expect(JSON.stringify(error)).not.toContain('rt-secret-1');
  });
});

describe('a token endpoint that refuses the client', () => {
  it.each([
    [401, 'invalid_client'],
    [400, 'unauthorized_client'],
    [400, 'invalid_scope'],
  ])('%i %s: TokenResponseError with oauthError and contact-support, not retried, session kept', async (status, code) => {
    const server = await endpoint(() => ({ status, body: { error: code, error_description: 'The client is not allowed' } }));
    const { auth, storage, refreshErrors, expired } = signedIn({
      refresh: oauth2Refresh({ tokenEndpoint: server.url, clientId: 'spa' }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const error = await caught(auth.refresh());
    expect(error).toBeInstanceOf(TokenResponseError);
    const typed = error as TokenResponseError;
    expect(typed.oauthError).toBe(code);
    expect(typed.status).toBe(status);
    expect(typed.action).toBe('contact-support');
    expect(typed.userMessage).toMatch(/contact support/i);
    expect(typed.message).toBe(`The token endpoint refused the request (status ${status}): POST ${server.url}`);
    expect(typed.message).not.toContain('not allowed');
    expect(typed.toJSON()).toMatchObject({ code: 'ERR_TOKEN_RESPONSE', oauthError: code, status });
    expect(server.requests).toHaveLength(1);
    expect(refreshErrors).toHaveLength(1);
    expect(expired).toHaveLength(0);
    expect((await storage.get())?.refreshToken).toBe('rt-1');
    expect(auth.session.status).toBe('active');
  });

  it('a 400 with no OAuth error code is an unusable answer: TokenResponseError with action retry', async () => {
    const server = await endpoint(() => ({ status: 400, body: '<html>Bad Request</html>' }));
    const { auth } = signedIn({ refresh: oauth2Refresh({ tokenEndpoint: server.url, clientId: 'spa' }) });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const error = (await caught(auth.refresh())) as TokenResponseError;
    expect(error.oauthError).toBeUndefined();
    expect(error.action).toBe('retry');
    expect(server.requests).toHaveLength(1);
  });
});

describe('dispose() during a refresh', () => {
  // What a user expects: dispose() tears the client down, so everything waiting on it settles at once, with the
  // error held requests already get at dispose (SessionExpiredError, reason 'logout': this client is over). It is
  // not a refresh failure (no refreshError, no retry advice) and not the end of the stored session: another client
  // or tab over the same storage goes on with it. An AbortError would be retried by auth.http (ky retries errors it
  // does not know), running a refresh on a disposed client.
  it('settles the waiting requests with SessionExpiredError (logout), emits no refreshError and keeps the tokens', async () => {
    // A token endpoint that takes the request and never answers: only the abort of dispose() ends the call.
    const silent = createHttpServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const { auth, storage, refreshErrors, expired } = signedIn({
      refresh: oauth2Refresh({ tokenEndpoint: `http://127.0.0.1:${port}/token`, clientId: 'spa' }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const refreshing = caught(auth.refresh());
    await new Promise((resolve) => setTimeout(resolve, 20));
    auth.dispose();
    const error = await refreshing;
    silent.closeAllConnections();
    silent.close();
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect((error as SessionExpiredError).reason).toBe('logout');
    expect(isAuthFetchError(error) && error.code).toBe('ERR_SESSION_EXPIRED');
    expect(refreshErrors).toHaveLength(0);
    expect(expired).toHaveLength(0);
    expect((await storage.get())?.refreshToken).toBe('rt-1');
  });

  it('during the backoff between retries: no further attempt reaches the token endpoint', async () => {
    const server = await endpoint(() => ({ status: 503, body: { error: 'temporarily_unavailable' } }));
    const { auth, refreshErrors } = signedIn({
      retry: { limit: 2, backoffLimit: 2_000 },
      refresh: oauth2Refresh({ tokenEndpoint: server.url, clientId: 'spa' }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    const refreshing = caught(auth.refresh());
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    // The 503 is read and the coordinator sleeps (at least 150 ms before the second attempt).
    await new Promise((resolve) => setTimeout(resolve, 60));
    auth.dispose();
    expect(await refreshing).toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'logout' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.requests).toHaveLength(1);
    expect(refreshErrors).toHaveLength(0);
  });
});
