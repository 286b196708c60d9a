/**
 * The silent refresh end to end against a real authorization server (oidc-provider, refresh-token rotation on) and
 * a resource server that validates tokens by introspection (issue 3; DESIGN.md `oauth2Refresh`, behaviour 1).
 * Sign-in is the real authorization-code + PKCE flow (`obtainTokens`); every refresh is a real refresh_token grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SessionExpiredError,
  memoryStorage,
  oauth2Refresh,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type OAuthTokenResponse,
  type TokenStorage,
} from '../src/index.js';
import { useClients } from './helpers/example.js';
import { startOidcProvider, type OidcHarness, type ResourceServer } from './helpers/oidc.js';
import { recordEvents } from './helpers/events.js';

/** The part of oidc-provider's model API used to make one access token stale without touching its grant. */
interface ProviderModels {
  AccessToken: { find(value: string): Promise<{ destroy(): Promise<void> } | undefined> };
}

/** What the resource server answers for an accepted request. */
interface Accepted {
  ok: true;
  sub: string;
  clientId: string;
  tokenType: string;
}

const createClient = useClients();

interface Session {
  auth: AuthClient;
  storage: TokenStorage;
  refreshes: AuthEvents['refresh'][];
  expired: AuthEvents['sessionExpired'][];
}

function clientFor(op: OidcHarness, api: ResourceServer, options: AuthClientOptions = {}): Session {
  const storage = memoryStorage();
  const auth = createClient({
    baseUrl: api.url,
    refresh: oauth2Refresh({ tokenEndpoint: op.tokenEndpoint, clientId: op.clientId }),
    storage,
    ...options,
  });
  const { refresh: refreshes, sessionExpired: expired } = recordEvents(auth, ['refresh', 'sessionExpired']);
  return { auth, storage, refreshes, expired };
}

async function stored(storage: TokenStorage) {
  const tokens = await storage.get();
  if (!tokens) throw new Error('expected stored tokens');
  return tokens;
}

describe('oauth2Refresh against oidc-provider (rotation on)', () => {
  let op: OidcHarness;
  let api: ResourceServer;

  beforeAll(async () => {
    op = await startOidcProvider({ rotateRefreshTokens: true, accessTokenTtl: 300 });
    api = await op.startResourceServer();
  });
  afterAll(() => op.close());

  /** Make one access token stale at the provider (its grant and refresh token stay valid). */
  async function makeStale(accessToken: string): Promise<void> {
    const token = await (op.provider as ProviderModels).AccessToken.find(accessToken);
    if (!token) throw new Error('the provider does not know this access token');
    await token.destroy();
    expect((await op.introspect(accessToken)).active).toBe(false);
  }

  it('signs in, then refreshes through the real token endpoint round after round, each rotation replacing the refresh token', async () => {
    const { auth, storage, refreshes, expired } = clientFor(op, api);
    await auth.login((await op.obtainTokens()) as unknown as OAuthTokenResponse);
    await expect(auth.http.get('profile').json<Accepted>()).resolves.toMatchObject({ ok: true, sub: 'alice', clientId: op.clientId });

    const seenRefreshTokens = new Set<string>();
    for (let round = 1; round <= 3; round++) {
      const before = await stored(storage);
      seenRefreshTokens.add(before.refreshToken ?? '');
      const grants = { ...op.stats };
      const unauthorized = api.stats.unauthorized;
      await makeStale(before.accessToken);

      await expect(auth.http.get(`orders/${round}`).json<Accepted>()).resolves.toMatchObject({ ok: true, sub: 'alice' });

      const after = await stored(storage);
      expect(op.stats.refreshSucceeded - grants.refreshSucceeded).toBe(1);
      expect(op.stats.refreshRejected - grants.refreshRejected).toBe(0);
      expect(api.stats.unauthorized - unauthorized).toBe(1); // the stale attempt; its replay was accepted
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.refreshToken).toBeTypeOf('string');
      expect(seenRefreshTokens.has(after.refreshToken ?? '')).toBe(false); // rotated: a new one each round
      expect((await op.introspect(after.accessToken)).active).toBe(true);
    }
    expect(refreshes.map((r) => r.trigger)).toEqual(['unauthorized', 'unauthorized', 'unauthorized']);
    expect(expired).toEqual([]);
    expect(op.stats.grantsRevoked).toBe(0);
  });

  it('a concurrent storm with a stale token causes exactly one refresh grant', async () => {
    const { auth, storage, refreshes } = clientFor(op, api);
    await auth.login((await op.obtainTokens({ accountId: 'storm' })) as unknown as OAuthTokenResponse);
    await makeStale((await stored(storage)).accessToken);
    const grants = { ...op.stats };

    const N = 60;
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        i % 2 === 0
          ? auth.http.get(`items/${i}`).json<Accepted>().then((body) => body.sub)
          : auth.fetch(`items/${i}`).then(async (r) => ((await r.json()) as Accepted).sub),
      ),
    );

    expect(results).toEqual(Array(N).fill('storm'));
    expect(op.stats.refreshGrants - grants.refreshGrants).toBe(1);
    expect(op.stats.refreshSucceeded - grants.refreshSucceeded).toBe(1);
    expect(refreshes).toHaveLength(1);
  });

  it('reuse of an old refresh token ends that session; oidc-provider revokes the grant, which ends the other one too', async () => {
    const first = clientFor(op, api);
    const original = (await op.obtainTokens({ accountId: 'mallory' })) as unknown as OAuthTokenResponse;
    await first.auth.login(original);
    await first.auth.refresh(); // rotation: the original refresh token is spent
    const rotated = await stored(first.storage);
    expect(rotated.refreshToken).not.toBe(original.refresh_token);
    await expect(first.auth.http.get('before').json<Accepted>()).resolves.toMatchObject({ sub: 'mallory' });

    // A second client holds a copy of the OLD tokens (say, a stale backup). Its access token goes stale and it
    // tries to refresh with the spent refresh token.
    const second = clientFor(op, api);
    await second.auth.login({ ...original });
    await makeStale(original.access_token);
    const grants = { ...op.stats };

    const error = await second.auth.http.get('reuse').then(
      () => new Error('expected a rejection'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SessionExpiredError);
    expect(error).toMatchObject({ reason: 'refresh-rejected', action: 'sign-in' });
    expect(second.expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    expect(second.auth.session.status).toBe('expired');
    expect(await second.storage.get()).toBeUndefined();
    expect(op.stats.refreshRejected - grants.refreshRejected).toBe(1);
    // What oidc-provider really does on reuse: it revokes the whole grant.
    expect(op.stats.grantsRevoked - grants.grantsRevoked).toBeGreaterThanOrEqual(1);
    expect((await op.introspect(rotated.accessToken)).active).toBe(false);

    // So the first client's rotated tokens are dead as well: its next request ends its session the same way.
    await expect(first.auth.http.get('after').json()).rejects.toMatchObject({ code: 'ERR_SESSION_EXPIRED', reason: 'refresh-rejected' });
    expect(first.expired.map((e) => e.reason)).toEqual(['refresh-rejected']);
    expect(op.stats.refreshRejected - grants.refreshRejected).toBe(2);
  });
});

