/**
 * Step-up (RFC 9470) with `oidc()` and `loginRequired: 'wait'`: a request that meets `insufficient_user_authentication`
 * is held (`loginRequired` with reason `'step-up'`, `acrValues`, `maxAge`) and replayed once the stronger sign-in
 * stored new tokens; in `'reject'` mode the 401 is the answer; a logout rejects the held request. The provider is
 * oidc-provider (the acr reached comes from its login); the API is a small server that demands that acr.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryStorage, oidc, type AuthClient, type AuthEvents, type LoginRequiredMode } from '../../src/index.js';
import { useClients } from '../helpers/example.js';
import { startOidcProvider, type OidcHarness } from '../helpers/oidc.js';

const createClient = useClients();
const REDIRECT = 'http://127.0.0.1/app/callback';
const MFA = 'urn:authfetch:mfa';

describe('step-up with oidc()', () => {
  let op: OidcHarness;
  let api: Server;
  let apiUrl: string;
  let hits = 0;

  beforeAll(async () => {
    op = await startOidcProvider({
      acrValues: ['urn:authfetch:pwd', MFA],
      // The login reaches the acr the sign-in asked for (a second factor in real life).
      loginResult: (accountId, params) => ({ accountId, acr: typeof params.acr_values === 'string' ? params.acr_values : 'urn:authfetch:pwd' }),
      clients: [
        {
          client_id: 'step-up-spa',
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          redirect_uris: [REDIRECT],
          id_token_signed_response_alg: 'ES256',
        },
      ],
    });
    // The API reads the acr of the token by introspection and demands MFA (RFC 9470 section 3).
    api = createServer((req, res) => {
      hits++;
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      void op.introspect(token).then((info) => {
        if (info.active !== true) {
          res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
        } else if (info.acr !== MFA) {
          res
            .writeHead(401, { 'www-authenticate': `Bearer error="insufficient_user_authentication", acr_values="${MFA}", max_age="0"` })
            .end();
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sub: info.sub, acr: info.acr }));
        }
      });
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => api.close(() => resolve()));
    await op.close();
  });

  async function signIn(auth: AuthClient, options: Parameters<AuthClient['signIn']>[0] = {}): Promise<void> {
    let authorizationUrl = '';
    await auth.signIn({ ...options, openUrl: (url) => void (authorizationUrl = url) });
    await auth.handleRedirect(await op.authorize(authorizationUrl, { until: REDIRECT }));
  }

  function client(mode: LoginRequiredMode): AuthClient {
    return createClient({
      baseUrl: apiUrl,
      storage: memoryStorage(),
      loginRequired: mode,
      refresh: oidc({ issuer: op.issuer, clientId: 'step-up-spa', redirectUri: REDIRECT }),
    });
  }

  it("'wait' holds the request until the stronger sign-in, then replays it", async () => {
    const auth = client('wait');
    await signIn(auth);
    const required: AuthEvents['loginRequired'][] = [];
    const stepUps: AuthEvents['stepUp'][] = [];
    auth.on('loginRequired', (event) => required.push(event));
    auth.on('stepUp', (event) => stepUps.push(event));
    hits = 0;
    const response = auth.fetch('orders/7');
    response.catch(() => undefined); // settled below; a failed expectation must not leave it unhandled
    await expect.poll(() => required).toEqual([{ reason: 'step-up', pending: 1, acrValues: [MFA], maxAge: 0 }]);
    expect(stepUps).toMatchObject([{ acrValues: [MFA], maxAge: 0, error: { code: 'ERR_UNAUTHORIZED', reason: 'step-up-required' } }]);

    const [event] = stepUps;
    await signIn(auth, { acrValues: event?.acrValues, maxAge: event?.maxAge });
    expect(auth.session.user?.acr).toBe(MFA);
    const answer = await response;
    expect(answer.status).toBe(200);
    await expect(answer.json()).resolves.toEqual({ sub: 'alice', acr: MFA });
    expect(hits).toBe(2); // the first attempt and the one replay
  });

  it("'reject' hands the step-up 401 to the app at once", async () => {
    const auth = client('reject');
    await signIn(auth);
    const response = await auth.fetch('orders/7');
    expect(response.status).toBe(401);
  });

  it('logout rejects a request held for a step-up', async () => {
    const auth = client('wait');
    await signIn(auth);
    const pending = auth.fetch('orders/7');
    await new Promise<void>((resolve) => auth.on('loginRequired', () => resolve()));
    const outcome = expect(pending).rejects.toMatchObject({ name: 'SessionExpiredError', reason: 'logout' });
    await auth.logout();
    await outcome;
  });
});
