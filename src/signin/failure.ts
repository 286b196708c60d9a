/**
 * What a failed sign-in becomes: a `SignInError` with the reason a UI can act on. The provider's `error` code is kept
 * (sanitised) in `oauthError`; its `error_description` and any other server text never reach a message.
 */
import * as oauth from 'oauth4webapi';
import { SignInError, TokenResponseError, type SignInErrorReason } from '../errors/index.js';

/** RFC 6749 section 4.1.2.1 and OIDC Core 3.1.2.6 error codes, by what the person can do about them. */
const REASON_BY_OAUTH_ERROR: Record<string, SignInErrorReason> = {
  access_denied: 'access-denied',
  login_required: 'login-required',
  interaction_required: 'login-required',
  consent_required: 'login-required',
  account_selection_required: 'login-required',
  server_error: 'server-error',
  temporarily_unavailable: 'server-error',
};

/** An OAuth error code as a safe field value: the RFC 6749 charset, bounded; anything else reads as `unknown`. */
export function safeOAuthError(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  return /^[\w.:-]{1,64}$/.test(value) ? value : 'unknown';
}

/** The provider answered the authorization request with an error (RFC 6749 section 4.1.2.1). */
export function authorizationError(code: string): SignInError {
  const oauthError = safeOAuthError(code) as string;
  // invalid_request, unauthorized_client, invalid_scope, ...: the app's configuration, not the person, is at fault.
  const reason = REASON_BY_OAUTH_ERROR[oauthError] ?? 'invalid-response';
  return new SignInError(`The provider refused the sign-in (${oauthError})`, { reason, oauthError });
}

/**
 * Any failure while finishing a sign-in, as the error the app gets. Network failures and timeouts keep their own
 * types (`NetworkError`, `TimeoutError`: the person checks the connection), as does the app's own abort.
 */
export function signInFailure(error: unknown): unknown {
  // oauth4webapi refused the token request (a token endpoint that is not https), or the token set the checked answer
  // makes is unusable (src/tokens.ts: an access token that is no header value, an expiry past any date, ...).
  if (error instanceof oauth.OperationProcessingError || error instanceof TokenResponseError) {
    return new SignInError(`The sign-in response is invalid (${error.code ?? 'unknown'})`, { reason: 'invalid-response', cause: error });
  }
  return error;
}

/** No sign-in started here has this `state` (RFC 6749 section 10.12): forged, expired, or from another browser. */
export function unknownState(): SignInError {
  return new SignInError('No sign-in started here has this state', { reason: 'invalid-state' });
}
