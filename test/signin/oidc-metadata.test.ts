/**
 * `oidc()` against a scripted provider (a real HTTP server on 127.0.0.1 that answers what each test sets): discovery
 * (OpenID Connect first, RFC 8414 when that is missing), explicit `endpoints` without discovery, and an ID token whose
 * claims fail validation (OIDC Core 3.1.3.7: wrong `aud`, wrong `nonce`, expired), each refused with `SignInError`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, generateKeyPair } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SignInError, memoryStorage, oidc, type AuthClient, type OidcOptions } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
const REDIRECT = 'http://127.0.0.1/cb';
const CLIENT_ID = 'scripted-spa';

interface Script {
  /** Which discovery documents exist. */
  openid: boolean;
  oauth2: boolean;
  /** Claims of the ID token the token endpoint issues (merged over valid ones; `undefined` values are dropped). */
  idTokenClaims: Record<string, unknown>;
  /** Pad the token response to this many bytes (a hostile or broken provider). */
  padTo?: number;
  /** The issuer the metadata names, when not the one it is fetched for. */
  metadataIssuer?: string;
}

describe('oidc() discovery, endpoints and ID token validation', () => {
  let server: Server;
  let issuer: string;
  let script: Script;
  const hits: string[] = [];
  /** The nonce of the last authorization request, which the token endpoint echoes unless told otherwise. */
  let lastNonce = '';
  let privateKey: CryptoKey;

  beforeAll(async () => {
    ({ privateKey } = await generateKeyPair('ES256'));
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', issuer);
      hits.push(url.pathname);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const metadata = {
        issuer: script.metadataIssuer ?? issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        id_token_signing_alg_values_supported: ['ES256'],
      };
      if (url.pathname === '/.well-known/openid-configuration') return script.openid ? json(200, metadata) : json(404, {});
      if (url.pathname === '/.well-known/oauth-authorization-server') return script.oauth2 ? json(200, metadata) : json(404, {});
      if (url.pathname === '/token' && req.method === 'POST') {
        void (async () => {
          const now = Math.floor(Date.now() / 1000);
          const claims: Record<string, unknown> = { iss: issuer, sub: 'carol', aud: CLIENT_ID, iat: now, exp: now + 300, nonce: lastNonce, ...script.idTokenClaims };
          for (const key of Object.keys(claims)) if (claims[key] === undefined) delete claims[key];
          const idToken = await new SignJWT(claims).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
          const padding = script.padTo ? 'x'.repeat(script.padTo) : undefined;
          json(200, { access_token: 'at-1', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-1', id_token: idToken, padding });
        })();
        return;
      }
      json(404, { error: 'not_found' });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    script = { openid: true, oauth2: false, idTokenClaims: {} };
    hits.length = 0;
  });

  function client(options: Partial<OidcOptions> = {}): AuthClient {
    return createClient({ storage: memoryStorage(), refresh: oidc({ issuer, clientId: CLIENT_ID, redirectUri: REDIRECT, ...options }) });
  }

  /** Start a sign-in and answer it as the provider would: a callback URL with a code for its state. */
  async function callbackFor(auth: AuthClient, maxAge?: number): Promise<string> {
    let authorizationUrl = '';
    await auth.signIn({ maxAge, openUrl: (url) => void (authorizationUrl = url) });
    const params = new URL(authorizationUrl).searchParams;
    lastNonce = params.get('nonce') ?? '';
    return `${REDIRECT}?code=c0de&state=${params.get('state')}`;
  }

  it('discovers OpenID Connect metadata first', async () => {
    const auth = client();
    await auth.handleRedirect(await callbackFor(auth));
    expect(hits.filter((path) => path.startsWith('/.well-known/'))).toEqual(['/.well-known/openid-configuration']);
    expect(auth.session.user?.sub).toBe('carol');
  });

  it('falls back to RFC 8414 metadata where OpenID discovery is missing', async () => {
    script = { ...script, openid: false, oauth2: true };
    const auth = client();
    let authorizationUrl = '';
    await auth.signIn({ openUrl: (url) => void (authorizationUrl = url) });
    expect(authorizationUrl.startsWith(`${issuer}/authorize?`)).toBe(true);
    expect(hits).toEqual(['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']);
  });

  it('uses explicit endpoints without any discovery', async () => {
    script = { ...script, openid: false };
    const auth = client({ endpoints: { authorization: `${issuer}/authorize`, token: `${issuer}/token` } });
    await auth.handleRedirect(await callbackFor(auth));
    expect(hits).toEqual(['/token']);
    expect(auth.session.status).toBe('active');
  });

  it('a discovery failure rejects signIn with a typed error and is tried again next time', async () => {
    script = { ...script, openid: false, oauth2: false };
    const auth = client();
    await expect(auth.signIn({ openUrl: () => undefined })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    script = { ...script, openid: true };
    await expect(auth.signIn({ openUrl: () => undefined })).resolves.toBeUndefined();
  });

  it('refuses metadata that names another issuer (OIDC Discovery 4.3) with TokenResponseError', async () => {
    script.metadataIssuer = 'https://evil.example';
    await expect(client().signIn({ openUrl: () => undefined })).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE' });
  });

  for (const [label, claims] of [
    ['another audience', { aud: 'someone-else' }],
    ['another nonce', { nonce: 'replayed-nonce' }],
    ['no nonce', { nonce: undefined }],
    ['an expired ID token', { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }],
    ['another issuer', { iss: 'https://evil.example' }],
    ['several audiences without azp', { aud: [CLIENT_ID, 'other'] }],
    ['no subject', { sub: undefined }],
    ['a not-before in the future', { nbf: Math.floor(Date.now() / 1000) + 3600 }],
  ] as const) {
    it(`refuses an ID token with ${label} (invalid-response) and stays signed out`, async () => {
      script.idTokenClaims = claims;
      const auth = client();
      const error = await auth.handleRedirect(await callbackFor(auth)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SignInError);
      expect(error).toMatchObject({ reason: 'invalid-response', action: 'contact-support' });
      expect(auth.session).toEqual({ status: 'signed-out' });
    });
  }

  it('with maxAge, needs an auth_time recent enough (OIDC Core 3.1.3.7 step 11)', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const [authTime, ok] of [[undefined, false], [now - 3600, false], [now, true]] as const) {
      script.idTokenClaims = { auth_time: authTime };
      const auth = client();
      const outcome = await auth.handleRedirect(await callbackFor(auth, 60)).then(
        () => 'signed-in',
        (e: unknown) => (e as SignInError).reason,
      );
      expect(outcome, String(authTime)).toBe(ok ? 'signed-in' : 'invalid-response');
    }
  });

  it('reads the token response bounded: a huge one is refused (invalid-response), not read into memory', async () => {
    script.padTo = 4 * 1024 * 1024;
    const auth = client();
    await expect(auth.handleRedirect(await callbackFor(auth))).rejects.toMatchObject({ name: 'SignInError', reason: 'invalid-response' });
    expect(auth.session.status).toBe('signed-out');
  });

  it('refuses an http issuer off this machine, and a redirect URI with a fragment', () => {
    expect(() => oidc({ issuer: 'http://login.example.com', clientId: 'x', redirectUri: REDIRECT })).toThrow(/https/);
    expect(() => oidc({ issuer, clientId: 'x', redirectUri: 'https://app.example.com/cb#x' })).toThrow(/fragment/);
    expect(() => oidc({ issuer, clientId: '', redirectUri: REDIRECT })).toThrow(/clientId/);
  });

  it('signIn without a browser window or openUrl says what it needs', async () => {
    const auth = client();
    await expect(auth.signIn()).rejects.toThrow(/browser window/);
    await expect(auth.signIn({ popup: true })).rejects.toThrow(/browser window/);
  });
});

describe('oidc() authorization request parameters', () => {
  it('extra parameters never replace PKCE, state, nonce or the redirect URI; max_age only through maxAge', async () => {
    const auth = createClient({
      refresh: oidc({
        issuer: 'https://login.example.com',
        clientId: 'spa',
        redirectUri: REDIRECT,
        endpoints: { authorization: 'https://login.example.com/authorize', token: 'https://login.example.com/token' },
        extraAuthParams: { audience: 'https://api.example.com', state: 'fixed', code_challenge_method: 'plain' },
      }),
    });
    let sent = new URLSearchParams();
    await auth.signIn({
      acrValues: ['urn:mfa', 'urn:pwd'],
      maxAge: 0,
      loginHint: 'alice@example.com',
      extraParams: { nonce: 'fixed', redirect_uri: 'https://evil.example/', max_age: '99999' },
      openUrl: (url) => void (sent = new URL(url).searchParams),
    });
    expect(sent.get('audience')).toBe('https://api.example.com');
    expect(sent.get('state')).not.toBe('fixed');
    expect(sent.get('nonce')).not.toBe('fixed');
    expect(sent.get('code_challenge_method')).toBe('S256');
    expect(sent.get('redirect_uri')).toBe(REDIRECT);
    expect(sent.get('acr_values')).toBe('urn:mfa urn:pwd');
    expect(sent.get('max_age')).toBe('0');
    expect(sent.get('login_hint')).toBe('alice@example.com');
  });

  it('signIn and handleRedirect without oidc() say what they need', async () => {
    const auth = createClient({});
    await expect(auth.signIn()).rejects.toThrow(/oidc\(\)/);
    await expect(auth.handleRedirect('https://app.example.com/?code=x&state=y')).rejects.toThrow(/oidc\(\)/);
    expect(auth.session.user).toBeUndefined();
  });
});
