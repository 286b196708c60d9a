/**
 * The errors module: the classes by family (base, http, network, session), the code -> class table and its guards,
 * the response and failure mappings, and the one `isTransient`. What the package exports is `./public.ts`; the rest
 * is for authfetch's own modules.
 */
export * from './public.js';
export { ERROR_BRAND } from './base.js';
export type { AuthFetchErrorOptions } from './base.js';
export { isTransientStatus } from './http.js';
export type {
  ForbiddenErrorOptions,
  HttpErrorName,
  HttpErrorOptions,
  RateLimitErrorOptions,
  UnauthorizedErrorOptions,
} from './http.js';
export type { RequestErrorOptions, TimeoutErrorOptions } from './network.js';
export type { SessionExpiredErrorOptions, SignInErrorOptions, TokenResponseErrorOptions } from './session.js';
export { isTransient } from './transient.js';
export { MAX_ERROR_BODY_BYTES } from './body.js';
export { errorFromResponse } from './from-response.js';
export type { ErrorFromResponseOptions, RequestInfoLike } from './from-response.js';
export { errorFromFailure, refreshFailure } from './from-failure.js';
export type { FailedRequest } from './from-failure.js';
export { ErrorMapper } from './mapper.js';
export { oauthErrorCode } from './oauth-error.js';
export { messageLocalizer, localizeEvents, localizeRejections } from './messages.js';
