/**
 * The oidc-provider test harness itself: a real authorization server, a real authorization-code + PKCE
 * flow, refresh-token rotation with reuse detection, a resource server that validates by introspection,
 * and DPoP (RFC 9449) with and without server nonces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDpopTestKey, OidcHarnessError, startOidcProvider, type OidcHarness } from './helpers/oidc.js';

async function refreshGrant(op: OidcHarness, refreshToken: string, headers: Record<string, string> = {}) {
  const res = await fetch(op.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: op.clientId,
    }).toString(),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

describe('oidc harness: bearer tokens with rotation', () => {
  let op: OidcHarness;
  beforeAll(async () => {
    op = await startOidcProvider();
  });
  afterAll(() => op.close());

  it('obtains tokens through the authorization-code + PKCE flow', async () => {
    const tokens = await op.obtainTokens();
    expect(op.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(op.tokenEndpoint).toBe(`${op.issuer}/token`);
    expect(tokens).toMatchObject({ token_type: 'Bearer', expires_in: 300, scope: 'openid offline_access' });
    expect(typeof tokens.access_token).toBe('string');
    expect(typeof tokens.refresh_token).toBe('string');
    expect(typeof tokens.id_token).toBe('string');
  });

  it('issues no refresh token without offline_access', async () => {
    const tokens = await op.obtainTokens({ scope: 'openid' });
    expect(tokens.access_token).toBeTypeOf('string');
    expect(tokens.refresh_token).toBeUndefined();
  });

  it('rotates the refresh token, rejects reuse of the spent one and revokes the grant', async () => {
    const before = { ...op.stats };
    const api = await op.startResourceServer();
    const tokens = await op.obtainTokens();

    const first = await refreshGrant(op, tokens.refresh_token as string);
    expect(first.res.status).toBe(200);
    expect(first.body.token_type).toBe('Bearer');
    expect(first.body.refresh_token).toBeTypeOf('string');
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(first.body.access_token).not.toBe(tokens.access_token);

    const fresh = await fetch(`${api.url}/items`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    expect(fresh.status).toBe(200);

    const reuse = await refreshGrant(op, tokens.refresh_token as string);
    expect(reuse.res.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');

    // Reuse detection revoked the whole grant: the rotated refresh token and its access token are dead too.
    const rotated = await refreshGrant(op, first.body.refresh_token as string);
    expect(rotated.res.status).toBe(400);
    expect(rotated.body.error).toBe('invalid_grant');
    const revoked = await fetch(`${api.url}/items`, { headers: { authorization: `Bearer ${first.body.access_token}` } });
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);

    expect(op.stats.refreshGrants - before.refreshGrants).toBe(3);
    expect(op.stats.refreshSucceeded - before.refreshSucceeded).toBe(1);
    expect(op.stats.refreshRejected - before.refreshRejected).toBe(2);
    expect(op.stats.grantsRevoked - before.grantsRevoked).toBeGreaterThanOrEqual(1);
    await api.close();
  });

  it('lets one of several concurrent refreshes with the same token win, and treats the others as reuse', async () => {
    const [tokens, other] = await Promise.all([op.obtainTokens(), op.obtainTokens()]);
    expect(tokens.refresh_token).not.toBe(other.refresh_token); // parallel flows keep separate sessions

    const revokedBefore = op.stats.grantsRevoked;
    const results = await Promise.all([1, 2, 3].map(() => refreshGrant(op, tokens.refresh_token as string)));
    const statuses = results.map((r) => r.res.status).sort();
    expect(statuses.filter((status) => status === 200).length).toBeLessThanOrEqual(1);
    expect(results.filter((r) => r.body.error === 'invalid_grant').length).toBeGreaterThanOrEqual(2);
    // ...and the reuse revoked the grant, so even the winner's new refresh token is dead.
    expect(op.stats.grantsRevoked).toBeGreaterThan(revokedBefore);
    const winner = results.find((r) => r.res.status === 200);
    if (winner) expect((await refreshGrant(op, winner.body.refresh_token as string)).body.error).toBe('invalid_grant');

    // The other session is untouched.
    expect((await refreshGrant(op, other.refresh_token as string)).res.status).toBe(200);
  });

  it('has a resource server that accepts a fresh token and challenges missing or garbage ones', async () => {
    const api = await op.startResourceServer();
    const tokens = await op.obtainTokens({ accountId: 'bob' });

    const ok = await fetch(`${api.url}/things?x=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ hello: 'world' }),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      ok: true,
      method: 'POST',
      path: '/things?x=1',
      sub: 'bob',
      clientId: op.clientId,
      tokenType: 'Bearer',
      body: '{"hello":"world"}',
    });

    const garbage = await fetch(`${api.url}/things`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(garbage.status).toBe(401);
    expect(garbage.headers.get('www-authenticate')).toBe(
      'Bearer realm="authfetch-test", error="invalid_token", error_description="the access token is invalid, expired or revoked"',
    );

    const missing = await fetch(`${api.url}/things`);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="authfetch-test"');

    expect(api.stats).toEqual({ hits: 3, unauthorized: 2 });
    await api.close();
  });
});

describe('oidc harness: options', () => {
  it('keeps the refresh token with rotateRefreshTokens: false, and honours accessTokenTtl', async () => {
    const op = await startOidcProvider({ rotateRefreshTokens: false, accessTokenTtl: 1 });
    try {
      const api = await op.startResourceServer();
      const tokens = await op.obtainTokens();
      expect(tokens.expires_in).toBe(1);
      const a = await refreshGrant(op, tokens.refresh_token as string);
      const b = await refreshGrant(op, tokens.refresh_token as string);
      expect([a.res.status, b.res.status]).toEqual([200, 200]);
      expect(a.body.refresh_token).toBe(tokens.refresh_token);
      expect(op.stats).toMatchObject({ refreshGrants: 2, refreshSucceeded: 2, refreshRejected: 0 });

      // An expired access token is rejected like any invalid one.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const expired = await fetch(api.url, { headers: { authorization: `Bearer ${b.body.access_token}` } });
      expect(expired.status).toBe(401);
      expect(expired.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      await op.close();
    }
  });
});

describe('oidc harness: DPoP', () => {
  let op: OidcHarness;
  beforeAll(async () => {
    op = await startOidcProvider({ dpop: true });
  });
  afterAll(() => op.close());

  it('issues DPoP-bound tokens, and the resource server demands a valid proof for them', async () => {
    const key = await createDpopTestKey();
    const tokens = await op.obtainTokens({ dpopProof: await key.proof('POST', op.tokenEndpoint) });
    expect(tokens.token_type).toBe('DPoP');
    expect(await op.introspect(tokens.access_token as string)).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.thumbprint },
    });

    const api = await op.startResourceServer();
    const at = tokens.access_token as string;
    const url = `${api.url}/me?q=1`;

    const ok = await fetch(url, {
      headers: { authorization: `DPoP ${at}`, dpop: await key.proof('GET', url, { accessToken: at }) },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, tokenType: 'DPoP' });

    const asBearer = await fetch(url, { headers: { authorization: `Bearer ${at}` } });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/^DPoP algs="[^"]+", error="invalid_token"/);

    const wrongMethod = await fetch(url, {
      headers: { authorization: `DPoP ${at}`, dpop: await key.proof('POST', url, { accessToken: at }) },
    });
    expect(wrongMethod.status).toBe(401);
    expect(wrongMethod.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');

    const noAth = await fetch(url, { headers: { authorization: `DPoP ${at}`, dpop: await key.proof('GET', url) } });
    expect(noAth.headers.get('www-authenticate')).toContain('error_description="ath mismatch"');

    const replayed = await key.proof('GET', url, { accessToken: at });
    const once = await fetch(url, { headers: { authorization: `DPoP ${at}`, dpop: replayed } });
    const twice = await fetch(url, { headers: { authorization: `DPoP ${at}`, dpop: replayed } });
    expect([once.status, twice.status]).toEqual([200, 401]);
    expect(twice.headers.get('www-authenticate')).toContain('error_description="jti already used"');

    const stale = await fetch(url, {
      headers: {
        authorization: `DPoP ${at}`,
        dpop: await key.proof('GET', url, { accessToken: at, iat: Math.floor(Date.now() / 1000) - 120 }),
      },
    });
    expect(stale.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');

    const otherKey = await createDpopTestKey();
    const stolen = await fetch(url, {
      headers: { authorization: `DPoP ${at}`, dpop: await otherKey.proof('GET', url, { accessToken: at }) },
    });
    expect(stolen.status).toBe(401);
    expect(stolen.headers.get('www-authenticate')).toContain('error="invalid_token"');

    await api.close();
  });

  it('binds the refresh token to the key: refresh needs a proof from the same key', async () => {
    const key = await createDpopTestKey();
    const tokens = await op.obtainTokens({ dpopProof: await key.proof('POST', op.tokenEndpoint) });
    const rt = tokens.refresh_token as string;

    const withoutProof = await refreshGrant(op, rt);
    expect(withoutProof.res.status).toBe(400);
    expect(withoutProof.body.error).toBe('invalid_grant');

    const refreshed = await refreshGrant(op, rt, { dpop: await key.proof('POST', op.tokenEndpoint) });
    expect(refreshed.res.status).toBe(200);
    expect(refreshed.body.token_type).toBe('DPoP');
    expect(refreshed.body.refresh_token).not.toBe(rt);
  });
});

describe('oidc harness: DPoP nonces', () => {
  it('answers the first token request with use_dpop_nonce and a DPoP-Nonce header', async () => {
    const op = await startOidcProvider({ dpop: true, requireDpopNonce: true });
    try {
      const key = await createDpopTestKey();
      const refused = await op
        .obtainTokens({ dpopProof: await key.proof('POST', op.tokenEndpoint) })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(OidcHarnessError);
      const error = refused as OidcHarnessError;
      expect(error.status).toBe(400);
      expect(error.body).toMatchObject({ error: 'use_dpop_nonce' });
      expect(error.headers.get('dpop-nonce')).toMatch(/^[\w-]+$/);

      const tokens = await op.obtainTokens({ dpopProof: (nonce) => key.proof('POST', op.tokenEndpoint, { nonce }) });
      expect(tokens.token_type).toBe('DPoP');
      expect(op.stats.dpopNonceChallenges).toBe(2);

      // A refresh without a nonce is challenged too, and is not counted as a refresh grant.
      const challenged = await refreshGrant(op, tokens.refresh_token as string, {
        dpop: await key.proof('POST', op.tokenEndpoint),
      });
      expect(challenged.res.status).toBe(400);
      expect(challenged.body.error).toBe('use_dpop_nonce');
      const nonce = challenged.res.headers.get('dpop-nonce') as string;
      const refreshed = await refreshGrant(op, tokens.refresh_token as string, {
        dpop: await key.proof('POST', op.tokenEndpoint, { nonce }),
      });
      expect(refreshed.res.status).toBe(200);
      expect(op.stats).toMatchObject({ refreshGrants: 1, refreshSucceeded: 1, refreshRejected: 0, dpopNonceChallenges: 3 });

      // The resource server can demand its own nonce as well.
      const api = await op.startResourceServer({ requireDpopNonce: true });
      const at = refreshed.body.access_token as string;
      const first = await fetch(api.url, {
        headers: { authorization: `DPoP ${at}`, dpop: await key.proof('GET', api.url, { accessToken: at }) },
      });
      expect(first.status).toBe(401);
      expect(first.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
      const rsNonce = first.headers.get('dpop-nonce') as string;
      expect(rsNonce).toBe(api.dpopNonce);
      const second = await fetch(api.url, {
        headers: {
          authorization: `DPoP ${at}`,
          dpop: await key.proof('GET', api.url, { accessToken: at, nonce: rsNonce }),
        },
      });
      expect(second.status).toBe(200);
    } finally {
      await op.close();
    }
  });
});
