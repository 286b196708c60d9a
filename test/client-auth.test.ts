/**
 * `oauth2Refresh({ clientAuth })` (issue 10 item 6; RFC 6749 section 2.3.1): Basic is the default with a secret and
 * carries the form-urlencoded id and secret; `client_secret_post` puts them in the form; `none` sends only
 * `client_id`. Proved against a token endpoint that takes Basic only, and against oidc-provider.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Refresh, type AuthClient, type ClientAuthMethod } from '../src/index.js';
import { useClients } from './helpers/example.js';
import { startOidcProvider, type OidcHarness } from './helpers/oidc.js';
import { startTokenEndpoint, tokens, type TokenEndpoint, type TokenRequest } from './helpers/token-endpoint.js';

const createClient = useClients();

// An id and a secret with what Appendix B encodes: a naive `btoa(id + ':' + secret)` gets them wrong.
const CLIENT_ID = 'my app:1';
const CLIENT_SECRET = 'p%ss w:rd+/=&é';

/** RFC 6749 2.3.1 read back as a server would: base64, split at the first colon, form-decode each part. */
function basicCredentials(request: TokenRequest): [string, string] | undefined {
  const header = request.headers.authorization;
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  const formDecode = (value: string) => new URLSearchParams(`v=${value}`).get('v') ?? '';
  return [formDecode(decoded.slice(0, colon)), formDecode(decoded.slice(colon + 1))];
}

describe('against a token endpoint that accepts HTTP Basic only', () => {
  let server: TokenEndpoint;
  beforeAll(async () => {
    server = await startTokenEndpoint((request) => {
      const credentials = basicCredentials(request);
      const ok =
        credentials?.[0] === CLIENT_ID &&
        credentials[1] === CLIENT_SECRET &&
        request.form.client_secret === undefined &&
        request.form.refresh_token === 'rt-1';
      return ok ? tokens('at-2', 'rt-2') : { status: 401, body: { error: 'invalid_client' }, headers: { 'www-authenticate': 'Basic' } };
    });
  });
  afterAll(() => server.close());
  afterEach(() => {
    server.requests.length = 0;
  });

  async function refreshWith(clientAuth: ClientAuthMethod | undefined): Promise<AuthClient> {
    const auth = createClient({
      refresh: oauth2Refresh({ tokenEndpoint: server.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientAuth }),
    });
    await auth.login({ access_token: 'at-1', refresh_token: 'rt-1', expires_in: 300 });
    return auth;
  }

  it('Basic is the default with a secret: the id and secret are form-urlencoded, the secret is not in the form', async () => {
    const auth = await refreshWith(undefined);
    await auth.refresh();
    expect(await auth.getAccessToken()).toBe('at-2');
    const [request] = server.requests;
    expect(request?.headers.authorization).toBe(`Basic ${btoa('my+app%3A1:p%25ss+w%3Ard%2B%2F%3D%26%C3%A9')}`);
    expect(request?.form).toEqual({ grant_type: 'refresh_token', refresh_token: 'rt-1' });
  });

  it("client_secret_post is refused by it: the answer is invalid_client, reported as TokenResponseError", async () => {
    const auth = await refreshWith('client_secret_post');
    await expect(auth.refresh()).rejects.toMatchObject({ code: 'ERR_TOKEN_RESPONSE', oauthError: 'invalid_client', action: 'contact-support' });
    expect(server.requests[0]?.form).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(server.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('options are checked when the strategy is made', () => {
  it('refuses a secret without a way to send it, a method that needs a secret without one, and unknown methods', () => {
    const base = { tokenEndpoint: 'https://auth.example/token', clientId: 'spa' };
    expect(() => oauth2Refresh({ ...base, clientSecret: 's', clientAuth: 'none' })).toThrow(TypeError);
    expect(() => oauth2Refresh({ ...base, clientAuth: 'client_secret_basic' })).toThrow("clientAuth 'client_secret_basic' does not fit no clientSecret");
    expect(() => oauth2Refresh({ ...base, clientAuth: 'private_key_jwt' as ClientAuthMethod })).toThrow(/clientAuth/);
    expect(() => oauth2Refresh(base)).not.toThrow();
  });
});

describe.each(['client_secret_basic', 'client_secret_post'] as const)('against oidc-provider with %s only', (method) => {
  let op: OidcHarness;
  beforeAll(async () => {
    op = await startOidcProvider({ clientAuth: method });
  });
  afterAll(() => op.close());

  // oidc-provider takes either secret method from a client registered with one of them (both are "client_secret"
  // methods to it), so the refusal of the wrong one is shown by the Basic-only endpoint above; here the client's own
  // fetch records what went on the wire.
  it('refreshes with that method', async () => {
    const initial = await op.obtainTokens();
    const sent: { authorization: string | null; body: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input) === op.tokenEndpoint) {
        sent.push({ authorization: new Headers(init?.headers).get('authorization'), body: String(init?.body) });
      }
      return fetch(input, init);
    };
    const auth = createClient({
      fetch: recording,
      refresh: oauth2Refresh({ tokenEndpoint: op.tokenEndpoint, clientId: op.clientId, clientSecret: op.clientSecret, clientAuth: method }),
    });
    await auth.login(initial as { access_token: string; refresh_token: string });
    await auth.refresh();
    const renewed = await auth.getAccessToken();
    expect(renewed).not.toBe(initial.access_token);
    expect((await op.introspect(renewed ?? '')).active).toBe(true);
    expect(op.stats.refreshSucceeded).toBe(1);
    const form = new URLSearchParams(sent[0]?.body);
    if (method === 'client_secret_basic') {
      expect(sent[0]?.authorization).toMatch(/^Basic /);
      expect(form.has('client_secret')).toBe(false);
    } else {
      expect(sent[0]?.authorization).toBeNull();
      expect(form.get('client_secret')).toBe(op.clientSecret);
    }
  });
});
