/**
 * `oidc()`: sign-in with the authorization code flow and PKCE (OAuth 2.0 / OpenID Connect), and the refresh strategy
 * that renews the tokens it obtained at the discovered token endpoint. Built on oauth4webapi; this module (and so
 * oauth4webapi) is only in an app's bundle when the app imports `oidc` (bench/size.mjs checks it).
 */
import { TokenResponseError } from '../errors/index.js';
import { oauth2Refresh, type ClientAuthMethod } from '../refresh/oauth2.js';
import type { RefreshStrategy } from '../refresh/types.js';
import { SIGN_IN, type SignInCapable, type SignInController, type SignInHost } from './hook.js';
import { continuesSession } from './id-token.js';
import { isLoopbackHttp, type OidcEndpoints } from './metadata.js';
import { Provider } from './provider.js';
import { OidcSignIn } from './sign-in.js';

/** Options of `oidc()`. */
export interface OidcOptions {
  /**
   * The provider's issuer identifier; its metadata is discovered from `/.well-known/openid-configuration`, else
   * `/.well-known/oauth-authorization-server` (RFC 8414). `https:` (plain `http:` only on localhost, for development).
   * @example 'https://login.example.com'
   */
  issuer: string;
  /** This app's `client_id` at the provider. */
  clientId: string;
  /**
   * Where the provider sends the browser back after sign-in; registered with the provider. The page there calls
   * `auth.handleRedirect()`. For popups it may be the same page.
   * @example 'https://app.example.com/callback'
   */
  redirectUri: string;
  /**
   * The scopes asked for. `openid` makes it OpenID Connect (an ID token, `session.user`); `offline_access` asks for a
   * refresh token at most providers.
   * @default 'openid offline_access'
   */
  scope?: string;
  /** Where the provider sends the browser after `logout({ endSession: true })`; registered with the provider. */
  postLogoutRedirectUri?: string;
  /**
   * The endpoints of a provider without discovery; when given, nothing is discovered.
   * @example { authorization: 'https://auth.example.com/authorize', token: 'https://auth.example.com/token' }
   */
  endpoints?: OidcEndpoints;
  /** Only for confidential clients (a server-side app, a worker): never put a secret in an SPA. */
  clientSecret?: string;
  /**
   * How the client authenticates at the token and revocation endpoints.
   * @default 'client_secret_basic' with a clientSecret, else 'none'
   */
  clientAuth?: ClientAuthMethod;
  /**
   * More parameters for every authorization request, e.g. an `audience` (Auth0) or `resource` (RFC 8707).
   * @example { audience: 'https://api.example.com' }
   */
  extraAuthParams?: Record<string, string>;
}

/** The strategy `oidc()` returns: a refresh strategy that also signs users in. */
export type OidcStrategy = RefreshStrategy & SignInCapable;

/**
 * Sign-in with the authorization code flow and PKCE (S256), `state` and `nonce`, the provider's metadata discovered
 * (or given), RFC 9207 `iss` checked, and the ID token's claims validated and exposed as `auth.session.user`. Pass it
 * as the `refresh` option: it also refreshes at the token endpoint like `oauth2Refresh` (with `client_secret_basic`
 * for a confidential client in Node or a worker). With the client's `dpop` option the code is bound to the key
 * (`dpop_jkt`) and every token request carries a proof.
 *
 * @example
 * ```ts
 * import { createAuthClient, oidc } from 'authfetch';
 *
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.com',
 *   refresh: oidc({ issuer: 'https://login.example.com', clientId: 'my-spa', redirectUri: `${location.origin}/callback` }),
 * });
 * await auth.handleRedirect(); // on every start: finishes a sign-in when the URL is the provider's answer
 * if (auth.session.status === 'signed-out') await auth.signIn();
 * ```
 */
export function oidc(options: OidcOptions): OidcStrategy {
  const provider = new Provider(options);
  const redirectUri = checkedRedirect('redirectUri', options.redirectUri);
  const postLogoutRedirectUri =
    options.postLogoutRedirectUri === undefined ? undefined : checkedRedirect('postLogoutRedirectUri', options.postLogoutRedirectUri);
  const scope = options.scope ?? 'openid offline_access';

  return {
    requiresRefreshToken: true,
    refresh: refreshAtProvider(provider, options),
    [SIGN_IN](host: SignInHost): SignInController {
      return new OidcSignIn({ provider, redirectUri, scope, postLogoutRedirectUri, extraAuthParams: options.extraAuthParams }, host);
    },
  };
}

function checkedRedirect(name: string, value: string): string {
  // Absolute, https (http only on this machine: the code travels in it), no fragment (RFC 6749 section 3.1.2).
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || url.hash || (url.protocol !== 'https:' && !isLoopbackHttp(url))) {
    throw new TypeError(`authfetch: oidc() ${name} must be https, without a fragment`);
  }
  // As written: providers compare redirect URIs as strings, and parsing would add a slash to a bare origin.
  return value;
}

/**
 * The refresh at the discovered token endpoint: exactly `oauth2Refresh` (RFC 6749 section 6: rotation, `invalid_grant`
 * ends the session, client authentication, DPoP proofs and nonces), made once the endpoint is known. A new ID token
 * in the answer must continue the session's (OIDC Core 12.2).
 */
function refreshAtProvider(provider: Provider, options: OidcOptions): RefreshStrategy['refresh'] {
  let current: { endpoint: string; strategy: RefreshStrategy } | undefined;
  return async (context) => {
    const as = await provider.metadata(context.fetch, context.signal);
    const endpoint = as.token_endpoint as string;
    if (current?.endpoint !== endpoint) {
      const { clientId, clientSecret, clientAuth } = options;
      current = { endpoint, strategy: oauth2Refresh({ tokenEndpoint: endpoint, clientId, clientSecret, clientAuth }) };
    }
    const tokens = await current.strategy.refresh(context);
    if (!continuesSession(context.tokens?.idToken, tokens.idToken)) {
      throw new TokenResponseError('The refreshed ID token does not continue the session (OIDC Core 12.2)');
    }
    return tokens;
  };
}
