/**
 * A real OAuth 2 / OpenID Connect authorization server (oidc-provider, OpenID-certified) running in the
 * test process, plus a protected resource that validates its access tokens. For tests of refresh,
 * refresh-token rotation and DPoP against the real thing rather than a mock.
 *
 *   const op = await startOidcProvider({ dpop: true });
 *   const tokens = await op.obtainTokens();             // real authorization-code + PKCE (S256) flow
 *   const api = await op.startResourceServer();         // validates tokens by introspection
 *   ...
 *   await op.close();                                   // closes the provider and every resource server
 *
 * Everything listens on 127.0.0.1 on a random port. The provider runs in development mode (http issuer,
 * in-memory storage, devInteractions); its development notices are silenced while a harness is open.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  calculateJwkThumbprint,
  EmbeddedJWK,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JWK,
} from 'jose';
import { createMemoryStore, memoryAdapterFactory } from './oidc-adapter.js';

// Captured at load so a test that stubs globalThis.fetch does not break the harness's own HTTP calls.
const realFetch: typeof fetch = globalThis.fetch.bind(globalThis);

export interface OidcHarnessOptions {
  /**
   * Default true: every refresh_token grant issues a new refresh token and spends the old one; presenting
   * a spent one is answered `invalid_grant` and revokes the whole grant (its access and refresh tokens).
   * false: the refresh token stays the same for the life of the grant.
   */
  rotateRefreshTokens?: boolean;
  /** Access token lifetime in seconds, default 300. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds, default 14 days. */
  refreshTokenTtl?: number;
  /** Default false: enable features.dPoP (RFC 9449); tokens requested with a DPoP proof are DPoP-bound. */
  dpop?: boolean;
  /** Default false: with `dpop`, the token endpoint demands a server nonce (answers `use_dpop_nonce`). */
  requireDpopNonce?: boolean;
  /** More client registrations (oidc-provider client metadata), e.g. an SPA with its own redirect URIs. */
  clients?: Record<string, unknown>[];
  /** oidc-provider's `acrValues`: the authentication context classes the provider offers (RFC 9470 step-up). */
  acrValues?: string[];
  /**
   * What the login form's account answers at sign-in: oidc-provider's interaction result `login` (e.g. an `acr`
   * reached for a step-up). Called with the submitted account id. Default `{ accountId }`.
   */
  loginResult?: (accountId: string, params: Record<string, unknown>) => Record<string, unknown>;
  /**
   * Default 'none' (a public client). Otherwise the client is confidential, with `clientSecret`, and the provider
   * accepts only this method at the token endpoint (RFC 6749 section 2.3.1).
   */
  clientAuth?: 'none' | 'client_secret_basic' | 'client_secret_post';
}

export interface AuthorizeOptions {
  /** The account that signs in at the login form, default 'alice'. */
  accountId?: string;
  /** Where the flow ends: the first redirect to a URL starting with this (default: any URL off the provider's origin). */
  until?: string;
}

export interface ObtainTokensOptions {
  /**
   * A DPoP proof for `POST tokenEndpoint`. A string is sent as is (with `requireDpopNonce` it will be
   * refused: the call rejects with an OidcHarnessError carrying the `use_dpop_nonce` answer). A function
   * is called for a proof, and called again with the server's nonce after one `use_dpop_nonce` answer.
   */
  dpopProof?: string | ((nonce?: string) => string | Promise<string>);
  /** Default 'openid offline_access'. Without offline_access no refresh token is issued. */
  scope?: string;
  /** The account that signs in, default 'alice' (becomes the `sub`). */
  accountId?: string;
  /** RFC 9449 section 10: binds the authorization code to this JWK thumbprint. */
  dpopJkt?: string;
}

export interface ResourceServerOptions {
  /** Default false: with DPoP requests, demand a resource-server nonce (401 `use_dpop_nonce` + DPoP-Nonce). */
  requireDpopNonce?: boolean;
  /**
   * RFC 9470: paths starting with `/mfa` demand this acr (read from introspection, see `loginResult`); a token
   * without it gets 401 `error="insufficient_user_authentication"` with `acr_values` and `max_age="0"`.
   */
  stepUpAcr?: string;
}

