/**
 * The code -> class table, and the guards made from it. Guards check the brand (`Symbol.for('authfetch.error')`,
 * the same in every realm and every copy of the package) and then the code, so they work across bundles, iframes
 * and workers, where `instanceof` does not, and are not fooled by another library's error that happens to carry
 * the same `code` (axios has `ERR_NETWORK`).
 */
import { readProperty } from '../lib/read-property.js';
import { ERROR_BRAND } from './base.js';
import type { ForbiddenError, HttpError, NotFoundError, RateLimitError, ServerError, UnauthorizedError } from './http.js';
import type { NetworkError, TimeoutError } from './network.js';
import type { SessionExpiredError, SignInError, TokenResponseError } from './session.js';

/**
 * Each error code and the class that carries it. `ErrorCode` and `AnyAuthFetchError` are read from it, so a new
 * class is added here once.
 */
export interface ErrorByCode {
  ERR_HTTP: HttpError & { readonly code: 'ERR_HTTP'; readonly name: 'HttpError' };
  ERR_UNAUTHORIZED: UnauthorizedError;
  ERR_FORBIDDEN: ForbiddenError;
  ERR_NOT_FOUND: NotFoundError;
  ERR_RATE_LIMITED: RateLimitError;
  ERR_SERVER: ServerError;
  ERR_NETWORK: NetworkError;
  ERR_TIMEOUT: TimeoutError;
  ERR_SESSION_EXPIRED: SessionExpiredError;
  ERR_TOKEN_RESPONSE: TokenResponseError;
  ERR_SIGN_IN: SignInError;
}

/**
 * The stable code of every authfetch error. `switch (error.code)` over it is checked for exhaustiveness.
 *
 * @example
 * ```ts
 * if (isAuthFetchError(error)) {
 *   switch (error.code) {
 *     case 'ERR_UNAUTHORIZED': showSignIn(); break;
 *     case 'ERR_FORBIDDEN': showRequestAccess(error.requiredScope); break;
 *     default: showToast(error.userMessage);
 *   }
 * }
 * ```
 */
export type ErrorCode = keyof ErrorByCode;

/**
 * The union of the concrete authfetch error classes, each with its literal `code`: a `switch (error.code)` over it
 * narrows to the class and its fields. `isAuthFetchError(e)` narrows to it.
 *
 * @example
 * ```ts
 * function describe(error: AnyAuthFetchError): string {
 *   switch (error.code) {
 *     case 'ERR_FORBIDDEN': return `needs ${error.requiredScope?.join(' ') ?? 'access'}`;
 *     case 'ERR_RATE_LIMITED': return `wait ${error.retryAfterMs ?? 0} ms`;
 *     default: return error.userMessage;
 *   }
 * }
 * ```
 */
export type AnyAuthFetchError = ErrorByCode[ErrorCode];

// Every code once, the six that carry a response first. The type below makes the compiler insist that a code
// added to the table above is added here too.
const CODES = [
  'ERR_HTTP',
  'ERR_UNAUTHORIZED',
  'ERR_FORBIDDEN',
  'ERR_NOT_FOUND',
  'ERR_RATE_LIMITED',
  'ERR_SERVER',
  'ERR_NETWORK',
  'ERR_TIMEOUT',
  'ERR_SESSION_EXPIRED',
  'ERR_TOKEN_RESPONSE',
  'ERR_SIGN_IN',
] as const satisfies readonly ErrorCode[];
type MustBeTrue<T extends true> = T;
// Fails to compile when a code of ErrorByCode is missing from CODES.
type CodesAreComplete = MustBeTrue<Exclude<ErrorCode, (typeof CODES)[number]> extends never ? true : false>;
const HTTP_CODE_COUNT = 6;

/** The code of a branded authfetch error, or `undefined` for anything else (never throws). @internal */
export function authFetchCode(value: unknown): ErrorCode | undefined {
  const code = readProperty(value, ERROR_BRAND) === true ? readProperty(value, 'code') : undefined;
  return CODES.includes(code as ErrorCode) ? (code as ErrorCode) : undefined;
}

function guard<C extends ErrorCode>(code: C): (value: unknown) => value is ErrorByCode[C] {
  return (value: unknown): value is ErrorByCode[C] => authFetchCode(value) === code;
}

/**
 * Whether `value` is an authfetch error (branded, with one of the codes of {@link ErrorCode}); narrows to
 * {@link AnyAuthFetchError}, so `switch (value.code)` then narrows to each class.
 *
 * @example
 * ```ts
 * catch (error) { if (isAuthFetchError(error)) toast(error.userMessage); else throw error; }
 * ```
 */
export function isAuthFetchError(value: unknown): value is AnyAuthFetchError {
  return authFetchCode(value) !== undefined;
}

/**
 * Whether `value` is an `HttpError` or one of its subclasses (any HTTP code).
 *
 * @example
 * ```ts
 * if (isHttpError(error)) console.log(error.status, error.body);
 * ```
 */
export function isHttpError(value: unknown): value is HttpError {
  const index = CODES.indexOf(authFetchCode(value) as ErrorCode);
  return index !== -1 && index < HTTP_CODE_COUNT;
}

/**
 * Whether `value` is an `UnauthorizedError` (`ERR_UNAUTHORIZED`).
 * @example
 * ```ts
 * if (isUnauthorizedError(error)) redirectToSignIn();
 * ```
 */
export const isUnauthorizedError = /* @__PURE__ */ guard('ERR_UNAUTHORIZED');
/**
 * Whether `value` is a `ForbiddenError` (`ERR_FORBIDDEN`).
 * @example
 * ```ts
 * if (isForbiddenError(error)) showRequestAccess(error.requiredScope);
 * ```
 */
export const isForbiddenError = /* @__PURE__ */ guard('ERR_FORBIDDEN');
/** Whether `value` is a `NotFoundError` (`ERR_NOT_FOUND`). */
export const isNotFoundError = /* @__PURE__ */ guard('ERR_NOT_FOUND');
/** Whether `value` is a `RateLimitError` (`ERR_RATE_LIMITED`). */
export const isRateLimitError = /* @__PURE__ */ guard('ERR_RATE_LIMITED');
/** Whether `value` is a `ServerError` (`ERR_SERVER`). */
export const isServerError = /* @__PURE__ */ guard('ERR_SERVER');
/** Whether `value` is a `NetworkError` (`ERR_NETWORK`). */
export const isNetworkError = /* @__PURE__ */ guard('ERR_NETWORK');
/**
 * Whether `value` is authfetch's `TimeoutError` (`ERR_TIMEOUT`); ky's `TimeoutError` and the `TimeoutError`
 * DOMException share the name but not the brand, and are not matched.
 */
export const isTimeoutError = /* @__PURE__ */ guard('ERR_TIMEOUT');
/** Whether `value` is a `SessionExpiredError` (`ERR_SESSION_EXPIRED`). */
export const isSessionExpiredError = /* @__PURE__ */ guard('ERR_SESSION_EXPIRED');
/** Whether `value` is a `TokenResponseError` (`ERR_TOKEN_RESPONSE`). */
export const isTokenResponseError = /* @__PURE__ */ guard('ERR_TOKEN_RESPONSE');
/** Whether `value` is a `SignInError` (`ERR_SIGN_IN`). */
export const isSignInError = /* @__PURE__ */ guard('ERR_SIGN_IN');
