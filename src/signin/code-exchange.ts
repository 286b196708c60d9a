/**
 * The authorization code grant (RFC 6749 section 4.1.3) with the PKCE verifier and, with a DPoP key, a proof
 * (src/signin/token-request.ts). The answer is read bounded and checked here (RFC 6749 section 5.1; its ID token,
 * OIDC Core 3.1.3.7, in src/signin/id-token.ts) before it becomes the session's token set.
 */
import * as oauth from 'oauth4webapi';
import { SignInError } from '../errors/index.js';
import type { Dpop } from '../dpop/types.js';
import { discardBody } from '../lib/discard-body.js';
import { readBounded } from '../lib/read-body.js';
import { MAX_TOKEN_RESPONSE_BYTES } from '../refresh/http.js';
import { normalizeTokens } from '../tokens.js';
import type { TokenSet } from '../types.js';
import { signInFailure } from './failure.js';
import { checkIdToken, invalidResponse } from './id-token.js';
import type { Provider } from './provider.js';
import { tokenRequest } from './token-request.js';
import type { SignInTransaction } from './transaction.js';

/** What the exchange needs besides the transaction. */
export interface ExchangeContext {
  provider: Provider;
  as: oauth.AuthorizationServer;
  fetch: typeof fetch;
  /** Bounds the exchange, and each read of the token response, in ms. */
  timeout: number;
  dpop?: Dpop;
}

/** Exchange the code of a checked authorization response (`authorizationCode()`) for tokens. */
export async function exchangeCode(code: string, transaction: SignInTransaction, context: ExchangeContext): Promise<TokenSet> {
  const { provider, as } = context;
  const signal = AbortSignal.timeout(context.timeout);
  try {
    const { response, error } = await tokenRequest(as.token_endpoint as string, context.dpop, (headers) =>
      oauth.genericTokenEndpointRequest(
        as,
        provider.client,
        provider.clientAuth,
        'authorization_code',
        { code, redirect_uri: transaction.redirectUri, code_verifier: transaction.codeVerifier },
        { signal, headers, [oauth.customFetch]: context.fetch, [oauth.allowInsecureRequests]: provider.insecure },
      ),
    );
    if (!response.ok) {
      discardBody(response);
      const reason = response.status >= 500 ? 'server-error' : 'invalid-response';
      throw new SignInError(`The token endpoint refused the code (${error ?? response.status})`, { reason, oauthError: error });
    }
    // RFC 6749 section 5.1: a successful answer is 200.
    if (response.status !== 200) {
      discardBody(response);
      throw invalidResponse('status');
    }
    const receivedAt = Date.now();
    // Read bounded, as every token response is (src/refresh/http.ts): tokens are kilobytes, not megabytes.
    const read = await readBounded(response.body, MAX_TOKEN_RESPONSE_BYTES, context.timeout);
    if (!read?.complete) throw new SignInError('The token response is too large or never ended', { reason: 'invalid-response' });
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(new TextDecoder().decode(read.bytes)) as Record<string, unknown>;
    } catch (cause) {
      throw invalidResponse('json', cause);
    }
    checkTokenResponse(body);
    // An ID token is always asked for: the authorization request carries a nonce, which only an ID token answers.
    checkIdToken(body.id_token, {
      issuer: as.issuer,
      clientId: provider.client.client_id,
      nonce: transaction.nonce,
      maxAge: transaction.maxAge,
      algorithms: as.id_token_signing_alg_values_supported,
    });
    return normalizeTokens(body, receivedAt);
  } catch (error) {
    throw signInFailure(error);
  }
}

/**
 * RFC 6749 section 5.1: an object with `access_token` and a `token_type` this client can use (RFC 6750 Bearer or
 * RFC 9449 DPoP, compared case-insensitively and stored lower-cased), a non-negative `expires_in` (a numeric string
 * is read as its number), string `refresh_token` and `scope` if any, and no `accessToken` (a TokenSet's member).
 */
function checkTokenResponse(body: Record<string, unknown>): void {
  const isString = (value: unknown) => typeof value === 'string' && value !== '';
  const optional = (value: unknown) => value === undefined || typeof value === 'string';
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidResponse('json');
  const tokenType = isString(body.token_type) ? (body.token_type as string).toLowerCase() : '';
  const { expires_in: expiresIn } = body;
  const seconds = typeof expiresIn === 'string' ? parseFloat(expiresIn) : expiresIn;
  const checks: Record<string, boolean> = {
    access_token: isString(body.access_token),
    token_type: tokenType === 'bearer' || tokenType === 'dpop',
    expires_in: seconds === undefined || (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0),
    refresh_token: optional(body.refresh_token) && body.refresh_token !== '',
    scope: optional(body.scope),
    id_token: isString(body.id_token),
    // normalizeTokens() would take an `accessToken` member for a whole TokenSet, unchecked `idToken` and all.
    accessToken: !('accessToken' in body),
  };
  for (const member in checks) if (!checks[member]) throw invalidResponse(member);
  body.token_type = tokenType;
  body.expires_in = seconds;
}
