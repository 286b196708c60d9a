/**
 * A hostile provider and a hostile callback URL against `oidc()`'s own checks, which replaced oauth4webapi's
 * validateAuthResponse, processAuthorizationCodeResponse, processDiscoveryResponse and revocation helpers: the
 * authorization response (JARM, RFC 9207 `iss`, `state`, the provider's error, implicit/hybrid parameters, duplicates),
 * the token response (RFC 6749 section 5.1), the ID token (OIDC Core 3.1.3.7), discovery and revocation.
 *
 * Every refusal is what oauth4webapi refused, or stricter (beyond it: a token set smuggled as `accessToken`/`idToken`
 * beside the checked members, `javascript:` endpoints in the metadata), and a sign-in ends the same way: `SignInError`
 * (`invalid-response`, or the provider's own reason), no token request when the callback itself is refused, nothing
 * stored; unusable metadata is `TokenResponseError`, as the contract says. The shapes real providers send (Auth0, Okta,
 * Keycloak, Entra ID, Google) are accepted. The provider is a scripted `fetch`: no network.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { SignInError, memoryStorage, oidc, type AuthClient, type OidcOptions, type SignInOptions } from '../../src/index.js';
import { caught } from '../helpers/caught.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
const ISSUER = 'https://op.example.com';
const CLIENT_ID = 'spa';
const REDIRECT = 'https://app.example.com/cb';
const now = () => Math.floor(Date.now() / 1000);
const b64u = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** A JWT with these header and claims; the signature is never checked (the ID token comes over TLS, step 6). */
const jwt = (header: unknown, claims: unknown) => `${b64u(header)}.${b64u(claims)}.c2ln`;
const defined = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined));

interface Script {
  /** Merged over valid metadata (`undefined` drops a member). */
  metadata: Record<string, unknown>;
  /** The whole metadata document, as text, instead. */
  rawMetadata?: string;
  /** Merged over the ID token's valid header and claims. */
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  /** The ID token as given, instead of one made from header and claims. */
  idToken?: string;
  /** Merged over the valid token response. */
  body: Record<string, unknown>;
  /** The whole token response, as text, instead (`{{id_token}}` is replaced by the valid ID token). */
  rawBody?: string;
  status: number;
}

let script: Script;
let requests: { url: string; init?: RequestInit }[];
/** The nonce of the last authorization request: a valid ID token echoes it. */
let nonce = '';

const provider: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  requests.push({ url: url.href, init });
  const json = (status: number, body: unknown) =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  if (url.pathname.endsWith('/.well-known/openid-configuration')) {
    const metadata = { issuer: ISSUER, authorization_endpoint: `${ISSUER}/authorize`, token_endpoint: `${ISSUER}/token`, revocation_endpoint: `${ISSUER}/revoke` };
    return json(200, script.rawMetadata ?? defined({ ...metadata, ...script.metadata }));
  }
  if (url.pathname === '/token') {
    const claims = defined({ iss: ISSUER, sub: 'carol', aud: CLIENT_ID, iat: now(), exp: now() + 300, nonce, ...script.claims });
    const idToken = script.idToken ?? jwt(defined({ alg: 'RS256', ...script.header }), claims);
    const body = { access_token: 'at-1', token_type: 'Bearer', expires_in: 300, refresh_token: 'rt-1', id_token: idToken, ...script.body };
    return json(script.status, script.rawBody?.replace('{{id_token}}', idToken) ?? defined(body));
  }
  if (url.pathname === '/revoke') return new Response(null, { status: 200 });
  return json(404, { error: 'not_found' });
};

const tokenRequests = () => requests.filter((r) => r.url.endsWith('/token')).length;

function client(options: Partial<OidcOptions> = {}, warnings: unknown[] = []): AuthClient {
  return createClient({
    storage: memoryStorage(),
    fetch: provider,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
    refresh: oidc({ issuer: ISSUER, clientId: CLIENT_ID, redirectUri: REDIRECT, ...options }),
  });
}

/** Start a sign-in; resolve its `state` (the provider's `nonce` is remembered for the ID token). */
async function start(auth: AuthClient, options: SignInOptions = {}): Promise<string> {
  let url = '';
  await auth.signIn({ ...options, openUrl: (u) => void (url = u) });
  const params = new URL(url).searchParams;
  nonce = params.get('nonce') ?? '';
  return params.get('state') ?? '';
}

