/**
 * One configured provider: its metadata, this client's registration (`client_id`, how it authenticates at the token
 * endpoint) and the calls every part of the sign-in makes through oauth4webapi with the client's fetch.
 */
import * as oauth from 'oauth4webapi';
import { ProviderMetadata, type OidcEndpoints } from './metadata.js';

/** How the client authenticates at the token and revocation endpoints (RFC 6749 section 2.3.1). */
export type ClientAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

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
  readonly #auth: oauth.ClientAuth;

  constructor(options: ProviderOptions) {
    if (typeof options.clientId !== 'string' || options.clientId === '') throw new TypeError('authfetch: oidc() needs a clientId');
    this.metadata = new ProviderMetadata(options.issuer, options.endpoints);
    this.client = { client_id: options.clientId };
    const method = options.clientAuth ?? (options.clientSecret === undefined ? 'none' : 'client_secret_basic');
    if (method !== 'none' && typeof options.clientSecret !== 'string') {
      throw new TypeError(`authfetch: oidc() clientAuth '${method}' needs a clientSecret`);
    }
    // client_secret_basic is the default with a secret: RFC 6749 section 2.3.1 says servers must support it.
    this.#auth =
      method === 'client_secret_basic'
        ? oauth.ClientSecretBasic(options.clientSecret as string)
        : method === 'client_secret_post'
          ? oauth.ClientSecretPost(options.clientSecret as string)
          : method === 'none'
            ? oauth.None()
            : unknownMethod(method);
  }

  /** Options for an oauth4webapi request: the client's fetch, a bound, and loopback `http:` where configured. */
  requestOptions(fetchFn: typeof fetch, signal: AbortSignal, headers?: Record<string, string>) {
    return {
      signal,
      headers,
      [oauth.customFetch]: fetchFn,
      [oauth.allowInsecureRequests]: this.metadata.insecure,
    };
  }

  get clientAuth(): oauth.ClientAuth {
    return this.#auth;
  }
}

function unknownMethod(method: never): never {
  throw new TypeError(`authfetch: oidc() clientAuth must be 'none', 'client_secret_basic' or 'client_secret_post', not '${String(method)}'`);
}