export interface ResourceServer {
  /** Origin of the server, e.g. http://127.0.0.1:5678; any path is served. */
  url: string;
  /** hits: every request but CORS preflights; unauthorized: the ones answered 401. */
  stats: { hits: number; unauthorized: number };
  /** The nonce this server currently demands (with `requireDpopNonce`). */
  readonly dpopNonce: string | undefined;
  /** Make the server demand a fresh nonce from now on (the old one gets `use_dpop_nonce`). */
  rotateDpopNonce(): string;
  close(): Promise<void>;
}

export interface OidcHarnessStats {
  /** refresh_token grant requests the provider answered, successful or not (use_dpop_nonce challenges excluded). */
  refreshGrants: number;
  /** ...of which answered with new tokens. */
  refreshSucceeded: number;
  /** ...of which answered with an error (invalid_grant for a spent, expired, revoked or unknown token...). */
  refreshRejected: number;
  /** Token endpoint requests (any grant) answered `use_dpop_nonce`. */
  dpopNonceChallenges: number;
  /** Grants revoked by the provider (e.g. on reuse of a rotated refresh token). */
  grantsRevoked: number;
  /** authorization_code grants answered with tokens, and refused (a code used twice, a wrong verifier...). */
  codeGrants: number;
  codeRejected: number;
}

export interface OidcHarness {
  issuer: string;
  tokenEndpoint: string;
  /** Introspection endpoint (the resource server's client authenticates with client_secret_basic). */
  introspectionEndpoint: string;
  revocationEndpoint: string;
  /** The client (public unless `clientAuth` says otherwise), grant types authorization_code + refresh_token. */
  clientId: string;
  /** The client's secret with a confidential `clientAuth` (it has characters Basic must form-encode). */
  clientSecret?: string;
  redirectUri: string;
  /** The first tokens of a session, as the raw OAuth token response. Rejects with OidcHarnessError. */
  obtainTokens(options?: ObtainTokensOptions): Promise<Record<string, unknown>>;
  /**
   * Drive an authorization URL (made by the client under test) through the login and consent forms like a browser,
   * and resolve the URL the provider finally redirects to (the redirect URI with `code` or `error`).
   */
  authorize(url: string, options?: AuthorizeOptions): Promise<string>;
  /** A protected resource on another port; see startResourceServer below for exactly what it checks. */
  startResourceServer(options?: ResourceServerOptions): Promise<ResourceServer>;
  /** The provider's introspection answer for a token (as the resource server sees it). */
  introspect(token: string): Promise<Record<string, unknown>>;
  stats: OidcHarnessStats;
  /** The oidc-provider Provider instance, typed loosely, for advanced tests. */
  provider: unknown;
  close(): Promise<void>;
}

/** A non-2xx answer met by the harness (e.g. the token request of obtainTokens). */
export class OidcHarnessError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: unknown,
    readonly headers: Headers,
  ) {
    super(message);
    this.name = 'OidcHarnessError';
  }
}

// ---------------------------------------------------------------------------------------------------------
// oidc-provider is plain JS without type declarations; this is the part of it the harness uses.

interface ProviderInstance {
  issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeAllListeners(event?: string): unknown;
}
type ProviderConstructor = new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;

interface InteractionApi {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ prompt: { name: string }; params: Record<string, unknown> }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: Record<string, unknown>): Promise<void>;
}

/** Finish a login form submission with the test's own login result; `false` for other prompts (consent). */
async function finishLogin(
  provider: InteractionApi,
  req: IncomingMessage,
  res: ServerResponse,
  loginResult: (accountId: string, params: Record<string, unknown>) => Record<string, unknown>,
): Promise<boolean> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') return false;
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const accountId = form.get('login') || 'alice';
  // The login 'server-error' fails on the provider's side: it answers the client with error=server_error.
  const result = accountId === 'server-error' ? { error: 'server_error', error_description: 'the login failed' } : { login: loginResult(accountId, details.params) };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  return true;
}

interface OidcContextLike {
  oidc?: { params?: Record<string, unknown> };
}

// ---------------------------------------------------------------------------------------------------------
// Silencing oidc-provider's development notices ("Unsupported runtime" on Node 20 at import, development
// keys/adapter/interactions, "default X function called"). Only console.warn/console.info lines that start
// with oidc-provider's own prefix are dropped, and only while at least one harness is open.