/** Sign in and answer with `query(state)` (default: a code for it); resolve the outcome. */
async function signIn(query: (state: string) => string = (s) => `code=c0de&state=${s}`, options: { oidc?: Partial<OidcOptions>; signIn?: SignInOptions } = {}) {
  const auth = client(options.oidc);
  const state = await start(auth, options.signIn);
  const outcome = await auth.handleRedirect(`${REDIRECT}?${query(state)}`).then(
    () => undefined,
    (error: unknown) => error,
  );
  return { auth, error: outcome };
}

/** The sign-in must fail with SignInError `reason` and leave nothing stored. */
async function expectRefused(result: { auth: AuthClient; error: unknown }, reason = 'invalid-response') {
  expect(result.error).toBeInstanceOf(SignInError);
  expect(result.error).toMatchObject({ reason });
  expect(result.auth.session).toEqual({ status: 'signed-out' });
  expect(await result.auth.getAccessToken()).toBeUndefined();
}

beforeEach(() => {
  script = { metadata: {}, header: {}, claims: {}, body: {}, status: 200 };
  requests = [];
});

describe('the authorization response (a hostile callback URL): refused before the code is used', () => {
  for (const [label, query, metadata] of [
    ['a JARM response', (s: string) => `response=eyJ.x.y&code=c0de&state=${s}`],
    ['an empty JARM response parameter', (s: string) => `response=&code=c0de&state=${s}`],
    ['an iss naming another issuer', (s: string) => `code=c0de&state=${s}&iss=https%3A%2F%2Fevil.example`],
    ['an iss with a trailing slash', (s: string) => `code=c0de&state=${s}&iss=${encodeURIComponent(`${ISSUER}/`)}`],
    ['no iss where the provider promises one (RFC 9207)', (s: string) => `code=c0de&state=${s}`, { authorization_response_iss_parameter_supported: true }],
    ['an empty iss where the provider promises one', (s: string) => `code=c0de&state=${s}&iss=`, { authorization_response_iss_parameter_supported: true }],
    ['iss twice (the right one first)', (s: string) => `code=c0de&state=${s}&iss=${encodeURIComponent(ISSUER)}&iss=x`],
    ['state twice (both right)', (s: string) => `code=c0de&state=${s}&state=${s}`],
    ['code twice', (s: string) => `code=c0de&code=other&state=${s}`],
    ['an empty code', (s: string) => `code=&state=${s}`],
    ['an implicit access token', (s: string) => `code=c0de&state=${s}&token=at`],
    ['a hybrid ID token', (s: string) => `code=c0de&state=${s}&id_token=${jwt({ alg: 'RS256' }, {})}`],
    ['an error without an iss where the provider promises one', (s: string) => `error=access_denied&state=${s}`, { authorization_response_iss_parameter_supported: true }],
    ['error twice', (s: string) => `error=access_denied&error=login_required&state=${s}`],
  ] as const) {
    it(`refuses ${label} (invalid-response)`, async () => {
      script.metadata = { ...metadata };
      await expectRefused(await signIn(query));
      expect(tokenRequests()).toBe(0);
    });
  }

  it('an error together with a code is the provider’s error (its reason), and the code is not used', async () => {
    for (const [error, reason] of [['access_denied', 'access-denied'], ['login_required', 'login-required'], ['server_error', 'server-error'], ['invalid_scope', 'invalid-response']]) {
      const result = await signIn((s) => `code=c0de&error=${error}&state=${s}&iss=${encodeURIComponent(ISSUER)}`);
      await expectRefused(result, reason);
      expect(result.error).toMatchObject({ oauthError: error });
    }
    expect(tokenRequests()).toBe(0);
  });

  it('a hostile error code reaches neither message nor oauthError as sent', async () => {
    const hostile = `<img src=x onerror=alert(1)>${'x'.repeat(5000)}`;
    const result = await signIn((s) => `error=${encodeURIComponent(hostile)}&state=${s}`);
    await expectRefused(result);
    expect(result.error).toMatchObject({ oauthError: 'unknown' });
    expect((result.error as Error).message).not.toContain('<img');
  });

  it('a state that belongs to no sign-in here (forged, __proto__, huge) is invalid-state', async () => {
    for (const state of ['forged', '__proto__', 'constructor', 'x'.repeat(100_000)]) {
      const auth = client();
      await start(auth);
      await expectRefused({ auth, error: await caught(auth.handleRedirect(`${REDIRECT}?code=c0de&state=${state}`)) }, 'invalid-state');
    }
    expect(tokenRequests()).toBe(0);
  });

  it('accepts what Keycloak sends: iss (promised), session_state, and the code', async () => {
    script.metadata = { authorization_response_iss_parameter_supported: true };
    const { auth, error } = await signIn((s) => `state=${s}&session_state=abc&iss=${encodeURIComponent(ISSUER)}&code=c0de`);
    expect(error).toBeUndefined();
    expect(auth.session.user?.sub).toBe('carol');
  });
});

