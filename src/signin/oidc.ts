/**
 * `oidc()`: sign-in with the authorization code flow and PKCE (OAuth 2.0 / OpenID Connect), and the refresh strategy
 * that renews the tokens it obtained at the discovered token endpoint. Built on oauth4webapi; this module (and so
 * oauth4webapi) is only in an app's bundle when the app imports `oidc` (bench/size.mjs checks it).
 */
import * as oauth from 'oauth4webapi';
import { errorFromFailure, SessionExpiredError, TokenResponseError } from '../errors.js';
import { refreshFailure } from '../refresh/http.js';
import type { RefreshContext, RefreshStrategy } from '../refresh/types.js';
import { normalizeTokens } from '../tokens.js';
import type { TokenSet } from '../types.js';
import { SIGN_IN, type SignInCapable, type SignInController, type SignInHost } from './hook.js';
import { idTokenClaims } from './id-token.js';
import { isLoopbackHttp, type OidcEndpoints } from './metadata.js';
import { Provider, type ClientAuthMethod } from './provider.js';
import { OidcSignIn } from './sign-in.js';
import { tokenRequest } from './token-request.js';

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
    refresh: (context) => refreshTokens(provider, context),
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
 * The refresh_token grant (RFC 6749 section 6) at the discovered token endpoint: a rotated refresh token replaces the
 * old one, `invalid_grant` ends the session, a new ID token is validated and must name the same user (OIDC Core 12.2).
 */
async function refreshTokens(provider: Provider, context: RefreshContext): Promise<TokenSet> {
  const { tokens: previous, signal, fetch: fetchFn } = context;
  const refreshToken = previous?.refreshToken;
  if (!refreshToken) throw new SessionExpiredError(undefined, { reason: 'no-refresh-token' });
  const as = await provider.metadata.get(fetchFn, signal);
  const url = as.token_endpoint as string;
  const { response, error } = await tokenRequest(url, context.dpop, async (headers) => {
    try {
      return await oauth.refreshTokenGrantRequest(as, provider.client, provider.clientAuth, refreshToken, provider.requestOptions(fetchFn, signal, headers));
    } catch (failure) {
      throw errorFromFailure(failure, { method: 'POST', url });
    }
  });
  if (error === 'invalid_grant') {
    await response.body?.cancel();
    throw new SessionExpiredError('The refresh token was rejected (invalid_grant)', { reason: 'refresh-rejected' });
  }
  if (!response.ok) throw await refreshFailure(response, 'POST', url);
  const receivedAt = Date.now();
  let result: oauth.TokenEndpointResponse;
  try {
    result = await oauth.processRefreshTokenResponse(as, provider.client, response);
  } catch (cause) {
    throw new TokenResponseError(undefined, { cause, status: response.status });
  }
  // OIDC Core 12.2: a new ID token names the same user.
  const before = idTokenClaims(previous.idToken)?.sub;
  if (result.id_token !== undefined && before !== undefined && idTokenClaims(result.id_token)?.sub !== before) {
    throw new TokenResponseError('The refreshed ID token names another user');
  }
  return normalizeTokens(result, { receivedAt }, previous);
}
