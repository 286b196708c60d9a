/**
 * The public part of the errors module, re-exported as it is by the package entry (`src/index.ts`): the classes,
 * their guards, and the vocabulary types. The rest of `./index.ts` (mappings, localizing, helpers) is internal.
 */
export { AuthFetchError } from './base.js';
export type { AuthFetchErrorJSON, UserAction } from './base.js';
export { HttpError, UnauthorizedError, ForbiddenError, NotFoundError, RateLimitError, ServerError } from './http.js';
export type { HttpErrorCode, UnauthorizedReason } from './http.js';
export { NetworkError, TimeoutError } from './network.js';
export { SessionExpiredError, TokenResponseError, SignInError } from './session.js';
export type { SessionExpiredReason, SignInErrorReason } from './session.js';
export {
  isAuthFetchError,
  isHttpError,
  isUnauthorizedError,
  isForbiddenError,
  isNotFoundError,
  isRateLimitError,
  isServerError,
  isNetworkError,
  isTimeoutError,
  isSessionExpiredError,
  isTokenResponseError,
  isSignInError,
} from './guards.js';
export type { AnyAuthFetchError, ErrorByCode, ErrorCode } from './guards.js';
export type { ErrorMessages } from './messages.js';
