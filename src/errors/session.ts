/**
 * The errors of the session itself: it is over (`SessionExpiredError`), its renewal got an unusable answer
 * (`TokenResponseError`), or an interactive sign-in failed (`SignInError`).
 */
import type { SessionEndReason } from '../types.js';
import { AuthFetchError, withDefaults, type AuthFetchErrorOptions, type UserAction } from './base.js';

/**
 * Why a session ended: the reasons of the `sessionExpired` event, plus `'logout'` (a request still held or out
 * when the app signed out, or the client was disposed), `'login-timeout'` (no sign-in within `loginTimeout`) and
 * `'user-changed'` (a different user signed in while requests of the earlier one were held). A closed union, so a
 * `switch` over it is exhaustive.
 */
export type SessionExpiredReason = SessionEndReason | 'logout' | 'login-timeout' | 'user-changed';

/** What the person reads when their session has ended. @internal */
export const SESSION_ENDED = 'Your session has ended. Please sign in again.';

/** Options of the `SessionExpiredError` constructor. */
export interface SessionExpiredErrorOptions extends AuthFetchErrorOptions {
  /** Why the session ended. @default 'refresh-rejected' */
  reason?: SessionExpiredReason;
}

/**
 * The session is over and the person must sign in again: the refresh was rejected, the idle timeout passed, there
 * is no refresh token, another tab ended it, `logout()` was called while a request was held, or the wait for
 * sign-in timed out. A `customRefresh` function throws it to say the session is over.
 *
 * @example
 * ```ts
 * customRefresh(async () => {
 *   const res = await fetch('/session/renew', { method: 'POST', credentials: 'include' });
 *   if (res.status === 401) throw new SessionExpiredError('The session cookie was rejected', { reason: 'refresh-rejected' });
 *   return { accessToken: (await res.json()).token };
 * });
 * ```
 */
export class SessionExpiredError extends AuthFetchError {
  static readonly code = 'ERR_SESSION_EXPIRED' as const;
  override name = 'SessionExpiredError' as const;
  declare readonly code: 'ERR_SESSION_EXPIRED';
  /** Why the session ended. */
  declare readonly reason: SessionExpiredReason;

  /**
   * @param message Default: `The session has ended (<reason>)`.
   * @param options See {@link SessionExpiredErrorOptions}.
   */
  constructor(message?: string, options: SessionExpiredErrorOptions = {}) {
    const reason = options.reason ?? 'refresh-rejected';
    super(message ?? `The session has ended (${reason})`, withDefaults(options, SESSION_ENDED, 'sign-in'));
    this.reason = reason;
  }
}

/** Options of the `TokenResponseError` constructor. */
export interface TokenResponseErrorOptions extends AuthFetchErrorOptions {
  /** The token endpoint's status, when it answered. */
  status?: number;
  /** The OAuth `error` code of the answer (RFC 6749 section 5.2), when it sent one; make it with `oauthErrorCode`. */
  oauthError?: string;
}

/**
 * The token (refresh) endpoint answered something unusable (not JSON, no `access_token`, a malformed token set), or
 * refused the client itself (`invalid_client`, `unauthorized_client`, `invalid_scope`, ...: `oauthError` says which).
 * The session is kept. Default `action`: `retry`, or `contact-support` when the answer carried an OAuth error code,
 * since retrying cannot fix the client's configuration.
 *
 * Never put the response text in the message: it may hold tokens.
 *
 * @example
 * ```ts
 * if (typeof json.access_token !== 'string') throw new TokenResponseError('The token response has no access_token');
 * ```
 */
export class TokenResponseError extends AuthFetchError {
  static readonly code = 'ERR_TOKEN_RESPONSE' as const;
  override name = 'TokenResponseError' as const;
  declare readonly code: 'ERR_TOKEN_RESPONSE';
  /** The token endpoint's status, when known. */
  declare readonly status?: number;
  /** The OAuth `error` code the token endpoint answered with, when it sent one. */
  declare readonly oauthError?: string;