describe('the token response (RFC 6749 section 5.1)', () => {
  /** An ID token no check would pass: another issuer, subject and audience, long expired. */
  const UNCHECKED = jwt({ alg: 'RS256' }, { iss: 'https://evil.example', sub: 'mallory', aud: 'other', iat: 1, exp: 2 });

  for (const [label, body] of [
    ['no token_type', { token_type: undefined }],
    ['an empty token_type', { token_type: '' }],
    ['a token_type this client cannot use', { token_type: 'mac' }],
    ['a token_type that is not a string', { token_type: ['Bearer'] }],
    ['no access_token', { access_token: undefined }],
    ['an empty access_token', { access_token: '' }],
    ['an access_token that is a number', { access_token: 12345 }],
    ['an access_token that would split a header', { access_token: 'at-1\r\nx-evil: 1' }],
    ['no id_token (the request carried a nonce)', { id_token: undefined }],
    ['an id_token that is not a string', { id_token: { sub: 'carol' } }],
    ['a negative expires_in', { expires_in: -1 }],
    ['an expires_in that is no number', { expires_in: 'soon' }],
    ['an expires_in that is true', { expires_in: true }],
    ['an expires_in that is null', { expires_in: null }],
    ['an expires_in that is an array', { expires_in: [300] }],
    ['an expires_in that is "Infinity"', { expires_in: 'Infinity' }],
    ['an expires_in so large that no expiry is left', { expires_in: 1e306 }],
    ['an empty refresh_token', { refresh_token: '' }],
    ['a refresh_token that is null', { refresh_token: null }],
    ['a refresh_token that is a number', { refresh_token: 42 }],
    ['a refresh_token with control characters', { refresh_token: 'rt\u0000\u001b' }],
    ['a scope that is an array', { scope: ['openid'] }],
  ] as const) {
    it(`refuses ${label} (invalid-response) and stores nothing`, async () => {
      script.body = body;
      await expectRefused(await signIn());
    });
  }

  for (const [label, raw] of [
    ['JSON that is an array', '[{"access_token":"at-1","token_type":"Bearer","id_token":"{{id_token}}"}]'],
    ['JSON null', 'null'],
    ['a JSON string', '"at-1"'],
    ['no JSON at all', '<html>welcome</html>'],
    ['every member only under __proto__', '{"__proto__":{"access_token":"at-1","token_type":"Bearer","id_token":"{{id_token}}"}}'],
    ['token_type only under __proto__', '{"access_token":"at-1","id_token":"{{id_token}}","__proto__":{"token_type":"Bearer"}}'],
    ['a checked id_token but another ID token as idToken', `{"access_token":"at-1","token_type":"Bearer","id_token":"{{id_token}}","accessToken":"at-2","idToken":"${UNCHECKED}"}`],
  ] as const) {
    it(`refuses ${label} (invalid-response)`, async () => {
      script.rawBody = raw;
      await expectRefused(await signIn());
    });
  }

  it('refuses a 2xx other than 200 (201, 203, 206)', async () => {
    for (const status of [201, 203, 206]) {
      script.status = status;
      await expectRefused(await signIn());
    }
  });

  it('refuses a token endpoint that is not https (the code is not sent)', async () => {
    script.metadata = { token_endpoint: 'http://op.example.com/token' };
    await expectRefused(await signIn());
    expect(tokenRequests()).toBe(0);
  });

  it('accepts what real providers send: "BEARER", a numeric string expires_in (Entra ID v1), DPoP, extra members', async () => {
    for (const body of [
      { token_type: 'BEARER' },
      { token_type: 'bearer', expires_in: '3599', ext_expires_in: '3599' },
      { token_type: 'DPoP' },
      { expires_in: 0, refresh_expires_in: 1800, 'not-before-policy': 0, session_state: 'x', scope: 'openid profile' },
    ]) {
      script.body = body;
      const { auth, error } = await signIn();
      expect(error, JSON.stringify(body)).toBeUndefined();
      expect(auth.session.status).toBe('active');
    }
  });
});

