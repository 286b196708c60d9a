/**
 * RP-Initiated Logout (OpenID Connect RP-Initiated Logout 1.0, section 2): the URL of the provider's end-session
 * endpoint with `id_token_hint` (which session to end), `client_id` and `post_logout_redirect_uri` (where the
 * provider sends the browser back; it must be registered with the provider).
 */
import type { AuthorizationServer } from 'oauth4webapi';

/** The end-session URL, or `undefined` when the provider publishes no end-session endpoint. */
export function endSessionUrl(
  as: AuthorizationServer,
  options: { clientId: string; idToken?: string; postLogoutRedirectUri?: string },
): URL | undefined {
  if (!as.end_session_endpoint) return undefined;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', options.clientId);
  if (options.idToken) url.searchParams.set('id_token_hint', options.idToken);
  if (options.postLogoutRedirectUri) url.searchParams.set('post_logout_redirect_uri', options.postLogoutRedirectUri);
  return url;
}
