/**
 * DPoP (RFC 9449) end to end against a real authorization server (oidc-provider with DPoP on) and a resource server
 * that validates every proof with jose (signature, htm, htu, iat window, ath, jti reuse, nonce, key binding).
 * The key is `dpop({ keyStorage: 'memory' })` on Node's WebCrypto; IndexedDB persistence is in dpop-storage.test.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, type JWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createAuthClient,
  customRefresh,
  dpop,
  oauth2Refresh,
  type AuthClient,
  type Dpop,
  type OAuthTokenResponse,
} from '../src/index.js';
import { startOidcProvider, type OidcHarness } from './helpers/oidc.js';
import { caught } from './helpers/caught.js';

/** One request as it left the client (the client's underlying fetch), with the headers that matter here. */
interface Sent {
  url: string;
  method: string;
  authorization: string | null;
  dpop: string | null;
  status?: number;
}

/** The platform fetch, recording what the client sends: the auth path and the refresh both go through it. */
function recordingFetch(): { fetch: typeof fetch; sent: Sent[] } {
  const sent: Sent[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const entry: Sent = {
      url: request.url,
      method: request.method,
      authorization: request.headers.get('authorization'),
      dpop: request.headers.get('dpop'),
    };
    sent.push(entry);
    const response = await fetch(request);
    entry.status = response.status;
    return response;
  };
  return { fetch: wrapped, sent };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

/** The decoded parts of a proof JWT (the resource server checks the signature; here the claims are inspected). */
function readProof(jwt: string | null) {
  expect(jwt).toEqual(expect.any(String));
  return { header: decodeProtectedHeader(jwt as string), claims: decodeJwt(jwt as string) as Record<string, unknown> };
}

/** The first tokens of a DPoP session: the code bound to the key (`dpop_jkt`), the exchange carrying a proof. */
async function signIn(op: OidcHarness, key: Dpop): Promise<OAuthTokenResponse> {
  const raw = await op.obtainTokens({
    dpopJkt: await key.thumbprint(),
    dpopProof: (nonce) => key.proof('POST', op.tokenEndpoint, { nonce }),
  });
  return tokenResponse(raw);
}

/** The harness returns the raw JSON; this checks it is a token response before typing it as one. */
function tokenResponse(raw: Record<string, unknown>): OAuthTokenResponse {
  expect(raw.access_token).toEqual(expect.any(String));
  return raw as unknown as OAuthTokenResponse;
}

const clients: AuthClient[] = [];
function client(op: OidcHarness, baseUrl: string, key: Dpop, fetchFn: typeof fetch): AuthClient {
  const auth = createAuthClient({
    baseUrl,
    refresh: oauth2Refresh({ tokenEndpoint: op.tokenEndpoint, clientId: op.clientId }),
    dpop: key,
    fetch: fetchFn,
    retry: 0,
  });
  clients.push(auth);
  return auth;
}

afterEach(() => {
  for (const auth of clients.splice(0)) auth.dispose();
});

/**
 * Make the access token stale: the provider forgets it (as after expiry), so the resource server's introspection says
 * inactive, while the grant and its refresh token live on. (Revoking it at the revocation endpoint would not do:
 * oidc-provider then revokes every token of the grant, refresh tokens included.)
 */
async function makeStale(op: OidcHarness, token: string): Promise<void> {
  const provider = op.provider as {
    AccessToken: { find(value: string): Promise<{ destroy(): Promise<void> } | undefined> };
  };
  const found = await provider.AccessToken.find(token);
  expect(found).toBeDefined();
  await found!.destroy();
  expect(await op.introspect(token)).toMatchObject({ active: false });
}

describe('dpop() with oidc-provider (DPoP on, no nonces)', () => {
  let op: OidcHarness;
  beforeAll(async () => {
    op = await startOidcProvider({ dpop: true });
  });
  afterAll(() => op.close());

  it('gets tokens bound to the key, then calls the API with Authorization: DPoP and a proof bound to the token', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const raw = await signIn(op, key);
    expect(raw.token_type).toBe('DPoP');
    const accessToken = raw.access_token;
    expect(await op.introspect(accessToken)).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: await key.thumbprint() } });

    const api = await op.startResourceServer();
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    await auth.login(raw);

    const before = Math.floor(Date.now() / 1000);
    const response = await auth.fetch('/me?q=1#top');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ ok: true, method: 'GET', path: '/me?q=1', tokenType: 'DPoP' });

    expect(sent).toHaveLength(1);
    expect(sent[0]!.authorization).toBe(`DPoP ${accessToken}`);
    const { header, claims } = readProof(sent[0]!.dpop);
    expect(header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    const jwk = header.jwk as JWK;
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']); // public members only, never `d`
    expect(await calculateJwkThumbprint(jwk)).toBe(await key.thumbprint());
    expect(claims).toMatchObject({ htm: 'GET', htu: `${api.url}/me`, ath: sha256(accessToken) });
    expect(claims.jti).toEqual(expect.any(String));
    expect(claims.nonce).toBeUndefined();
    expect(claims.iat).toBeGreaterThanOrEqual(before - 1);
    expect(claims.iat).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    // The ky surface goes through the same path: a Request, a POST with a JSON body.
    const echoed = await auth.http.post('items/7?draft=1', { json: { name: 'x' } }).json<{ tokenType: string; body: string }>();
    expect(echoed).toMatchObject({ tokenType: 'DPoP', body: '{"name":"x"}' });
    const post = readProof(sent[1]!.dpop).claims;
    expect(post).toMatchObject({ htm: 'POST', htu: `${api.url}/items/7`, ath: sha256(accessToken) });
    expect(post.jti).not.toBe(claims.jti);
    expect(api.stats).toEqual({ hits: 2, unauthorized: 0 });
  });

  it('refreshes DPoP-bound tokens with a proof at the token endpoint and replays with a fresh proof', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const raw = await signIn(op, key);
    const api = await op.startResourceServer();
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    const refreshes: string[] = [];
    auth.on('refresh', ({ trigger }) => refreshes.push(trigger));
    await auth.login(raw);

    // The access token goes stale; the grant and the refresh token live on.
    await makeStale(op, raw.access_token);
    const grantsBefore = { ...op.stats };

    const response = await auth.fetch('/orders?page=2');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ tokenType: 'DPoP' });
    expect(refreshes).toEqual(['unauthorized']);
    expect(op.stats.refreshSucceeded - grantsBefore.refreshSucceeded).toBe(1);
    expect(op.stats.refreshGrants - grantsBefore.refreshGrants).toBe(1);

    expect(sent.map((s) => [s.method, s.url.replace(/\?.*/, ''), s.status])).toEqual([
      ['GET', `${api.url}/orders`, 401],
      ['POST', op.tokenEndpoint, 200],
      ['GET', `${api.url}/orders`, 200],
    ]);
    const [rejected, grant, replay] = sent as [Sent, Sent, Sent];
    // RFC 9449 section 5: the token request carries a proof without `ath`, and no Authorization header.
    const grantProof = readProof(grant.dpop).claims;
    expect(grantProof).toMatchObject({ htm: 'POST', htu: op.tokenEndpoint });
    expect(grantProof.ath).toBeUndefined();
    expect(grant.authorization).toBeNull();

    // The replay uses the new token, still DPoP-bound to the same key, with its own proof.
    const newToken = replay.authorization!.replace(/^DPoP /, '');
    expect(newToken).not.toBe(raw.access_token);
    expect(replay.authorization).toMatch(/^DPoP /);
    expect(await op.introspect(newToken)).toMatchObject({ active: true, cnf: { jkt: await key.thumbprint() } });
    const first = readProof(rejected.dpop).claims;
    const second = readProof(replay.dpop).claims;
    expect(first.ath).toBe(sha256(raw.access_token));
    expect(second.ath).toBe(sha256(newToken));
    expect(new Set([first.jti, grantProof.jti, second.jti]).size).toBe(3);
    expect(api.stats).toEqual({ hits: 2, unauthorized: 1 });
  });

  it('makes a fresh proof for every request, also concurrent ones (distinct jti, accepted by jti-reuse checks)', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const api = await op.startResourceServer();
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    await auth.login(await signIn(op, key));

    const responses = await Promise.all(Array.from({ length: 6 }, (_, i) => auth.fetch(`/items/${i}`)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
    const jtis = sent.map((s) => readProof(s.dpop).claims.jti);
    expect(new Set(jtis).size).toBe(6);
  });

  it('sends a Bearer token as Bearer, without a proof, even with dpop on', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const raw = tokenResponse(await op.obtainTokens()); // no proof: the provider issues a plain Bearer token
    expect(raw.token_type).toBe('Bearer');
    const api = await op.startResourceServer();
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    await auth.login(raw);

    const response = await auth.fetch('/me');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ tokenType: 'Bearer' });
    expect(sent[0]!.authorization).toBe(`Bearer ${raw.access_token}`);
    expect(sent[0]!.dpop).toBeNull();
  });

  it('rotates the key on logout with rotateOnLogout, and keeps it by default', async () => {
    const api = await op.startResourceServer();
    for (const rotateOnLogout of [false, true]) {
      const key = dpop({ keyStorage: 'memory', rotateOnLogout });
      expect(key.rotateOnLogout).toBe(rotateOnLogout);
      const auth = client(op, api.url, key, fetch);
      await auth.login(await signIn(op, key));
      const before = await key.thumbprint();
      await auth.logout();
      const after = await key.thumbprint();
      if (rotateOnLogout) expect(after).not.toBe(before);
      else expect(after).toBe(before);

      // Signing in again binds the new session to whatever key is current, and it works.
      await auth.login(await signIn(op, key));
      expect((await auth.fetch('/me')).status).toBe(200);
    }
  });
});

