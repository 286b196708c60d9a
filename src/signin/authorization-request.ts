/**
 * The authorization request (RFC 6749 section 4.1.1) with PKCE S256 (RFC 7636), `state`, `nonce` (OIDC Core
 * 3.1.2.1), DPoP binding of the code (RFC 9449 section 10: `dpop_jkt`) and step-up parameters (RFC 9470 section 4:
 * `acr_values`, `max_age`), and the transaction that must be kept to finish it.
 */
import * as oauth from 'oauth4webapi';
import type { Dpop } from '../dpop/types.js';
import type { SignInTransaction } from './transaction.js';
import type { SignInOptions } from './types.js';

/** Everything the request is made from. */
export interface AuthorizationRequestInput extends SignInOptions {
  clientId: string;
  redirectUri: string;
  scope: string;
  /** Parameters configured once on `oidc()`; `extraParams` of this sign-in override them. */
  extraAuthParams?: Record<string, string>;
  dpop?: Dpop;
}

/** Build the authorization URL and its transaction. */
export async function createAuthorizationRequest(
  authorizationEndpoint: string,
  input: AuthorizationRequestInput,
): Promise<{ url: URL; transaction: SignInTransaction }> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(authorizationEndpoint);
  const params = url.searchParams;
  for (const [key, value] of Object.entries({ ...input.extraAuthParams, ...input.extraParams })) params.set(key, value);
  // Set after the app's extra parameters, so that none of them can replace these (and so disable PKCE or state).
  params.set('response_type', 'code');
  params.set('client_id', input.clientId);
  params.set('redirect_uri', input.redirectUri);
  if (!params.has('scope')) params.set('scope', input.scope);
  params.set('state', state);
  params.set('nonce', nonce);
  params.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier));
  params.set('code_challenge_method', 'S256');
  // RFC 9449 section 10: the code is bound to this key, so it is useless to whoever steals it without the key.
  if (input.dpop) params.set('dpop_jkt', await input.dpop.thumbprint());
  if (input.acrValues !== undefined) {
    const acr = Array.isArray(input.acrValues) ? input.acrValues.join(' ') : input.acrValues;
    if (acr !== '') params.set('acr_values', acr);
  }
  params.delete('max_age'); // only through maxAge, which is then checked against auth_time
  if (input.maxAge !== undefined) params.set('max_age', String(input.maxAge));
  if (input.prompt !== undefined) params.set('prompt', input.prompt);
  if (input.loginHint !== undefined) params.set('login_hint', input.loginHint);
  const transaction: SignInTransaction = {
    state,
    codeVerifier,
    nonce,
    redirectUri: input.redirectUri,
    createdAt: Date.now(),
    ...(input.state !== undefined ? { appState: input.state } : {}),
    // Checked against the ID token's auth_time (OIDC Core 3.1.3.7 step 11).
    ...(input.maxAge !== undefined ? { maxAge: input.maxAge } : {}),
  };
  return { url, transaction };
}
