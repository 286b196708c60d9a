/**
 * Token revocation at logout (RFC 7009): the refresh token is revoked where the provider has a revocation endpoint,
 * so a copy of it that leaked is worthless; revoking a refresh token also ends the access tokens of its grant at most
 * providers (RFC 7009 section 2.1). Best effort: the caller has already signed out locally, and a failure is logged.
 */
import { discardBody } from '../lib/discard-body.js';
import type { TokenSet } from '../types.js';
import type { Provider } from './provider.js';

/** Revoke the session's refresh token (else its access token), where the provider has a revocation endpoint. */
export async function revokeTokens(provider: Provider, tokens: TokenSet, fetchFn: typeof fetch, signal: AbortSignal): Promise<void> {
  const as = await provider.metadata(fetchFn, signal);
  if (!as.revocation_endpoint) return;
  const url = new URL(as.revocation_endpoint);
  // The token travels in the body: https only (plain http only for a provider on this machine, RFC 8252 section 8.3).
  if (url.protocol !== 'https:' && !provider.insecure) throw new TypeError('authfetch: the revocation endpoint must be https');
  const [token, hint] = tokens.refreshToken ? [tokens.refreshToken, 'refresh_token'] : [tokens.accessToken, 'access_token'];
  const body = new URLSearchParams({ token_type_hint: hint, token });
  const headers = new Headers({ 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8' });
  // The client authenticates as at the token endpoint (RFC 7009 section 2.1).
  await provider.clientAuth(as, provider.client, body, headers);
  // `redirect: 'manual'`: the token must not follow a redirect to another host.
  const response = await fetchFn(url.href, { method: 'POST', body, headers, redirect: 'manual', signal });
  discardBody(response);
  // RFC 7009 section 2.2: 200 whether or not the token was valid; anything else is a failure to report.
  if (response.status !== 200) throw new Error(`authfetch: the revocation endpoint answered ${response.status}`);
}