  /**
   * @param message Default: `The token endpoint returned an unusable response`.
   * @param options See {@link TokenResponseErrorOptions}.
   */
  constructor(message?: string, options: TokenResponseErrorOptions = {}) {
    super(
      message ?? 'The token endpoint returned an unusable response',
      options.oauthError === undefined
        ? withDefaults(options, "We couldn't renew your session. Please try again, and contact support if it keeps happening.", 'retry')
        : withDefaults(options, "We couldn't renew your session because of a problem with this app's sign-in setup. Please contact support.", 'contact-support'),
    );
    this.status = options.status;
    this.oauthError = options.oauthError;
  }
}

/** Why an interactive sign-in failed. */
export type SignInErrorReason =
  | 'popup-blocked'
  | 'popup-closed'
  | 'access-denied'
  | 'invalid-state'
  | 'invalid-response'
  | 'login-required'
  | 'server-error';

/** Options of the `SignInError` constructor. */
export interface SignInErrorOptions extends AuthFetchErrorOptions {
  /** Why the sign-in failed. */
  reason: SignInErrorReason;
  /** The OAuth `error` code of the provider's answer (RFC 6749 section 4.1.2.1), when it sent one. */
  oauthError?: string;
}

// Per reason: what the person reads, and what they can do. Written for the UI: no "OAuth", no "state".
const SIGN_IN_DEFAULTS: Record<SignInErrorReason, readonly [string, UserAction]> = {
  'popup-blocked': ['Your browser blocked the sign-in window. Allow pop-ups for this site, then sign in again.', 'sign-in'],
  'popup-closed': ['The sign-in window was closed before signing in finished. Please sign in again.', 'sign-in'],
  'access-denied': ["Sign-in was cancelled or not allowed. You can sign in again, or ask an administrator for access.", 'sign-in'],
  'invalid-state': ['This sign-in has expired or was already used. Please sign in again.', 'sign-in'],
  'invalid-response': ["We couldn't complete your sign-in. If this keeps happening, please contact support.", 'contact-support'],
  'login-required': ['Please sign in to continue.', 'sign-in'],
  'server-error': ['The sign-in service is having trouble. Please try again in a moment.', 'retry'],
};

/**
 * An interactive sign-in (`signIn()`, `handleRedirect()`) failed: the popup was blocked or closed, the provider
 * answered with an error (`access_denied`, `login_required`, `server_error`, ...), or its response was refused
 * (a `state` or `iss` that does not match, an ID token that does not validate). `oauthError` is the provider's
 * `error` code when it sent one (make it with `oauthErrorCode`); its `error_description` is never kept.
 *
 * Constructor: `new SignInError(message?, { reason, oauthError?, cause?, userMessage?, action? })`.
 *
 * @example
 * ```ts
 * try {
 *   await auth.signIn({ popup: true });
 * } catch (error) {
 *   if (isSignInError(error) && error.reason === 'popup-blocked') showAllowPopupsHint();
 * }
 * ```
 */
export class SignInError extends AuthFetchError {
  static readonly code = 'ERR_SIGN_IN' as const;
  override name = 'SignInError' as const;
  declare readonly code: 'ERR_SIGN_IN';
  /** Why the sign-in failed. */
  declare readonly reason: SignInErrorReason;
  /** The provider's OAuth `error` code, when it answered with one. */
  declare readonly oauthError?: string;

  /**
   * @param message Default: `Sign-in failed (<reason>)`.
   * @param options See {@link SignInErrorOptions}.
   */
  constructor(message: string | undefined, options: SignInErrorOptions) {
    super(message ?? `Sign-in failed (${options.reason})`, withDefaults(options, ...SIGN_IN_DEFAULTS[options.reason]));
    this.reason = options.reason;
    this.oauthError = options.oauthError;
  }
}