describe('the ID token (OIDC Core 3.1.3.7)', () => {
  const t = now();
  for (const [label, claims] of [
    ['aud as an array without this client', { aud: ['other', 'another'] }],
    ['aud as an array with this client and another, no azp', { aud: [CLIENT_ID, 'other'] }],
    ['aud as an array with this client and another, azp another', { aud: [CLIENT_ID, 'other'], azp: 'other' }],
    ['aud as an object', { aud: { [CLIENT_ID]: true } }],
    ['aud missing', { aud: undefined }],
    ['aud null', { aud: null }],
    ['iss with a trailing slash', { iss: `${ISSUER}/` }],
    ['iss with another case', { iss: ISSUER.toUpperCase() }],
    ['iss missing', { iss: undefined }],
    ['iss as an array', { iss: [ISSUER] }],
    ['sub missing', { sub: undefined }],
    ['sub a number', { sub: 42 }],
    ['nonce missing', { nonce: undefined }],
    ['nonce another', { nonce: 'replayed' }],
    ['nonce null', { nonce: null }],
    ['nonce as an array', { nonce: ['x'] }],
    ['exp missing', { exp: undefined }],
    ['exp a string', { exp: String(t + 300) }],
    ['exp null', { exp: null }],
    ['exp past beyond the 30 s leeway', { exp: t - 31 }],
    ['exp negative', { exp: -1 }],
    ['iat missing', { iat: undefined }],
    ['iat a string', { iat: String(t) }],
    ['iat null', { iat: null }],
    ['nbf beyond the 30 s leeway', { nbf: t + 120 }],
    ['nbf a string', { nbf: '0' }],
    ['nbf null', { nbf: null }],
    ['auth_time a string', { auth_time: String(t) }],
    ['auth_time negative', { auth_time: -1 }],
    ['auth_time null', { auth_time: null }],
  ] as const) {
    it(`refuses ${label} (invalid-response)`, async () => {
      script.claims = claims;
      await expectRefused(await signIn());
    });
  }

  for (const [label, header, metadata] of [
    ['alg none (RS256 is the default without a list)', { alg: 'none' }],
    ['alg HS256 (RS256 is the default without a list)', { alg: 'HS256' }],
    ['no alg', { alg: undefined }],
    ['an alg the provider does not list', { alg: 'RS256' }, { id_token_signing_alg_values_supported: ['ES256'] }],
    ['a crit header', { crit: ['exp'] }],
    ['an empty crit header', { crit: [] }],
    ['alg "" where the list is a string', { alg: '' }, { id_token_signing_alg_values_supported: 'RS256' }],
    ['alg "RS" where the list is a string', { alg: 'RS' }, { id_token_signing_alg_values_supported: 'RS256' }],
    ['alg none where the list is a string naming it', { alg: 'none' }, { id_token_signing_alg_values_supported: 'none' }],
    ['alg none where the list is an object', { alg: 'none' }, { id_token_signing_alg_values_supported: { none: true } }],
  ] as const) {
    it(`refuses ${label} (invalid-response)`, async () => {
      script.header = header;
      script.metadata = { ...metadata };
      await expectRefused(await signIn());
    });
  }

  for (const [label, idToken] of [
    ['an encrypted ID token (5 parts)', 'a.b.c.d.e'],
    ['two parts', `${b64u({ alg: 'RS256' })}.${b64u({ sub: 'carol' })}`],
    ['a payload that is an array', jwt({ alg: 'RS256' }, [{ sub: 'carol' }])],
    ['a payload that is not JSON', `${b64u({ alg: 'RS256' })}.${b64u('sub=carol')}.c2ln`],
    ['a header that is not an object', `${b64u('"RS256"')}.${b64u({ sub: 'carol' })}.c2ln`],
    ['claims only under __proto__', `${b64u({ alg: 'RS256' })}.${b64u(`{"__proto__":{"iss":"${ISSUER}","sub":"carol","aud":"${CLIENT_ID}","iat":1,"exp":9999999999}}`)}.c2ln`],
  ] as const) {
    it(`refuses ${label} (invalid-response)`, async () => {
      script.idToken = idToken;
      await expectRefused(await signIn());
    });
  }

  it('with maxAge, refuses a missing or stale auth_time, also when an untyped app passes maxAge as a string', async () => {
    for (const [authTime, maxAge] of [[undefined, 60], [now() - 3600, 60], [now() - 3600, '60'], [now() - 3600, 'abc'], [now() - 3600, Infinity]] as const) {
      script.claims = { auth_time: authTime };
      await expectRefused(await signIn(undefined, { signIn: { maxAge: maxAge as number } }));
    }
  });

  it('accepts what real providers send', async () => {
    for (const [claims, header, metadata] of [
      [{ aud: [CLIENT_ID] }, {}, {}], // a one-element array, no azp
      [{ aud: [CLIENT_ID, 'https://api.example.com'], azp: CLIENT_ID }, {}, {}], // Keycloak with an audience mapper
      [{ azp: CLIENT_ID, email_verified: true, at_hash: 'x' }, {}, {}], // Google
      [{ exp: now() - 10, nbf: now() + 10, iat: now() + 10 }, {}, {}], // clocks a little apart, within the leeway
      [{ exp: now() + 300.5, iat: now() + 0.25, auth_time: now() - 5 }, {}, {}], // fractional times
      [{}, { alg: 'HS256' }, { id_token_signing_alg_values_supported: ['HS256', 'RS256'] }], // Auth0, HS256 app
      [{}, { alg: 'ES256', kid: 'k', typ: 'JWT' }, { id_token_signing_alg_values_supported: ['ES256'] }],
    ] as const) {
      script.claims = claims;
      script.header = header;
      script.metadata = metadata;
      const { auth, error } = await signIn(undefined, { signIn: { maxAge: 'auth_time' in claims ? 60 : undefined } });
      expect(error, JSON.stringify([claims, header])).toBeUndefined();
      expect(auth.session.user?.sub).toBe('carol');
    }
  });

  it('accepts Auth0’s issuer with its trailing slash, where metadata and ID token both have it', async () => {
    script.metadata = { issuer: `${ISSUER}/` };
    script.claims = { iss: `${ISSUER}/` };
    const { auth, error } = await signIn(undefined, { oidc: { issuer: `${ISSUER}/` } });
    expect(error).toBeUndefined();
    expect(auth.session.status).toBe('active');
  });
});

