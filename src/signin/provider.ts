/**
 * One configured provider: its metadata (discovered once per strategy and shared by every sign-in, refresh and
 * logout; a failed discovery is not kept, so the next call tries again) and this client's registration
 * (`client_id`, how it authenticates at the token and revocation endpoints).
 */
import * as oauth from 'oauth4webapi';
import type { ClientAuthMethod } from '../refresh/oauth2.js';
import { discover, givenMetadata, isLoopbackHttp, type OidcEndpoints } from './metadata.js';

const CLIENT_AUTH: Record<ClientAuthMethod, (secret: string) => oauth.ClientAuth> = {
  none: oauth.None,
  client_secret_basic: oauth.ClientSecretBasic,
  client_secret_post: oauth.ClientSecretPost,
};

/** The part of `oidc()`'s options that identifies the provider and the client. */
export interface ProviderOptions {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  clientAuth?: ClientAuthMethod;
  endpoints?: OidcEndpoints;
}

/** The provider and this client's registration with it. */
export class Provider {
  readonly issuer: URL;
  /** A loopback `http:` provider (RFC 8252 section 8.3), which may be called without TLS; never set for other hosts. */
  readonly insecure: boolean;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;
  #pending: Promise<oauth.AuthorizationServer> | undefined;

  constructor(options: ProviderOptions) {
    const { clientId, clientSecret } = options;
    if (typeof clientId !== 'string' || clientId === '') throw new TypeError('authfetch: oidc() needs a clientId');
    this.issuer = new URL(options.issuer);
    this.insecure = isLoopbackHttp(this.issuer);
    if (this.issuer.protocol !== 'https:' && !this.insecure) throw new TypeError('authfetch: oidc() issuer must be https');
    // Endpoints as given: oauth4webapi and the revocation refuse non-https ones (unless the issuer is loopback http).
    if (options.endpoints) this.#pending = Promise.resolve(givenMetadata(options.issuer, options.endpoints));
    this.client = { client_id: clientId };
    // client_secret_basic is the default with a secret: RFC 6749 section 2.3.1 says servers must support it.
    const method = options.clientAuth ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
    const auth = Object.hasOwn(CLIENT_AUTH, method) ? CLIENT_AUTH[method] : undefined;
    if (!auth || (method !== 'none' && typeof clientSecret !== 'string')) {
      throw new TypeError('authfetch: oidc() clientAuth needs a known method (and a clientSecret)');
    }
    this.clientAuth = auth(clientSecret as string);
  }

  /** The metadata, discovering it on first use. Rejects with `NetworkError`, `HttpError`s, `TimeoutError` or `TokenResponseError`. */
  metadata(fetchFn: typeof fetch, signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    const pending = (this.#pending ??= discover(this.issuer, fetchFn, signal));
    pending.catch(() => {
      if (this.#pending === pending) this.#pending = undefined;
    });
    return pending;
  }
}