const NOISE = /^(?:\x1b\[[\d;]*m)?oidc-provider (?:NOTICE|WARNING):/;
let quietCount = 0;
let unquiet: (() => void) | undefined;

function quietOidcProvider(): () => void {
  if (quietCount++ === 0) {
    const { warn, info } = console;
    const filtered = (original: (...args: unknown[]) => void) =>
      function (this: unknown, ...args: unknown[]) {
        if (typeof args[0] === 'string' && NOISE.test(args[0])) return;
        original.apply(console, args);
      };
    const quietWarn = filtered(warn);
    const quietInfo = filtered(info);
    console.warn = quietWarn;
    console.info = quietInfo;
    unquiet = () => {
      // Restore only what is still ours, so a spy installed meanwhile is not clobbered.
      if (console.warn === quietWarn) console.warn = warn;
      if (console.info === quietInfo) console.info = info;
    };
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--quietCount === 0) {
      unquiet?.();
      unquiet = undefined;
    }
  };
}

let providerConstructor: Promise<ProviderConstructor> | undefined;
function loadProvider(): Promise<ProviderConstructor> {
  // A non-literal specifier: the module has no types, and importing it lazily puts its import-time
  // runtime warning inside the quiet window.
  const specifier = 'oidc-provider';
  providerConstructor ??= import(/* @vite-ignore */ specifier).then(
    (mod: { default: ProviderConstructor }) => mod.default,
  );
  return providerConstructor;
}

// ---------------------------------------------------------------------------------------------------------

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    // Keep-alive sockets (fetch pools them) would otherwise hold close() open.
    server.closeAllConnections();
  });
}

function base64urlSha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Minimal cookie jar for one browser-like session: by name only (the paths oidc-provider uses don't clash). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => {
        const [key = '', v = ''] = attribute.split('=');
        const k = key.trim().toLowerCase();
        return (k === 'max-age' && Number(v) <= 0) || (k === 'expires' && Date.parse(v) <= Date.now());
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

const DPOP_ALGS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'Ed25519', 'EdDSA'];
const DPOP_IAT_WINDOW_SECONDS = 60;