describe('dpop() with oidc-provider demanding nonces', () => {
  let op: OidcHarness;
  beforeAll(async () => {
    op = await startOidcProvider({ dpop: true, requireDpopNonce: true });
  });
  afterAll(() => op.close());

  it("answers a resource server's use_dpop_nonce with exactly one extra round trip, never a refresh", async () => {
    const key = dpop({ keyStorage: 'memory' });
    const raw = await signIn(op, key);
    const api = await op.startResourceServer({ requireDpopNonce: true });
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    const refreshes: unknown[] = [];
    auth.on('refresh', (event) => refreshes.push(event));
    const unauthorized: unknown[] = [];
    auth.on('unauthorized', (error) => unauthorized.push(error));
    await auth.login(raw);
    const grantsBefore = op.stats.refreshGrants;

    // First use: the server demands its nonce; the client retries once with it.
    const response = await auth.fetch('/me');
    expect(response.status).toBe(200);
    expect(api.stats).toEqual({ hits: 2, unauthorized: 1 });
    const [challenged, retried] = sent.map((s) => readProof(s.dpop).claims);
    expect(challenged!.nonce).toBeUndefined();
    expect(retried!.nonce).toBe(api.dpopNonce);
    expect(retried!.jti).not.toBe(challenged!.jti);
    expect(key.nonceFor(api.url)).toBe(api.dpopNonce);

    // Remembered per origin: the next request (through ky this time) carries it at once.
    expect(await auth.http.get('me').json()).toMatchObject({ ok: true });
    expect(api.stats).toEqual({ hits: 3, unauthorized: 1 });

    // The server moves to a new nonce: again exactly one extra round trip.
    const rotated = api.rotateDpopNonce();
    expect((await auth.fetch('/me')).status).toBe(200);
    expect(api.stats).toEqual({ hits: 5, unauthorized: 2 });
    expect(readProof(sent.at(-1)!.dpop).claims.nonce).toBe(rotated);

    // None of it was a refresh, and none of it reached the app as a 401.
    expect(refreshes).toEqual([]);
    expect(op.stats.refreshGrants).toBe(grantsBefore);
    expect(sent.some((s) => s.url.startsWith(op.tokenEndpoint))).toBe(false);
    expect(unauthorized).toEqual([]);
  });

  it('refreshes at a token endpoint that demands a nonce in one extra round trip, then reuses the nonce', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const raw = await signIn(op, key);
    const api = await op.startResourceServer({ requireDpopNonce: true });
    const { fetch: fetchFn, sent } = recordingFetch();
    const auth = client(op, api.url, key, fetchFn);
    await auth.login(raw);
    const statsBefore = { ...op.stats };

    await makeStale(op, raw.access_token);
    const response = await auth.fetch('/me');
    expect(response.status).toBe(200);

    const toTokenEndpoint = sent.filter((s) => s.url === op.tokenEndpoint);
    expect(toTokenEndpoint.map((s) => s.status)).toEqual([400, 200]);
    expect(readProof(toTokenEndpoint[0]!.dpop).claims.nonce).toBeUndefined();
    expect(readProof(toTokenEndpoint[1]!.dpop).claims.nonce).toEqual(expect.any(String));
    expect(op.stats.dpopNonceChallenges - statsBefore.dpopNonceChallenges).toBe(1);
    expect(op.stats.refreshSucceeded - statsBefore.refreshSucceeded).toBe(1);
    expect(op.stats.refreshRejected - statsBefore.refreshRejected).toBe(0);
    // The resource server: nonce challenge, nonce retry with the stale token (401 invalid_token), replay (200).
    expect(api.stats).toEqual({ hits: 3, unauthorized: 2 });
    // The two servers' nonces are kept apart.
    expect(key.nonceFor(op.tokenEndpoint)).not.toBe(key.nonceFor(api.url));

    // The next refresh starts with the remembered nonce.
    const count = sent.length;
    await auth.refresh();
    const next = sent.slice(count).filter((s) => s.url === op.tokenEndpoint);
    expect(next.at(-1)!.status).toBe(200);
    expect(readProof(next[0]!.dpop).claims.nonce).toEqual(expect.any(String));
    expect((await auth.fetch('/me')).status).toBe(200);
  });
});

