/**
 * Token revocation at logout (RFC 7009): the refresh token is revoked where the provider has a revocation endpoint,
 * so a copy of it that leaked is worthless; revoking a refresh token also ends the access tokens of its grant at most
 * providers (RFC 7009 section 2.1). Best effort: the caller has already signed out locally, and a failure is logged.
 */
import * as oauth from 'oauth4webapi';
import type { TokenSet } from '../types.js';
import type { Provider } from './provider.js';

/** Revoke the session's refresh token (else its access token), where the provider has a revocation endpoint. */
export async function revokeTokens(provider: Provider, tokens: TokenSet, fetchFn: typeof fetch, signal: AbortSignal): Promise<void> {
  const as = await provider.metadata.get(fetchFn, signal);
  if (!as.revocation_endpoint) return;
  const [token, hint] = tokens.refreshToken ? [tokens.refreshToken, 'refresh_token'] : [tokens.accessToken, 'access_token'];
  const response = await oauth.revocationRequest(as, provider.client, provider.clientAuth, token, {
    ...provider.requestOptions(fetchFn, signal),
    additionalParameters: { token_type_hint: hint },
  });
  await oauth.processRevocationResponse(response);
}