export async function startOidcProvider(options: OidcHarnessOptions = {}): Promise<OidcHarness> {
  const {
    clients: extraClients = [],
    acrValues,
    loginResult,
    rotateRefreshTokens = true,
    accessTokenTtl = 300,
    refreshTokenTtl = 14 * 24 * 3600,
    dpop = false,
    requireDpopNonce = false,
    clientAuth = 'none',
  } = options;
  if (requireDpopNonce && !dpop) throw new TypeError('requireDpopNonce needs dpop: true');

  const release = quietOidcProvider();
  const providerServer = createServer();
  const resourceServers = new Set<ResourceServer>();
  const store = createMemoryStore();
  let provider: ProviderInstance | undefined;

  try {
    const Provider = await loadProvider();
    // Listen first, so the provider is built with its real issuer URL.
    const issuer = await listen(providerServer);

    const clientId = 'authfetch-test-spa';
    const redirectUri = 'http://127.0.0.1/callback';
    const rsClientId = 'authfetch-test-api';
    const rsClientSecret = randomBytes(24).toString('base64url');
    // Printable ASCII only (oidc-provider's VSCHAR), with what RFC 6749 Appendix B must encode: % + : / = & and space.
    const clientSecret = clientAuth === 'none' ? undefined : `s3cr%t+:/= &${randomBytes(12).toString('base64url')}`;

    // Our own signing key, so the provider does not fall back to its published development keys.
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const signingJwk = { ...(await exportJWK(privateKey)), kid: 'harness-es256', alg: 'ES256', use: 'sig' };

    const configuration: Record<string, unknown> = {
      adapter: memoryAdapterFactory(store, 15),
      clients: [
        {
          client_id: clientId,
          token_endpoint_auth_method: clientAuth,
          ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [redirectUri],
          id_token_signed_response_alg: 'ES256',
        },
        {
          // The resource server's own (confidential) client, used only to call introspection.
          client_id: rsClientId,
          client_secret: rsClientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: [],
          response_types: [],
          redirect_uris: [],
          id_token_signed_response_alg: 'ES256',
        },
        ...extraClients,
      ],
      ...(acrValues ? { acrValues } : {}),
      // The acr the login reached, copied into the access token (and so into introspection) from the code or the
      // refresh token it comes from: a resource server demanding a step-up (RFC 9470) reads it there.
      extraTokenClaims: async (ctx: { oidc?: { entities?: Record<string, { acr?: string } | undefined> } }) => {
        const entities = ctx.oidc?.entities;
        const acr = entities?.AuthorizationCode?.acr ?? entities?.RefreshToken?.acr;
        return acr ? { acr } : undefined;
      },
      jwks: { keys: [signingJwk] },
      cookies: { keys: [randomBytes(32).toString('base64url')] },
      // The account 'broken-account' cannot be loaded: the provider shows its own error page (no answer to the client).
      findAccount: async (_ctx: unknown, sub: string) => {
        if (sub === 'broken-account') throw new Error('the account store is down');
        return { accountId: sub, claims: async () => ({ sub, name: `${sub[0]?.toUpperCase() ?? ''}${sub.slice(1)}` }) };
      },
      ttl: {
        AccessToken: accessTokenTtl,
        AuthorizationCode: 60,
        IdToken: 3600,
        Interaction: 600,
        Session: 24 * 3600,
        Grant: refreshTokenTtl,
        RefreshToken: refreshTokenTtl,
      },
      // Booleans rather than oidc-provider's default policy (which rotates for public clients, but for
      // DPoP-bound refresh tokens only past 70% of their lifetime): tests need a deterministic answer.
      rotateRefreshToken: rotateRefreshTokens,
      clientBasedCORS: () => true, // browser tests may call the token endpoint cross-origin
      features: {
        devInteractions: { enabled: true },
        introspection: {
          enabled: true,
          // The resource server may introspect any token; a client only its own.
          allowedPolicy: async (_ctx: unknown, client: { clientId: string }, token: { clientId?: string }) =>
            client.clientId === rsClientId || token.clientId === client.clientId,
        },
        revocation: { enabled: true },
        // Without resource indicators the access tokens are opaque and validated by introspection, which
        // (unlike a self-contained JWT) also reports revoked tokens as inactive.
        resourceIndicators: { enabled: false },
        // oidc-provider 9 enables DPoP by default; off here unless asked for, so a stray DPoP header is ignored.
        dPoP: dpop
          ? {
              enabled: true,
              ...(requireDpopNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}),
            }
          : { enabled: false },
      },
    };

    provider = new Provider(issuer, configuration);

    const stats: OidcHarnessStats = {
      refreshGrants: 0,
      refreshSucceeded: 0,
      refreshRejected: 0,
      dpopNonceChallenges: 0,
      grantsRevoked: 0,
      codeGrants: 0,
      codeRejected: 0,
    };
    const grantType = (ctx: OidcContextLike) => ctx?.oidc?.params?.grant_type;
    provider.on('grant.success', (ctx: OidcContextLike) => {
      if (grantType(ctx) === 'authorization_code') stats.codeGrants++;
      if (grantType(ctx) !== 'refresh_token') return;
      stats.refreshGrants++;
      stats.refreshSucceeded++;
    });
    provider.on('grant.error', (ctx: OidcContextLike, error: { error?: string }) => {
      if (error?.error === 'use_dpop_nonce') {
        stats.dpopNonceChallenges++;
        return;
      }
      if (grantType(ctx) === 'authorization_code') stats.codeRejected++;
      if (grantType(ctx) !== 'refresh_token') return;
      stats.refreshGrants++;
      stats.refreshRejected++;
    });
    provider.on('grant.revoked', () => {
      stats.grantsRevoked++;
    });
    const callback = provider.callback();
    const instance = provider as ProviderInstance & InteractionApi;
    providerServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
      // With `loginResult`, the login form's submission is finished here (a custom interaction) so the test decides
      // what the login reached (an `acr` for a step-up); everything else is oidc-provider's own devInteractions.
      if (loginResult && req.method === 'POST' && /^\/interaction\/[^/]+$/.test(req.url ?? '')) {
        void finishLogin(instance, req, res, loginResult).then((handled) => {
          if (!handled) callback(req, res);
        });
        return;
      }
      callback(req, res);
    });

    const tokenEndpoint = `${issuer}/token`;
    const introspectionEndpoint = `${issuer}/token/introspection`;
    const revocationEndpoint = `${issuer}/token/revocation`;

    async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
      return realFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...headers },
        body: new URLSearchParams(form).toString(),
      });
    }

    async function introspect(token: string): Promise<Record<string, unknown>> {
      const basic = Buffer.from(`${encodeURIComponent(rsClientId)}:${encodeURIComponent(rsClientSecret)}`).toString(
        'base64',
      );
      const res = await postForm(
        introspectionEndpoint,
        { token, token_type_hint: 'access_token' },
        { authorization: `Basic ${basic}` },
      );
      const body = await readJson(res);
      if (!res.ok || typeof body !== 'object' || body === null) {
        throw new OidcHarnessError(`introspection failed with ${res.status}`, res.status, body, res.headers);
      }
      return body as Record<string, unknown>;
    }

    /**
     * Follows an authorization URL like a browser with a cookie jar: each devInteractions page (login, then consent)
     * is fetched and submitted, redirects are followed, until a redirect leaves the provider (or matches `until`).
     */
    async function authorize(url: string, opts: AuthorizeOptions = {}): Promise<string> {
      const { accountId = 'alice', until } = opts;
      const jar = new CookieJar();
      const send = async (target: string, init: RequestInit = {}) => {
        const headers = new Headers(init.headers);
        const cookie = jar.header();
        if (cookie) headers.set('cookie', cookie);
        const res = await realFetch(target, { ...init, headers, redirect: 'manual' });
        jar.store(res);
        return res;
      };
      let current = url;
      for (let step = 0; step < 12; step++) {
        let res = await send(current);
        if (res.status === 200 && new URL(current).pathname.startsWith('/interaction/')) {
          const html = await res.text();
          const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
          if (prompt !== 'login' && prompt !== 'consent') throw new Error(`unexpected interaction page at ${current}`);
          const form: Record<string, string> =
            prompt === 'login' ? { prompt, login: accountId, password: 'secret' } : { prompt };
          // devInteractions serve the form at GET /interaction/:uid and take it at POST /interaction/:uid.
          res = await send(current, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(form).toString(),
          });
        }
        const location = res.headers.get('location');
        if (res.status < 300 || res.status >= 400 || !location) {
          const body = await readJson(res);
          throw new OidcHarnessError(`authorization flow: HTTP ${res.status}`, res.status, body, res.headers);
        }
        await res.body?.cancel();
        const next = new URL(location, current);
        if (until ? next.href.startsWith(until) : next.origin !== issuer) return next.href;
        current = next.href;
      }
      throw new Error('authorization flow did not finish');
    }

    /**
     * Drives the authorization-code flow with PKCE (S256) over HTTP like a browser would: GET /auth with
     * prompt=consent (oidc-provider drops offline_access otherwise), then each devInteractions page (login,
     * then consent) is fetched and submitted, following the redirects with a cookie jar, until the
     * redirect to redirect_uri carries the code; then the code is exchanged at the token endpoint.
     */
    async function obtainTokens(opts: ObtainTokensOptions = {}): Promise<Record<string, unknown>> {
      const { scope = 'openid offline_access', accountId = 'alice', dpopProof, dpopJkt } = opts;
      const verifier = randomBytes(32).toString('base64url');
      const state = randomBytes(12).toString('base64url');

      const authorizeUrl = new URL(`${issuer}/auth`);
      authorizeUrl.search = new URLSearchParams({
        client_id: clientId,
        response_type: 'code',
        redirect_uri: redirectUri,
        scope,
        state,
        prompt: 'consent',
        code_challenge: base64urlSha256(verifier),
        code_challenge_method: 'S256',
        ...(dpopJkt ? { dpop_jkt: dpopJkt } : {}),
      }).toString();

      const final = new URL(await authorize(authorizeUrl.href, { accountId, until: `${redirectUri}?` }));
      const params = final.searchParams;
      if (params.get('error')) {
        throw new OidcHarnessError(
          `authorization failed: ${params.get('error')} ${params.get('error_description') ?? ''}`,
          302,
          Object.fromEntries(params),
          new Headers(),
        );
      }
      if (params.get('state') !== state) throw new Error('authorization response state mismatch');
      const code = params.get('code') ?? undefined;
      if (!code) throw new Error('authorization response without a code');

      const form: Record<string, string> = {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        code_verifier: verifier,
        client_id: clientId,
      };
      const clientHeaders: Record<string, string> = {};
      if (clientAuth === 'client_secret_post' && clientSecret) form.client_secret = clientSecret;
      if (clientAuth === 'client_secret_basic' && clientSecret) {
        delete form.client_id;
        const encode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
        clientHeaders.authorization = `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
      }
      let nonce: string | undefined;
      for (let attempt = 0; ; attempt++) {
        const proof = typeof dpopProof === 'function' ? await dpopProof(nonce) : dpopProof;
        const res = await postForm(tokenEndpoint, form, { ...clientHeaders, ...(proof ? { dpop: proof } : {}) });
        if (res.ok) return (await res.json()) as Record<string, unknown>;
        const body = await readJson(res);
        const serverNonce = res.headers.get('dpop-nonce');
        const isNonceChallenge =
          typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'use_dpop_nonce';
        if (isNonceChallenge && serverNonce && typeof dpopProof === 'function' && attempt === 0) {
          nonce = serverNonce;
          continue;
        }
        throw new OidcHarnessError(
          `token request failed: HTTP ${res.status} ${JSON.stringify(body)}`,
          res.status,
          body,
          res.headers,
        );
      }
    }

    /**
     * The protected resource. For each request (any method, any path; CORS preflights answered, not counted):
     *  1. No `Authorization` header, or a scheme other than Bearer/DPoP: 401 with a challenge and no error
     *     code (RFC 6750 section 3.1): `Bearer realm=...`, plus `DPoP algs=...` when the provider does DPoP.
     *  2. `Authorization: DPoP <token>` (only when the provider does DPoP, else 401 invalid_token): the
     *     `DPoP` header must hold exactly one proof JWT, verified with jose against the key in its own `jwk`
     *     header (public, asymmetric alg, typ `dpop+jwt`); `htm` must equal the request method, `htu` the
     *     request URL without query and fragment, `iat` within 60 s of now, `ath` the base64url SHA-256 of
     *     the token, `jti` a string not seen before from that key; else 401 `DPoP error="invalid_dpop_proof"`.
     *     With `requireDpopNonce`, a proof without this server's current nonce gets 401
     *     `DPoP error="use_dpop_nonce"` and a `DPoP-Nonce` header.
     *  3. The token is introspected at the provider: not active (unknown, garbage, expired, revoked)
     *     -> 401 `<scheme> error="invalid_token"`.
     *  4. Sender constraint: a token with `cnf.jkt` must come with the DPoP scheme and a proof whose key
     *     thumbprint equals `cnf.jkt` (a DPoP-bound token used as Bearer -> 401 `DPoP error="invalid_token"`);
     *     a token without `cnf.jkt` presented with the DPoP scheme -> 401 `DPoP error="invalid_token"`.
     *  5. Otherwise 200 JSON `{ ok, method, path, sub, clientId, scope, tokenType, body }`, where `body`
     *     echoes the request body as text (for replay tests).
     */
    async function startResourceServer(rsOptions: ResourceServerOptions = {}): Promise<ResourceServer> {
      const stats = { hits: 0, unauthorized: 0 };
      let dpopNonce = rsOptions.requireDpopNonce ? randomBytes(16).toString('base64url') : undefined;
      const seenJtis = new Map<string, number>(); // `${jkt}:${jti}` -> epoch seconds when it can be forgotten
      const server = createServer((req, res) => {
        handle(req, res).catch((error: unknown) => {
          if (!res.headersSent) {
            res.writeHead(500, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ error: 'server_error', message: String(error) }));
          } else {
            res.destroy();
          }
        });
      });

      const dpopChallenge = (error?: string, description?: string) =>
        `DPoP algs="${DPOP_ALGS.join(' ')}"` +
        (error ? `, error="${error}"` : '') +
        (description ? `, error_description="${description}"` : '');
      const bearerChallenge = (error?: string, description?: string) =>
        `Bearer realm="authfetch-test"` +
        (error ? `, error="${error}"` : '') +
        (description ? `, error_description="${description}"` : '');

      function unauthorized(res: ServerResponse, challenges: string[], extraHeaders: Record<string, string> = {}) {
        stats.unauthorized++;
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': challenges,
          ...extraHeaders,
        });
        res.end(JSON.stringify({ error: 'unauthorized' }));
      }

      async function readBody(req: IncomingMessage): Promise<string> {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > 1024 * 1024) throw new Error('request body too large');
          chunks.push(chunk as Buffer);
        }
        return Buffer.concat(chunks).toString('utf8');
      }

      /** Checks of step 2; returns the proof key's thumbprint, or an error description. */
      async function verifyProof(
        req: IncomingMessage,
        token: string,
      ): Promise<{ jkt: string } | { error: 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string }> {
        const header = req.headers.dpop;
        if (typeof header !== 'string' || header === '' || header.includes(',')) {
          return { error: 'invalid_dpop_proof', description: 'exactly one DPoP proof is required' };
        }
        let payload: Record<string, unknown>;
        let jwk: JWK;
        try {
          const verified = await jwtVerify(header, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS });
          payload = verified.payload as Record<string, unknown>;
          jwk = verified.protectedHeader.jwk as JWK;
        } catch (error) {
          return { error: 'invalid_dpop_proof', description: `proof does not verify (${(error as Error).message})` };
        }
        if (payload.htm !== req.method) return { error: 'invalid_dpop_proof', description: 'htm mismatch' };
        const expected = new URL(req.url ?? '/', `http://${req.headers.host}`);
        expected.search = '';
        expected.hash = '';
        const actual = typeof payload.htu === 'string' ? URL.parse(payload.htu) : null;
        if (actual) {
          actual.search = '';
          actual.hash = '';
        }
        if (!actual || actual.href !== expected.href) return { error: 'invalid_dpop_proof', description: 'htu mismatch' };
        const now = Math.floor(Date.now() / 1000);
        if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > DPOP_IAT_WINDOW_SECONDS) {
          return { error: 'invalid_dpop_proof', description: 'iat is missing or not recent' };
        }
        if (typeof payload.jti !== 'string' || payload.jti === '') {
          return { error: 'invalid_dpop_proof', description: 'jti is missing' };
        }
        if (payload.ath !== base64urlSha256(token)) return { error: 'invalid_dpop_proof', description: 'ath mismatch' };
        if (dpopNonce !== undefined && payload.nonce !== dpopNonce) {
          return { error: 'use_dpop_nonce', description: 'a DPoP nonce is required' };
        }
        const jkt = await calculateJwkThumbprint(jwk);
        for (const [key, forgetAt] of seenJtis) if (forgetAt < now) seenJtis.delete(key);
        const replayKey = `${jkt}:${payload.jti}`;
        if (seenJtis.has(replayKey)) return { error: 'invalid_dpop_proof', description: 'jti already used' };
        seenJtis.set(replayKey, now + 2 * DPOP_IAT_WINDOW_SECONDS);
        return { jkt };
      }

      async function handle(req: IncomingMessage, res: ServerResponse) {
        res.setHeader('access-control-allow-origin', '*');
        res.setHeader('access-control-expose-headers', 'WWW-Authenticate, DPoP-Nonce');
        if (req.method === 'OPTIONS') {
          res.writeHead(204, {
            'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE',
            'access-control-allow-headers': 'authorization, dpop, content-type',
            'access-control-max-age': '600',
          });
          res.end();
          return;
        }
        stats.hits++;
        const body = await readBody(req);

        // 1. credentials present, with a known scheme
        const noCredentials = dpop ? [dpopChallenge(), bearerChallenge()] : [bearerChallenge()];
        const match = /^(\S+) +(\S+)$/.exec(req.headers.authorization ?? '');
        const scheme = match?.[1]?.toLowerCase();
        const token = match?.[2];
        if (!token || (scheme !== 'bearer' && scheme !== 'dpop')) return unauthorized(res, noCredentials);
        const isDpop = scheme === 'dpop';
        if (isDpop && !dpop) {
          return unauthorized(res, [bearerChallenge('invalid_token', 'DPoP is not supported here')]);
        }
        const challenge = isDpop ? dpopChallenge : bearerChallenge;

        // 2. the DPoP proof
        let proofJkt: string | undefined;
        if (isDpop) {
          const proof = await verifyProof(req, token);
          if ('error' in proof) {
            const extra: Record<string, string> = dpopNonce !== undefined ? { 'dpop-nonce': dpopNonce } : {};
            return unauthorized(res, [dpopChallenge(proof.error, proof.description)], extra);
          }
          proofJkt = proof.jkt;
        }

        // 3. the token itself
        const info = await introspect(token);
        if (info.active !== true) {
          return unauthorized(res, [challenge('invalid_token', 'the access token is invalid, expired or revoked')]);
        }

        // 4. the sender constraint
        const cnf = info.cnf as { jkt?: unknown } | undefined;
        const boundTo = typeof cnf?.jkt === 'string' ? cnf.jkt : undefined;
        if (boundTo !== undefined && !isDpop) {
          return unauthorized(res, [dpopChallenge('invalid_token', 'DPoP-bound access token presented as Bearer')]);
        }
        if (isDpop && boundTo === undefined) {
          return unauthorized(res, [dpopChallenge('invalid_token', 'the access token is not DPoP-bound')]);
        }
        if (isDpop && boundTo !== proofJkt) {
          return unauthorized(res, [dpopChallenge('invalid_token', 'the DPoP proof key does not match the token')]);
        }

        // 5. accepted
        const url = new URL(req.url ?? '/', 'http://localhost');
        // RFC 9470 section 3: a stronger authentication is needed for this resource.
        if (rsOptions.stepUpAcr !== undefined && url.pathname.startsWith('/mfa') && info.acr !== rsOptions.stepUpAcr) {
          return unauthorized(res, [challenge('insufficient_user_authentication', 'a stronger authentication is required') + `, acr_values="${rsOptions.stepUpAcr}", max_age="0"`]);
        }
        res.writeHead(200, {
          'content-type': 'application/json',
          ...(dpopNonce !== undefined ? { 'dpop-nonce': dpopNonce } : {}),
        });
        res.end(
          JSON.stringify({
            ok: true,
            method: req.method,
            path: url.pathname + url.search,
            sub: info.sub,
            clientId: info.client_id,
            scope: info.scope,
            tokenType: isDpop ? 'DPoP' : 'Bearer',
            acr: info.acr,
            body,
          }),
        );
      }

      const url = await listen(server);
      const rs: ResourceServer = {
        url,
        stats,
        get dpopNonce() {
          return dpopNonce;
        },
        rotateDpopNonce() {
          dpopNonce = randomBytes(16).toString('base64url');
          return dpopNonce;
        },
        async close() {
          resourceServers.delete(rs);
          await closeServer(server);
        },
      };
      resourceServers.add(rs);
      return rs;
    }

    let closed = false;
    const harness: OidcHarness = {
      issuer,
      tokenEndpoint,
      introspectionEndpoint,
      revocationEndpoint,
      clientId,
      clientSecret,
      redirectUri,
      obtainTokens,
      authorize,
      startResourceServer,
      introspect,
      stats,
      provider,
      async close() {
        if (closed) return;
        closed = true;
        await Promise.all([...resourceServers].map((rs) => rs.close()));
        await closeServer(providerServer);
        provider?.removeAllListeners();
        store.clear();
        release();
      },
    };
    return harness;
  } catch (error) {
    await Promise.all([...resourceServers].map((rs) => rs.close()));
    await closeServer(providerServer);
    provider?.removeAllListeners();
    release();
    throw error;
  }
}