describe('use_dpop_nonce that a retry cannot satisfy', () => {
  // A resource server that answers every request with a nonce challenge: with a new nonce each time, or with none.
  let server: Server;
  let url: string;
  let hits = 0;
  let sendNonce = true;
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      res.writeHead(401, {
        'www-authenticate': 'DPoP algs="ES256", error="use_dpop_nonce", error_description="a nonce is required"',
        ...(sendNonce ? { 'dpop-nonce': randomUUID() } : {}),
      });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  for (const [title, withNonce, expectedHits] of [
    ['a second challenge in a row', true, 2],
    ['a challenge without a DPoP-Nonce header', false, 1],
  ] as const) {
    it(`${title} is the final answer: no refresh, no loop`, async () => {
      hits = 0;
      sendNonce = withNonce;
      let refreshes = 0;
      const auth = createAuthClient({
        baseUrl: url,
        dpop: dpop({ keyStorage: 'memory' }),
        refresh: customRefresh(async () => {
          refreshes++;
          return { accessToken: `renewed-${refreshes}`, refreshToken: 'rt', tokenType: 'DPoP' };
        }),
        retry: 0,
      });
      clients.push(auth);
      const unauthorized: unknown[] = [];
      auth.on('unauthorized', (error) => unauthorized.push(error));
      await auth.login({ accessToken: 'at', refreshToken: 'rt', tokenType: 'DPoP' });

      const response = await auth.fetch('/me');
      expect(response.status).toBe(401);
      expect(hits).toBe(expectedHits);
      expect(refreshes).toBe(0);
      expect(unauthorized).toHaveLength(1);
    });
  }
});

