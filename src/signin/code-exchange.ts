/**
 * The authorization code grant (RFC 6749 section 4.1.3) with the PKCE verifier, a DPoP proof made with the client's
 * key (RFC 9449 section 5; one more try after `use_dpop_nonce`, section 8), and the ID token validated by
 * oauth4webapi (OIDC Core 3.1.3.7: `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, and `auth_time` when `max_age` was sent).
 */
import * as oauth from 'oauth4webapi';
import { SignInError } from '../errors.js';
import type { Dpop } from '../dpop/types.js';
import { normalizeTokens } from '../tokens.js';
import type { TokenSet } from '../types.js';
import { safeOAuthError, signInFailure } from './failure.js';
import type { Provider } from './provider.js';
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
}

/** Read `{ error }` from an error answer without consuming the original body. */
async function oauthErrorOf(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    return typeof body === 'object' && body !== null ? safeOAuthError((body as { error?: unknown }).error) : undefined;
  } catch {
    return undefined;
  }
}

/** Exchange the code of a validated authorization response for tokens. */
export async function exchangeCode(
  params: URLSearchParams,
  transaction: SignInTransaction,
  context: ExchangeContext,
): Promise<TokenSet> {
  const { provider, as, dpop } = context;
  const tokenEndpoint = as.token_endpoint as string;
  const send = async () => {
    const headers: Record<string, string> = dpop ? { dpop: await dpop.proof('POST', tokenEndpoint) } : {};
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      provider.client,
      provider.clientAuth,
      params,
      transaction.redirectUri,
      transaction.codeVerifier,
      provider.requestOptions(context.fetch, context.signal, headers),
    );
    const nonce = response.headers.get('dpop-nonce');
    if (dpop && nonce) dpop.rememberNonce(tokenEndpoint, nonce);
    return response;
  };
  try {
    let response = await send();
    if (!response.ok) {
      let oauthError = await oauthErrorOf(response);
      // The server rejects a proof without its nonce before it looks at the code, so the code is still unused.
      if (dpop && oauthError === 'use_dpop_nonce' && response.headers.get('dpop-nonce')) {
        await response.body?.cancel();
        response = await send();
        oauthError = response.ok ? undefined : await oauthErrorOf(response);
      }
      if (!response.ok) {
        await response.body?.cancel();
        const reason = response.status >= 500 ? 'server-error' : 'invalid-response';
        throw new SignInError(`The token endpoint refused the authorization code (${oauthError ?? response.status})`, { reason, oauthError });
      }
    }
    const receivedAt = Date.now();
    const result = await oauth.processAuthorizationCodeResponse(as, provider.client, response, {
      expectedNonce: transaction.nonce,
      maxAge: transaction.maxAge ?? oauth.skipAuthTimeCheck,
      requireIdToken: context.requireIdToken,
    });
    return normalizeTokens(result, { receivedAt });
  } catch (error) {
    throw signInFailure(error);
  }
}
