/**
 * The authorization request (RFC 6749 section 4.1.1) with PKCE S256 (RFC 7636), `state`, `nonce` (OIDC Core
 * 3.1.2.1), DPoP binding of the code (RFC 9449 section 10: `dpop_jkt`) and step-up parameters (RFC 9470 section 4:
 * `acr_values`, `max_age`), the transaction that must be kept to finish it, and the checks of its response.
 */
import * as oauth from 'oauth4webapi';
import type { Dpop } from '../dpop/types.js';
import { authorizationError } from './failure.js';
import { invalidResponse } from './id-token.js';
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
  const { maxAge, acrValues } = input;
  const url = new URL(authorizationEndpoint);
  const params = url.searchParams;
  for (const [key, value] of Object.entries({ ...input.extraAuthParams, ...input.extraParams })) params.set(key, value);
  params.delete('max_age'); // only through maxAge, which is then checked against auth_time
  if (!params.has('scope')) params.set('scope', input.scope);
  const acr = Array.isArray(acrValues) ? acrValues.join(' ') : acrValues;
  // Set after the app's extra parameters, so that none of them can replace these (and so disable PKCE or state).
  const set: Record<string, string | number | undefined> = {
    response_type: 'code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri,
    state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    // RFC 9449 section 10: the code is bound to this key, so it is useless to whoever steals it without the key.
    dpop_jkt: await input.dpop?.thumbprint(),
    acr_values: acr || undefined,
    max_age: maxAge,
    prompt: input.prompt,
    login_hint: input.loginHint,
  };
  for (const key in set) if (set[key] !== undefined) params.set(key, String(set[key]));
  const transaction: SignInTransaction = {
    state,
    codeVerifier,
    nonce,
    redirectUri: input.redirectUri,
    createdAt: Date.now(),
    appState: input.state,
    // Checked against the ID token's auth_time (OIDC Core 3.1.3.7 step 11).
    maxAge,
  };
  return { url, transaction };
}

/**
 * Check an authorization response for the sign-in whose `state` it carries, and return its code: RFC 9207 `iss`
 * (a response naming another issuer, or none where the provider promises one, is refused before the code is used),
 * `state`, the provider's error (RFC 6749 section 4.1.2.1), and only the code flow (no JARM, implicit or hybrid
 * answer). A parameter given twice is refused.
 */
export function authorizationCode(as: oauth.AuthorizationServer, params: URLSearchParams, state: string): string {
  const one = (name: string): string | undefined => {
    const values = params.getAll(name);
    if (values.length > 1) throw invalidResponse(name);
    return values[0];
  };
  if (one('response') !== undefined) throw invalidResponse('response'); // JARM
  const iss = one('iss');
  if (iss ? iss !== as.issuer : as.authorization_response_iss_parameter_supported) throw invalidResponse('iss');
  if (one('state') !== state) throw invalidResponse('state');
  const error = one('error');
  if (error) throw authorizationError(error);
  // Implicit or hybrid answers: this client asked for response_type=code only.
  if (one('id_token') !== undefined || one('token') !== undefined) throw invalidResponse('response_type');
  const code = one('code');
  if (!code) throw invalidResponse('code');
  return code;
}