describe('dpop() key and proofs', () => {
  it("thumbprint() is the RFC 7638 thumbprint of the public key; the private key is non-extractable", async () => {
    const key = dpop({ keyStorage: 'memory' });
    const { privateKey, publicKey } = await key.keyPair();
    expect(privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('jwk', privateKey)).rejects.toThrow();
    await expect(crypto.subtle.exportKey('pkcs8', privateKey)).rejects.toThrow();
    expect(privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(privateKey.usages).toEqual(['sign']);

    const jwk = await exportJWK(publicKey);
    expect(jwk.d).toBeUndefined();
    expect(await key.thumbprint()).toBe(await calculateJwkThumbprint(jwk));
    expect(await key.thumbprint()).toMatch(/^[\w-]{43}$/);
    // The same key on every use.
    expect(await key.keyPair()).toBe(await key.keyPair());
  });

  it('rotate() makes a different key on next use; separate instances have separate keys', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const first = await key.thumbprint();
    await key.rotate();
    const second = await key.thumbprint();
    expect(second).not.toBe(first);
    const proof = readProof(await key.proof('GET', 'https://api.example.com/'));
    expect(await calculateJwkThumbprint(proof.header.jwk as JWK)).toBe(second);
    expect(await dpop({ keyStorage: 'memory' }).thumbprint()).not.toBe(second);
  });

  it('htu drops query, fragment and user info; htm is upper-cased as fetch does; nonces are per origin', async () => {
    const key = dpop({ keyStorage: 'memory' });
    const claims = readProof(await key.proof('post', 'https://u:p@api.example.com:443/a/b?token=secret#frag')).claims;
    expect(claims).toMatchObject({ htm: 'POST', htu: 'https://api.example.com/a/b' });
    expect(claims.ath).toBeUndefined();
    expect(readProof(await key.proof('patch', 'https://api.example.com/x')).claims.htm).toBe('patch');

    key.rememberNonce('https://api.example.com/any/path?x', 'n-1');
    expect(key.nonceFor('https://api.example.com/other')).toBe('n-1');
    expect(key.nonceFor('https://auth.example.com/token')).toBeUndefined();
    expect(readProof(await key.proof('GET', 'https://api.example.com/y')).claims.nonce).toBe('n-1');
    expect(readProof(await key.proof('GET', 'https://api.example.com/y', { nonce: 'explicit' })).claims.nonce).toBe('explicit');
    expect(readProof(await key.proof('GET', 'https://auth.example.com/y')).claims.nonce).toBeUndefined();

    const error = await caught(key.proof('GET', '/relative?secret=1'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/absolute URL/);
    expect((error as Error).message).not.toContain('secret');
  });

  it('validates its options', () => {
    expect(() => dpop({ keyStorage: 'disk' as 'memory' })).toThrow(TypeError);
    expect(() => dpop({ name: '' })).toThrow(TypeError);
    expect(dpop().rotateOnLogout).toBe(false);
  });
});
