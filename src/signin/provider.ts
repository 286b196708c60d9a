/**
 * One configured provider: its metadata, this client's registration (`client_id`, how it authenticates at the token
 * endpoint) and the options every oauth4webapi call gets (the client's fetch, a bound).
 */
import * as oauth from 'oauth4webapi';
import type { ClientAuthMethod } from '../refresh/oauth2.js';
import { ProviderMetadata, type OidcEndpoints } from './metadata.js';

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
  readonly metadata: ProviderMetadata;
  readonly client: oauth.Client;
  readonly clientAuth: oauth.ClientAuth;

  constructor(options: ProviderOptions) {
    const { clientId, clientSecret } = options;
    if (typeof clientId !== 'string' || clientId === '') throw new TypeError('authfetch: oidc() needs a clientId');
    this.metadata = new ProviderMetadata(options.issuer, options.endpoints);
    this.client = { client_id: clientId };
    // client_secret_basic is the default with a secret: RFC 6749 section 2.3.1 says servers must support it.
    const method = options.clientAuth ?? (clientSecret === undefined ? 'none' : 'client_secret_basic');
    const auth = Object.hasOwn(CLIENT_AUTH, method) ? CLIENT_AUTH[method] : undefined;
    if (!auth || (method !== 'none' && typeof clientSecret !== 'string')) {
      throw new TypeError('authfetch: oidc() clientAuth needs a known method (and a clientSecret)');
    }
    this.clientAuth = auth(clientSecret as string);
  }

  /** Options for an oauth4webapi request. */
  requestOptions(fetchFn: typeof fetch, signal: AbortSignal, headers?: Record<string, string>) {
    return { signal, headers, [oauth.customFetch]: fetchFn, [oauth.allowInsecureRequests]: this.metadata.insecure };
  }
}
