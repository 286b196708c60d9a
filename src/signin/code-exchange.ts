/**
 * The authorization code grant (RFC 6749 section 4.1.3) with the PKCE verifier and, with a DPoP key, a proof
 * (src/signin/token-request.ts); the ID token is validated by oauth4webapi (OIDC Core 3.1.3.7: `iss`, `aud`, `azp`,
 * `exp`, `iat`, `nonce`, and `auth_time` when `max_age` was sent).
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
import type { Provider } from './provider.js';
import { tokenRequest } from './token-request.js';
import type { SignInTransaction } from './transaction.js';

/** What the exchange needs besides the transaction. */
export interface ExchangeContext {
  provider: Provider;
  as: oauth.AuthorizationServer;
  fetch: typeof fetch;
  signal: AbortSignal;
  dpop?: Dpop;
  /** Whether an ID token must come back (the `openid` scope was asked for). */
  requireIdToken: boolean;
  /** Bounds the wait for each read of the token response, in ms. */
  timeout: number;
}

/** Exchange the code of a validated authorization response for tokens. */
export async function exchangeCode(params: URLSearchParams, transaction: SignInTransaction, context: ExchangeContext): Promise<TokenSet> {
  const { provider, as } = context;
  try {
    const { response, error } = await tokenRequest(as.token_endpoint as string, context.dpop, (headers) =>
      oauth.authorizationCodeGrantRequest(
        as,
        provider.client,
        provider.clientAuth,
        params,
        transaction.redirectUri,
        transaction.codeVerifier,
        provider.requestOptions(context.fetch, context.signal, headers),
      ),
    );
    if (!response.ok) {
      discardBody(response);
      const reason = response.status >= 500 ? 'server-error' : 'invalid-response';
      throw new SignInError(`The token endpoint refused the code (${error ?? response.status})`, { reason, oauthError: error });
    }
    const receivedAt = Date.now();
    // Read bounded, as every token response is (src/refresh/http.ts): tokens are kilobytes, not megabytes.
    const read = await readBounded(response.body, MAX_TOKEN_RESPONSE_BYTES, context.timeout);
    if (!read?.complete) throw new SignInError('The token response is too large or never ended', { reason: 'invalid-response' });
    const bounded = new Response(read.bytes as BodyInit, { status: response.status, headers: response.headers });
    const result = await oauth.processAuthorizationCodeResponse(as, provider.client, bounded, {
      expectedNonce: transaction.nonce,
      maxAge: transaction.maxAge ?? oauth.skipAuthTimeCheck,
      requireIdToken: context.requireIdToken,
    });
    return normalizeTokens(result, { receivedAt });
  } catch (error) {
    throw signInFailure(error);
  }
}
