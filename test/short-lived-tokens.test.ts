/**
 * Short-lived tokens (DESIGN behaviour 14, issue 9 item 8): the leeway used is min(refreshLeeway, lifetime / 2), the
 * lifetime from `expires_in` (counted from arrival) or the JWT's `exp - iat`; a 20 s token does not refresh before
 * every request. Before any `Date` header is known, a JWT `exp` is judged by the local clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OAuthTokenResponse } from '../examples/server/index.mjs';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { recordEvents } from './helpers/events.js';

const server = useExampleServer({ opaqueTokens: false });
const createClient = useClients();

afterEach(() => {
  vi.useRealTimers();
});

function withoutExpiresIn(response: OAuthTokenResponse): { access_token: string } {
  const { expires_in: _dropped, ...rest } = response;
  return rest;
}

function client() {
  const auth = createClient({ ...exampleClientOptions(server), refreshLeeway: 30 });
  const { refresh: refreshes } = recordEvents(auth, ['refresh']);
  return { auth, refreshes };
}

const hits = () => server.stats.requestsByPath['/api/me'] ?? 0;

describe('a token that lives less than twice refreshLeeway', () => {
  it.each([
    ['expires_in 20', async () => server.issueTokens({ ttl: 20 })],
    ['a JWT of 20 s (exp - iat), no expires_in', async () => withoutExpiresIn(await server.issueTokens({ ttl: 20 }))],
  ])('%s: 20 requests cause no refresh and spend no refresh token', async (_name, issue) => {
    const { auth, refreshes } = client();
    await auth.login(await issue());
    server.resetStats();
    for (let i = 0; i < 20; i++) expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(0);
    expect(refreshes).toEqual([]);
    expect(hits()).toBe(20);
  });

  it('a token set given with 20 s left counts as a 20 s token', async () => {
    const { auth } = client();
    const issued = await server.issueTokens({ ttl: 20 });
    await auth.login({ accessToken: issued.access_token, refreshToken: issued.refresh_token, expiresAt: Date.now() + 20_000 });
    server.resetStats();
    for (let i = 0; i < 20; i++) expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(0);
  });

  it('past half its life it is refreshed once, before sending', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { auth, refreshes } = client();
    await auth.login(await server.issueTokens({ ttl: 20 }));
    server.resetStats();
    vi.setSystemTime(Date.now() + 11_000);
    for (let i = 0; i < 5; i++) expect((await auth.fetch('me')).status).toBe(200);
    expect(refreshes.map((r) => r.trigger)).toEqual(['expiring']);
    expect(hits()).toBe(5);
  });
});

describe('a JWT before any Date header is known', () => {
  it('is judged by the local clock: a JWT-only token set from login() near its exp is refreshed before sending', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { auth, refreshes } = client();
    await auth.login(withoutExpiresIn(await server.issueTokens({ ttl: 300 })));
    server.resetStats();
    // 280 s on: 20 s left of 300, inside the 30 s leeway. No response (so no Date header) was seen yet.
    vi.setSystemTime(Date.now() + 280_000);
    expect((await auth.fetch('me')).status).toBe(200);
    expect(refreshes.map((r) => r.trigger)).toEqual(['expiring']);
    expect(hits()).toBe(1);
  });

  it('getAccessToken() too', async () => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    const { auth } = client();
    const issued = withoutExpiresIn(await server.issueTokens({ ttl: 300 }));
    await auth.login(issued);
    vi.setSystemTime(Date.now() + 280_000);
    const token = await auth.getAccessToken();
    expect(token).not.toBe(issued.access_token);
    expect(server.stats.refreshCalls).toBe(1);
  });
});
