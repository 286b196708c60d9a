/** Types of `identity.mjs`: the example identity provider (oidc-provider) next to the example API. */

export declare const IDENTITY_CLIENT_ID: 'demo-spa';
export declare const MFA_ACR: 'mfa';

export interface IdentityProviderOptions {
  /** The example app's origin: its page is the redirect URI and the post-logout redirect URI. */
  appOrigin: string;
  /** Default `'127.0.0.1'`. */
  host?: string;
  /** Default `0` (a free port). */
  port?: number;
  /** Access token lifetime in seconds, default 300. */
  accessTokenTtl?: number;
}

export interface IdentityProvider {
  issuer: string;
  clientId: string;
  /** The provider's introspection answer for an access token (RFC 7662). */
  introspect(token: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Start oidc-provider with the example app registered as a public client (code + PKCE). */
export declare function startIdentityProvider(options: IdentityProviderOptions): Promise<IdentityProvider>;
