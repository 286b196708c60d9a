/**
 * The errors module: the classes by family (base, http, network, session), the code -> class table and its guards,
 * the response and failure mappings, and the one `isTransient`.
 */
export { AuthFetchError, ERROR_BRAND } from './base.js';
export type { AuthFetchErrorJSON, AuthFetchErrorOptions, UserAction } from './base.js';
export {
  HttpError,
  UnauthorizedError,
  ForbiddenError,
  NotFoundError,
  RateLimitError,
  ServerError,
  isTransientStatus,
} from './http.js';
export type {
  ForbiddenErrorOptions,
  HttpErrorCode,
  HttpErrorName,
  HttpErrorOptions,
  RateLimitErrorOptions,
  UnauthorizedErrorOptions,
  UnauthorizedReason,
} from './http.js';
export { NetworkError, TimeoutError } from './network.js';
export type { RequestErrorOptions, TimeoutErrorOptions } from './network.js';
export { SessionExpiredError, TokenResponseError, SignInError } from './session.js';
export type {
  SessionExpiredErrorOptions,
  SessionExpiredReason,
  SignInErrorOptions,
  SignInErrorReason,
  TokenResponseErrorOptions,
} from './session.js';
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
export { isTransient } from './transient.js';
export { MAX_ERROR_BODY_BYTES } from './body.js';
export { errorFromResponse } from './from-response.js';
export type { ErrorFromResponseOptions, RequestInfoLike } from './from-response.js';
export { errorFromFailure, refreshFailure } from './from-failure.js';
export type { FailedRequest } from './from-failure.js';
export { ErrorMapper } from './mapper.js';
export { oauthErrorCode } from './oauth-error.js';
export { messageLocalizer, localizeEvents, localizeRejections } from './messages.js';
export type { ErrorMessages } from './messages.js';
