/**
 * The provider's metadata: discovered (OpenID Connect Discovery 1.0, then RFC 8414) or given as `endpoints` for
 * servers without discovery. `Provider` keeps it.
 */
import { discardBody } from '../lib/discard-body.js';
import type * as oauth from 'oauth4webapi';
import { errorFromFailure, errorFromResponse, TokenResponseError } from '../errors/index.js';

/** Endpoints for a provider without discovery (each an absolute https URL). */
export interface OidcEndpoints {
  /** The authorization endpoint (RFC 6749 section 3.1). */
  authorization: string;
  /** The token endpoint (RFC 6749 section 3.2). */
  token: string;
  /** The revocation endpoint (RFC 7009); without it `logout()` revokes nothing. */
  revocation?: string;
  /** The end-session endpoint (OpenID Connect RP-Initiated Logout 1.0); without it `logout({ endSession: true })` signs out here only. */
  endSession?: string;
  /** Whether the provider sends RFC 9207 `iss` in every authorization response (then a response without it is refused). @default false */
  issParameterSupported?: boolean;
}

/** Whether an URL is plain `http:` on this machine: allowed for a development provider (RFC 8252 section 8.3). */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(url.hostname);
}

/**
 * The metadata of a provider without discovery, from its `endpoints`. The issuer is kept as given: the ID token's
 * `iss` must equal it exactly (OIDC Core 3.1.3.7 step 2).
 */
export function givenMetadata(issuer: string, endpoints: OidcEndpoints): oauth.AuthorizationServer {
  return {
    issuer,
    authorization_endpoint: endpoints.authorization,
    token_endpoint: endpoints.token,
    revocation_endpoint: endpoints.revocation,
    end_session_endpoint: endpoints.endSession,
    authorization_response_iss_parameter_supported: endpoints.issParameterSupported,
    // Without a list only RS256 would pass (OpenID Connect Discovery 1.0 section 3). The ID token comes straight from
    // the token endpoint over TLS, so its claims, not its signature, are what is checked (OIDC Core 3.1.3.7 step 6).
    id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'RS384', 'PS384', 'ES384', 'RS512', 'PS512', 'ES512'],
  };
}

/** Discover the metadata of `issuer`. Rejects with `NetworkError`, `HttpError`s, `TimeoutError` or `TokenResponseError`. */
export async function discover(issuer: URL, fetchFn: typeof fetch, signal: AbortSignal): Promise<oauth.AuthorizationServer> {
  const path = issuer.pathname.replace(/\/$/, '');
  const request = async (wellKnownPath: string) => {
    try {
      // `redirect: 'manual'`: the metadata names the endpoints tokens go to, so it comes from the issuer only. The
      // origin is prefixed: a path starting with `//` would otherwise be read as another host.
      return await fetchFn(issuer.origin + wellKnownPath, { headers: { accept: 'application/json' }, redirect: 'manual', signal });
    } catch (error) {
      throw errorFromFailure(error, { method: 'GET', url: issuer.href });
    }
  };
  // OpenID Connect Discovery 1.0 section 4 (appended to the issuer's path) first; a plain OAuth 2 server answers
  // 404 there and publishes RFC 8414 metadata (section 3: inserted before the issuer's path).
  let response = await request(`${path}/.well-known/openid-configuration`);
  if (response.status === 404) {
    discardBody(response);
    response = await request(`/.well-known/oauth-authorization-server${path}`);
  }
  if (!response.ok) throw await errorFromResponse(response, { method: 'GET', url: response.url || issuer.href });
  // The pages this one navigates to must be web pages: a `javascript:` one would run the provider's script here.
  const isWeb = (url: unknown) => !url || /^https?:$/.test(new URL(url as string).protocol);
  try {
    const metadata = (await response.json()) as oauth.AuthorizationServer;
    // OIDC Discovery 4.3, RFC 8414 section 3.3: the document must name the issuer it was fetched for, as a string
    // (`new URL()` would read an array `["https://..."]` as its only member).
    const { issuer: named, authorization_endpoint: authorize, end_session_endpoint: endSession } = metadata;
    if (response.status === 200 && typeof named === 'string' && new URL(named).href === issuer.href && isWeb(authorize) && isWeb(endSession)) return metadata;
  } catch {
    // not JSON, or no issuer URL (or no endpoint URL) in it
  }
  // A retry does not cure it.
  throw new TokenResponseError(`The metadata of ${issuer.origin} is unusable`, { status: response.status });
}