describe('discovery (OIDC Discovery 4, RFC 8414 section 3)', () => {
  for (const [label, metadata, raw] of [
    ['another issuer', { issuer: 'https://evil.example' }],
    ['the issuer with a trailing slash the configured path issuer lacks', { issuer: `${ISSUER}/tenant/` }],
    ['no issuer', { issuer: undefined }],
    ['an issuer that is an array', { issuer: [`${ISSUER}/tenant`] }],
    ['an issuer that is an object', { issuer: { href: `${ISSUER}/tenant` } }],
    ['a document that is an array', {}, `[{"issuer":"${ISSUER}/tenant"}]`],
    ['a javascript: authorization endpoint (script in the app’s origin)', { issuer: `${ISSUER}/tenant`, authorization_endpoint: 'javascript:alert(document.domain)//' }],
    ['a javascript: end-session endpoint', { issuer: `${ISSUER}/tenant`, end_session_endpoint: 'javascript:alert(document.domain)//' }],
    ['a data: authorization endpoint', { issuer: `${ISSUER}/tenant`, authorization_endpoint: 'data:text/html,<script>alert(1)</script>' }],
    ['a document that is not JSON', {}, 'issuer=x'],
  ] as const) {
    it(`refuses metadata with ${label} (TokenResponseError), and no sign-in starts`, async () => {
      script.metadata = { ...metadata };
      script.rawMetadata = raw;
      const auth = client({ issuer: `${ISSUER}/tenant` });
      await expect(auth.signIn({ openUrl: () => undefined })).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE' });
    });
  }


  it('fetches the metadata from the issuer’s host only, also for an issuer path that starts with //', async () => {
    const issuer = `${ISSUER}//evil.example`;
    script.metadata = { issuer };
    await client({ issuer }).signIn({ openUrl: () => undefined }).catch(() => undefined);
    expect(requests.length).toBeGreaterThan(0);
    for (const { url, init } of requests) {
      expect(new URL(url).host).toBe('op.example.com');
      expect(init?.redirect).toBe('manual');
    }
  });
});

describe('revocation at logout (RFC 7009)', () => {
  async function signedIn(): Promise<{ auth: AuthClient; warnings: unknown[] }> {
    const warnings: unknown[] = [];
    const auth = client({}, warnings);
    const state = await start(auth);
    await auth.handleRedirect(`${REDIRECT}?code=c0de&state=${state}`);
    expect(auth.session.status).toBe('active');
    return { auth, warnings };
  }

  it('revokes the refresh token at the https endpoint, with redirects not followed', async () => {
    const { auth } = await signedIn();
    await auth.logout();
    const revoke = requests.find((r) => r.url.endsWith('/revoke'));
    expect(revoke?.init?.redirect).toBe('manual');
    expect(new URLSearchParams(String(revoke?.init?.body)).get('token')).toBe('rt-1');
  });

  it('never sends the token to a revocation endpoint that is plain http off this machine', async () => {
    script.metadata = { revocation_endpoint: 'http://op.example.com/revoke' };
    const { auth, warnings } = await signedIn();
    await auth.logout();
    expect(auth.session.status).toBe('signed-out');
    expect(requests.some((r) => r.url.endsWith('/revoke'))).toBe(false);
    expect(warnings).toHaveLength(1);
  });
});