describe('oauth2Refresh against oidc-provider with short-lived access tokens', () => {
  let op: OidcHarness;
  let api: ResourceServer;

  beforeAll(async () => {
    // 2 s rather than 1: the provider counts exp from a whole second, so a 1 s token may have only a few ms left.
    op = await startOidcProvider({ rotateRefreshTokens: true, accessTokenTtl: 2 });
    api = await op.startResourceServer();
  });
  afterAll(() => op.close());

  it('tokens that expire for real are renewed: ahead of time with expires_in, after the 401 without', async () => {
    // refreshLeeway 0: a 2 s token would otherwise be "expiring" from the start.
    const withExpiry = clientFor(op, api, { refreshLeeway: 0 });
    const withoutExpiry = clientFor(op, api, { refreshLeeway: 0 });
    const a = (await op.obtainTokens({ accountId: 'ann' })) as unknown as OAuthTokenResponse;
    const { expires_in: _dropped, ...b } = (await op.obtainTokens({ accountId: 'bea' })) as unknown as OAuthTokenResponse;
    expect(a.expires_in).toBe(2);
    await withExpiry.auth.login(a);
    await withoutExpiry.auth.login(b);
    await expect(withExpiry.auth.http.get('x').json<Accepted>()).resolves.toMatchObject({ sub: 'ann' });
    await expect(withoutExpiry.auth.http.get('x').json<Accepted>()).resolves.toMatchObject({ sub: 'bea' });
    expect(withExpiry.refreshes).toEqual([]);

    await new Promise((resolve) => setTimeout(resolve, 2100)); // both access tokens are now expired at the provider
    expect((await op.introspect(a.access_token)).active).toBe(false);
    const grants = { ...op.stats };
    const unauthorized = api.stats.unauthorized;

    await expect(withExpiry.auth.http.get('y').json<Accepted>()).resolves.toMatchObject({ sub: 'ann' });
    expect(withExpiry.refreshes.map((r) => r.trigger)).toEqual(['expiring']);
    expect(api.stats.unauthorized - unauthorized).toBe(0); // refreshed before sending

    await expect(withoutExpiry.auth.http.get('y').json<Accepted>()).resolves.toMatchObject({ sub: 'bea' });
    expect(withoutExpiry.refreshes.map((r) => r.trigger)).toEqual(['unauthorized']);
    expect(api.stats.unauthorized - unauthorized).toBe(1); // the expired token, then its replay

    expect(op.stats.refreshSucceeded - grants.refreshSucceeded).toBe(2);
    expect(op.stats.refreshRejected - grants.refreshRejected).toBe(0);
  });
});
