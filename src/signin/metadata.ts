/**
 * The provider's metadata: discovered (OpenID Connect Discovery 1.0, then RFC 8414) or given as `endpoints` for
 * servers without discovery. Fetched once per strategy and shared by every sign-in, refresh and logout; a failed
 * discovery is not cached, so the next call tries again.
 */
import * as oauth from 'oauth4webapi';
import { errorFromFailure, errorFromResponse, TokenResponseError } from '../errors.js';

/** Endpoints for a provider without discovery (each an absolute URL). */
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

/** Loopback hosts, where an `http:` provider is allowed (a development provider on this machine, RFC 8252 section 8.3). */
const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

/** Whether an URL may be used without TLS: only on a loopback host. */
export function isLoopbackHttp(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK.test(url.hostname);
}

/** Parse an absolute https URL (or http on loopback); a `TypeError` naming the option otherwise. */
export function checkedUrl(name: string, value: unknown): URL {
  let url: URL | undefined;
  if (typeof value === 'string') {
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
  }
  if (!url || !(url.protocol === 'https:' || isLoopbackHttp(url))) {
    throw new TypeError(`authfetch: oidc() option ${name} must be an absolute https URL (http only on localhost)`);
  }
  return url;
}

/** Loads and keeps the provider's metadata. */
export class ProviderMetadata {
  readonly issuer: URL;
  /** The oauth4webapi flag that lets loopback `http:` providers through (never set for other hosts). */
  readonly insecure: boolean = false;
  #explicit: oauth.AuthorizationServer | undefined;
  #pending: Promise<oauth.AuthorizationServer> | undefined;

  constructor(issuer: string, endpoints: OidcEndpoints | undefined) {
    this.issuer = checkedUrl('issuer', issuer);
    // checkedUrl let `http:` through for loopback hosts only.
    this.insecure = this.issuer.protocol === 'http:';
    if (endpoints) {
      this.#explicit = {
        // Compared with the ID token's `iss` as written (OIDC Core 3.1.3.7 step 2), so it is kept as given.
        issuer,
        authorization_endpoint: checkedUrl('endpoints.authorization', endpoints.authorization).href,
        token_endpoint: checkedUrl('endpoints.token', endpoints.token).href,
        revocation_endpoint: endpoints.revocation === undefined ? undefined : checkedUrl('endpoints.revocation', endpoints.revocation).href,
        end_session_endpoint: endpoints.endSession === undefined ? undefined : checkedUrl('endpoints.endSession', endpoints.endSession).href,
        authorization_response_iss_parameter_supported: endpoints.issParameterSupported === true,
        // Without metadata oauth4webapi would accept RS256 ID tokens only. The ID token comes straight from the token
        // endpoint over TLS, so its claims, not its signature, are what is checked (OIDC Core 3.1.3.7 step 6).
        id_token_signing_alg_values_supported: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'],
      };
      const urls = [this.#explicit.authorization_endpoint, this.#explicit.token_endpoint, this.#explicit.revocation_endpoint, this.#explicit.end_session_endpoint];
      this.insecure ||= urls.some((url) => url?.startsWith('http:'));
    }
  }

  /** The metadata, discovering it on first use. Rejects with `NetworkError`, `ServerError`, `TimeoutError` or `TokenResponseError`. */
  get(fetchFn: typeof fetch, signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    if (this.#explicit) return Promise.resolve(this.#explicit);
    const pending = (this.#pending ??= this.#discover(fetchFn, signal));
    // A failure is not kept: the next sign-in or refresh tries again.
    pending.catch(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    return pending;
  }

  async #discover(fetchFn: typeof fetch, signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    // OpenID Connect Discovery first; a provider that is a plain OAuth 2 server answers 404 there and publishes
    // RFC 8414 metadata instead.
    let response = await this.#request('oidc', fetchFn, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      response = await this.#request('oauth2', fetchFn, signal);
    }
    if (!response.ok) throw await errorFromResponse(response, { method: 'GET', url: response.url || this.issuer.href });
    try {
      return await oauth.processDiscoveryResponse(this.issuer, response);
    } catch (cause) {
      // Wrong issuer in the document, not JSON, missing fields: not something a retry cures.
      throw new TokenResponseError(`The provider's metadata at ${this.issuer.origin} is unusable`, { cause, status: response.status });
    }
  }

  async #request(algorithm: 'oidc' | 'oauth2', fetchFn: typeof fetch, signal: AbortSignal): Promise<Response> {
    try {
      return await oauth.discoveryRequest(this.issuer, {
        algorithm,
        signal,
        [oauth.customFetch]: fetchFn,
        [oauth.allowInsecureRequests]: this.insecure,
      });
    } catch (error) {
      throw errorFromFailure(error, { method: 'GET', url: this.issuer.href });
    }
  }
}