/** A DPoP key pair for tests, and proofs made with it (RFC 9449 section 4.2). */
export interface DpopTestKey {
  publicJwk: JWK;
  /** RFC 7638 thumbprint of the public key (the `cnf.jkt` / `dpop_jkt` value). */
  thumbprint: string;
  proof(
    htm: string,
    htu: string,
    options?: { accessToken?: string; nonce?: string; iat?: number; jti?: string },
  ): Promise<string>;
}

export async function createDpopTestKey(alg: 'ES256' | 'Ed25519' = 'ES256'): Promise<DpopTestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = await exportJWK(publicKey);
  const thumbprint = await calculateJwkThumbprint(publicJwk);
  return {
    publicJwk,
    thumbprint,
    proof(htm, htu, { accessToken, nonce, iat, jti } = {}) {
      const target = new URL(htu);
      target.search = '';
      target.hash = '';
      return new SignJWT({
        htm,
        htu: target.href,
        jti: jti ?? randomUUID(),
        ...(accessToken !== undefined ? { ath: base64urlSha256(accessToken) } : {}),
        ...(nonce !== undefined ? { nonce } : {}),
      })
        .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: publicJwk })
        .setIssuedAt(iat ?? Math.floor(Date.now() / 1000))
        .sign(privateKey);
    },
  };
}
