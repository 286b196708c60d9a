/**
 * `createAuthClient({ messages })` (issue 13 item 3): the app's words replace `userMessage` wherever the client's
 * errors reach the app: thrown by `auth.http` and `auth.fetch`, rejected by `refresh()`, and in events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SessionExpiredError, customRefresh, isAuthFetchError, oauth2Refresh, type AuthEvents, type ErrorMessages } from '../src/index.js';
import { useClients } from './helpers/example.js';
import { startTokenEndpoint, tokens, type TokenEndpoint } from './helpers/token-endpoint.js';
import { caught } from './helpers/caught.js';
import { closedPort } from './helpers/ports.js';

const createClient = useClients();

const german: ErrorMessages = {
  ERR_NOT_FOUND: 'Diese Seite gibt es nicht (mehr).',
  ERR_FORBIDDEN: (error) => (error.requiredScope ? `Ihnen fehlt die Berechtigung „${error.requiredScope.join(' ')}“.` : 'Dafür fehlt Ihnen die Berechtigung.'),
  ERR_NETWORK: 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.',
  ERR_SERVER: 'Beim Server ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal.',
  ERR_SESSION_EXPIRED: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.',
  ERR_RATE_LIMITED: () => undefined, // keeps the English default
};

let api: TokenEndpoint;
beforeAll(async () => {
  api = await startTokenEndpoint((request) => {
    if (request.path === '/token') return request.form.refresh_token === 'rt-ok' ? tokens('at-2') : { status: 503, body: 'down' };
    if (request.path === '/forbidden') {
      return { status: 403, headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="orders:write"' }, body: {} };
    }
    if (request.path === '/busy') return { status: 429, body: {} };
    return { status: 404, body: { title: 'Not Found' } };
  });
});
afterAll(() => api.close());

describe('messages by code', () => {
  it('auth.http throws with the app text, and the forbidden event carries the same error', async () => {
    const auth = createClient({ baseUrl: api.url.replace('/token', '/'), messages: german, retry: 0 });
    const forbidden: AuthEvents['forbidden'][] = [];
    auth.on('forbidden', (error) => forbidden.push(error));
    const notFound = await caught(auth.http.get('missing').json());
    expect(isAuthFetchError(notFound) && notFound.userMessage).toBe('Diese Seite gibt es nicht (mehr).');
    const denied = await caught(auth.http.get('forbidden'));
    expect(isAuthFetchError(denied) && denied.userMessage).toBe('Ihnen fehlt die Berechtigung „orders:write“.');
    expect(forbidden[0]).toBe(denied);
    // A function that returns undefined keeps the default; the developer message stays English.
    const busy = await caught(auth.http.get('busy'));
    expect(isAuthFetchError(busy) && busy.userMessage).toMatch(/too many requests/i);
    expect(isAuthFetchError(busy) && busy.message).toMatch(/^Request failed with status 429/);
  });

  it('auth.fetch rejects with the app text, and toJSON carries it', async () => {
    const auth = createClient({ messages: german });
    const error = await caught(auth.fetch(`http://127.0.0.1:${await closedPort()}/x`));
    expect(error).toMatchObject({ code: 'ERR_NETWORK', userMessage: 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.' });
    expect(isAuthFetchError(error) && error.toJSON().userMessage).toMatch(/^Keine Verbindung/);
  });

  it('refresh() rejects, and refreshError and sessionExpired carry the app text', async () => {
    const auth = createClient({ messages: german, refresh: oauth2Refresh({ tokenEndpoint: api.url, clientId: 'spa' }) });
    const refreshErrors: AuthEvents['refreshError'][] = [];
    auth.on('refreshError', (event) => refreshErrors.push(event));
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-down', expires_in: 300 });
    const error = await caught(auth.refresh());
    expect(error).toMatchObject({ code: 'ERR_SERVER', userMessage: 'Beim Server ist ein Fehler aufgetreten. Bitte versuchen Sie es gleich noch einmal.' });
    expect(refreshErrors[0]?.error).toBe(error);

    const ending = createClient({
      messages: german,
      refresh: customRefresh(() => {
        throw new SessionExpiredError('The sign-in SDK says the session is gone', { reason: 'refresh-rejected' });
      }),
    });
    const expired: AuthEvents['sessionExpired'][] = [];
    ending.on('sessionExpired', (event) => expired.push(event));
    await ending.login({ access_token: 'at-1' });
    const ended = await caught(ending.refresh());
    expect(ended).toMatchObject({ code: 'ERR_SESSION_EXPIRED', userMessage: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an.' });
    expect(expired[0]?.error).toBe(ended);
  });
});

describe('messages as one function', () => {
  it('gets every error, narrowed by code; undefined and a throwing function keep the default', async () => {
    const seen: string[] = [];
    const auth = createClient({
      baseUrl: api.url.replace('/token', '/'),
      retry: 0,
      messages: (error) => {
        seen.push(error.code);
        if (error.code === 'ERR_NOT_FOUND') return `Nicht gefunden: ${error.status}`;
        if (error.code === 'ERR_FORBIDDEN') throw new Error('a bug in the app');
        return undefined;
      },
    });
    expect(await caught(auth.http.get('missing'))).toMatchObject({ userMessage: 'Nicht gefunden: 404' });
    expect(await caught(auth.http.get('forbidden'))).toMatchObject({ userMessage: expect.stringMatching(/don't have access/) });
    expect(await caught(auth.http.get('busy'))).toMatchObject({ userMessage: expect.stringMatching(/too many requests/i) });
    expect(seen).toEqual(['ERR_NOT_FOUND', 'ERR_FORBIDDEN', 'ERR_RATE_LIMITED']);
  });

  it('without messages the defaults are English', async () => {
    const auth = createClient({ baseUrl: api.url.replace('/token', '/'), retry: 0 });
    expect(await caught(auth.http.get('missing'))).toMatchObject({ userMessage: expect.stringMatching(/doesn't exist/) });
  });
});
