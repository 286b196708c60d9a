// @ts-check
/**
 * The example identity provider: oidc-provider (OpenID Certified), run next to the example API so the example app
 * signs in the way a real SPA does, with the authorization code flow and PKCE (`oidc()` in authfetch).
 *
 * Development settings, for the example only: an `http://127.0.0.1` issuer, in-memory storage, oidc-provider's
 * development login form (any user name, any password). A sign-in that asks for the `mfa` authentication context
 * (`acr_values=mfa`, RFC 9470 step-up) reaches it with the same form here; a real provider asks for a second factor.
 *
 * @example
 * const identity = await startIdentityProvider({ appOrigin: 'http://127.0.0.1:8787' });
 * exampleServer.useIdentityProvider(identity); // the API accepts its tokens (by introspection)
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';

/** The example app's client id at the identity provider. */
export const IDENTITY_CLIENT_ID = 'demo-spa';
/** The step-up authentication context the example API's `/api/step-up` demands. */
export const MFA_ACR = 'mfa';

/**
 * @typedef {object} IdentityProviderOptions
 * @property {string} appOrigin the example app's origin: its page is the redirect URI and the post-logout redirect URI
 * @property {string} [host] default `'127.0.0.1'`
 * @property {number} [port] default `0` (a free port)
 * @property {number} [accessTokenTtl] seconds, default `300`
 */

/**
 * @typedef {object} IdentityProvider
 * @property {string} issuer
 * @property {string} clientId
 * @property {(token: string) => Promise<Record<string, unknown>>} introspect the provider's answer for an access token (RFC 7662)
 * @property {() => Promise<void>} close
 */

/**
 * Start the identity provider. Resolves once it listens.
 * @param {IdentityProviderOptions} options
 * @returns {Promise<IdentityProvider>}
 */
export async function startIdentityProvider(options) {
  const { default: Provider, interactionPolicy } = await import('oidc-provider');
  // Step-up (RFC 9470): a sign-in that asks for mfa while the session has a weaker level goes through the login form
  // again, even when the session is recent (acr_values is only a wish in OIDC Core; this provider honours it).
  const policy = interactionPolicy.base();
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('acr_not_reached', 'the requested authentication level is not reached', (/** @type {any} */ ctx) => {
      const wanted = String(ctx.oidc.params.acr_values ?? '').split(' ');
      return wanted.includes(MFA_ACR) && ctx.oidc.session?.acr !== MFA_ACR;
    }),
  );
  const server = http.createServer();
  await new Promise((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const issuer = `http://${options.host ?? '127.0.0.1'}:${address.port}`;
  const apiSecret = randomBytes(24).toString('base64url');
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: IDENTITY_CLIENT_ID,
        token_endpoint_auth_method: 'none', // a public client: an SPA holds no secret
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [`${options.appOrigin}/`],
        post_logout_redirect_uris: [`${options.appOrigin}/`],
        id_token_signed_response_alg: 'ES256',
      },
      {
        // The example API's own client, only to introspect tokens.
        client_id: 'demo-api',
        client_secret: apiSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        id_token_signed_response_alg: 'ES256', // the only key the provider has
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: 'example', alg: 'ES256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    acrValues: ['pwd', MFA_ACR],
    interactions: { policy },
    claims: { openid: ['sub'], profile: ['name'] },
    // The user's name in the ID token itself (session.user), not only at the userinfo endpoint.
    conformIdTokenClaims: false,
    findAccount: async (/** @type {unknown} */ _ctx, /** @type {string} */ sub) => ({
      accountId: sub,
      claims: async () => ({ sub, name: sub.charAt(0).toUpperCase() + sub.slice(1) }),
    }),
    ttl: { AccessToken: options.accessTokenTtl ?? 300, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 86400, Grant: 86400, RefreshToken: 86400 },
    rotateRefreshToken: true,
    clientBasedCORS: (/** @type {unknown} */ _ctx, /** @type {string} */ origin) => origin === options.appOrigin,
    // The acr of the sign-in travels with the access token, so the API can ask for a step-up (RFC 9470).
    extraTokenClaims: async (/** @type {{ oidc?: { entities?: Record<string, { acr?: string } | undefined> } }} */ ctx) => {
      const entities = ctx.oidc?.entities;
      const acr = entities?.AuthorizationCode?.acr ?? entities?.RefreshToken?.acr;
      return acr ? { acr } : undefined;
    },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      introspection: {
        enabled: true,
        allowedPolicy: async (/** @type {unknown} */ _ctx, /** @type {{ clientId: string }} */ client) => client.clientId === 'demo-api',
      },
      resourceIndicators: { enabled: false },
      dPoP: { enabled: false },
    },
  });

  const callback = provider.callback();
  server.on('request', (req, res) => {
    // The login form's submission: finish it here to record the acr asked for (the development form has no
    // second factor). Everything else is oidc-provider's.
    if (req.method === 'POST' && /^\/interaction\/[^/]+$/.test(req.url ?? '')) {
      finishLogin(provider, req, res).then((handled) => handled || callback(req, res), () => res.destroy());
      return;
    }
    callback(req, res);
  });

  return {
    issuer,
    clientId: IDENTITY_CLIENT_ID,
    async introspect(token) {
      const response = await fetch(`${issuer}/token/introspection`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`demo-api:${apiSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token }),
      });
      return /** @type {Record<string, unknown>} */ (await response.json());
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * @param {any} provider
 * @param {http.IncomingMessage} req
 * @param {http.ServerResponse} res
 * @returns {Promise<boolean>} false for other prompts (consent), which oidc-provider handles
 */
async function finishLogin(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name !== 'login') return false;
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const login = new URLSearchParams(Buffer.concat(chunks).toString('utf8')).get('login') || 'alice';
  const acr = String(details.params.acr_values ?? '').split(' ').includes(MFA_ACR) ? MFA_ACR : 'pwd';
  await provider.interactionFinished(req, res, { login: { accountId: login, acr } }, { mergeWithLastSubmission: false });
  return true;
}
