/**
 * The `SessionExpiredError` of requests whose session is over, with its message written once: the coordinator, the
 * login gate, the auth path and the client's own calls all reject with these.
 */
import { SessionExpiredError, type SessionExpiredReason } from '../errors/index.js';

/** The message of `ended('logout', DISPOSED)`: the client was disposed. */
export const DISPOSED = 'The client was disposed';
/** The message of `ended('logout', OTHER_TAB)`: another tab signed out. */
export const OTHER_TAB = 'Signed out in another tab';
/** The message of `ended('no-refresh-token', NO_REFRESH_TOKEN)`: a refresh was asked for without a refresh token. */
export const NO_REFRESH_TOKEN = 'There is no refresh token to renew the session with';

/** The messages of the ways a session ends (`SessionExpiredError.message`), by reason. */
export const ENDED: Partial<Record<SessionExpiredReason, string>> = {
  'refresh-rejected': 'The session ended: the refresh was rejected',
  idle: 'The session ended after a period of inactivity',
  'no-refresh-token': 'The session ended: the access token was rejected and there is no way to renew it',
  'other-tab': 'The session ended in another tab',
  logout: 'Signed out',
  'login-timeout': 'No sign-in happened within loginTimeout',
  // Requests made in one user's session are never carried by another user's tokens.
  'user-changed': 'Another user signed in; this request belonged to the session before',
};

/**
 * The error of requests whose session is over, with the message for `reason` unless another is given.
 * @example
 * ```ts
 * throw ended('logout');
 * ```
 */
export function ended(reason: SessionExpiredReason, message = ENDED[reason]): SessionExpiredError {
  return new SessionExpiredError(message, { reason });
}

/** The error of requests of one user's session when another user signed in. */
export function userChanged(): SessionExpiredError {
  return ended('user-changed');
}
