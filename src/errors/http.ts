/**
 * The errors that carry an HTTP response: `HttpError` and one subclass per status a UI treats differently
 * (401, 403, 404, 429, 5xx). Their constructors only assign; `errorFromResponse` (./from-response.ts) reads a
 * response into their fields.
 */
import type { Challenge } from '../challenge.js';
import { serverText } from '../lib/server-text.js';
import { AuthFetchError, requestNote, withDefaults, type AuthFetchErrorOptions } from './base.js';

/** The codes of the errors that carry an HTTP response (`HttpError` and its subclasses). */
export type HttpErrorCode =
  | 'ERR_HTTP'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_NOT_FOUND'
  | 'ERR_RATE_LIMITED'
  | 'ERR_SERVER';

/** The `name`s of `HttpError` and its subclasses. */
export type HttpErrorName =
  | 'HttpError'
  | 'UnauthorizedError'
  | 'ForbiddenError'
  | 'NotFoundError'
  | 'RateLimitError'
  | 'ServerError';

/** Options of the `HttpError` constructors. `errorFromResponse` fills them from a response; apps rarely need to. */
export interface HttpErrorOptions extends AuthFetchErrorOptions {
  /** The response. `status` and `statusText` come from it; it is kept as `error.response`, unread. */
  response: Response;
  /** The request method, for the message. */
  method: string;
  /** The request URL (kept whole in `error.url`; shown without query in the message). Default: `response.url`. */
  url?: string;
  /** The parsed body (JSON, RFC 9457 problem details, or text); `undefined` when empty or unreadable. */
  body?: unknown;
  /**
   * The status text to keep, already made safe (`errorFromResponse` drops one that echoes the request's token).
   * Default: the response's, without control characters and capped at 64 characters, since the server chose it.
   */
  statusText?: string;
}

/**
 * Whether a status says "send the same request again later": 5xx, 408 Request Timeout and 425 Too Early
 * (RFC 9110 section 15.5.9, RFC 8470 section 5.2). Other 4xx reject the request itself.
 * @internal
 */
export function isTransientStatus(status: number): boolean {
  return (status >= 500 && status <= 599) || status === 408 || status === 425;
}

/**
 * A non-2xx response that none of the more specific classes below covers (400, 408, 409, 422, ...); the base of
 * `UnauthorizedError`, `ForbiddenError`, `NotFoundError`, `RateLimitError` and `ServerError`.
 *
 * Default `action`: `retry` for 408, 425 and 5xx (the same request may succeed later), `contact-support` for other
 * statuses (the server rejected this request as it is, so repeating it will not help and the person cannot fix it).
 * The default message names the status, method and URL (without query); never the status text or body, which the
 * server chose.
 *
 * @example
 * ```ts
 * if (isHttpError(error) && error.status === 422) showFieldErrors(error.body);
 * // Built by hand (tests, adapters):
 * new HttpError(undefined, { response: new Response(null, { status: 409 }), method: 'PUT', url: 'https://api.example/doc/1' });
 * ```
 */
export class HttpError extends AuthFetchError {
  /** `'ERR_HTTP'`; typed as the HTTP codes so that subclasses can narrow it. */
  static readonly code: HttpErrorCode = 'ERR_HTTP';
  override name: HttpErrorName = 'HttpError';
  declare readonly code: HttpErrorCode;
  /** The response status. */
  declare readonly status: number;
  /** The response status text (empty over HTTP/2). The server's words: not part of `message`. */
  declare readonly statusText: string;
  /** The request method. */
  declare readonly method: string;
  /** The full request URL, query included. Messages and `toJSON()` show it without query. */
  declare readonly url: string;
  /**
   * The response, still readable: `errorFromResponse` reads its body from a clone. For a refresh endpoint's error
   * it is a stand-in with the status and `Retry-After` only: the server's own answer may echo the refresh token.
   */
  declare readonly response: Response;
  /**
   * The body: parsed JSON (an RFC 9457 problem details object for `application/problem+json`), else text,
   * at most 64 KiB (a longer body is cut, and a cut JSON body stays text). `undefined` when empty or unreadable.
   * It is the server's data, as sent: never part of `message` or `toJSON()`.
   */
  declare readonly body: unknown;

  /**
   * @param message Default: `Request failed with status <status>: <method> <url without query>`.
   * @param options The response and request; see {@link HttpErrorOptions}.
   */
  constructor(message: string | undefined, options: HttpErrorOptions) {
    const { response, method } = options;
    const { status } = response;
    const url = options.url ?? response.url;
    const transient = isTransientStatus(status);
    super(
      message ?? `Request failed with status ${status}${requestNote(method, url)}`,
      withDefaults(
        options,
        status > 499
          ? 'Something went wrong on our side. Please try again shortly.'
          : `We couldn't complete your request. ${transient ? 'Please try again.' : 'If this keeps happening, please contact support.'}`,
        transient ? 'retry' : 'contact-support',
      ),
    );
    // RFC 9110 section 15 lets a server send any reason phrase, and one that echoes the request hands back its
    // `Authorization` header: serverText removes control characters, caps it and drops one carrying a secret.
    Object.assign(this, { status, statusText: options.statusText ?? serverText(response.statusText) ?? '', method, url, response, body: options.body });
  }
}

/** Why a 401 happened, as far as the `WWW-Authenticate` challenge (RFC 6750 section 3.1, RFC 9470) tells. */
export type UnauthorizedReason =
  | 'missing-credentials'
  | 'invalid-token'
  | 'expired-token'
  | 'step-up-required'
  | 'unknown';

/** Options of the `UnauthorizedError` constructor. */
export interface UnauthorizedErrorOptions extends HttpErrorOptions {
  /** The parsed `WWW-Authenticate` challenges. @default [] */
  challenges?: Challenge[];
  /** Why. @default 'unknown' */
  reason?: UnauthorizedReason;
}

/**
 * A 401 that no refresh could cure (or no refresh was possible). `reason` says why; `step-up-required` means the
 * server wants a stronger or more recent sign-in (RFC 9470: see `acr_values` / `max_age` in `challenges`).
 * The client's mapping says in `userMessage` whether the session has ended or is still active.
 *
 * @example
 * ```ts
 * if (isUnauthorizedError(error)) {
 *   if (error.reason === 'step-up-required') reauthenticate(error.challenges);
 *   else redirectToSignIn();
 * }
 * ```
 */
export class UnauthorizedError extends HttpError {
  static override readonly code = 'ERR_UNAUTHORIZED' as const;
  override name = 'UnauthorizedError' as const;
  declare readonly code: 'ERR_UNAUTHORIZED';
  /** The parsed `WWW-Authenticate` challenges (empty when there was none or it was unreadable). */
  declare readonly challenges: Challenge[];
  /** Why the request was refused. */
  declare readonly reason: UnauthorizedReason;

  /**
   * @param message Default: the `HttpError` message followed by ` (<reason>)`.
   * @param options The response and request; see {@link UnauthorizedErrorOptions}.
   */
  constructor(message: string | undefined, options: UnauthorizedErrorOptions) {
    const reason = options.reason ?? 'unknown';
    const url = options.url ?? options.response.url;
    super(
      message ?? `Request failed with status 401${requestNote(options.method, url)} (${reason})`,
      withDefaults(
        options,
        reason === 'step-up-required'
          ? 'For your security, please confirm your identity again to continue.'
          : 'Please sign in to continue.',
        'sign-in',
      ),
    );
    this.challenges = options.challenges ?? [];
    this.reason = reason;
  }
}

/** Options of the `ForbiddenError` constructor. */
export interface ForbiddenErrorOptions extends HttpErrorOptions {
  /** The scopes needed (from an `insufficient_scope` challenge). */
  requiredScope?: string[];
}

/**
 * A 403: the person is signed in but may not do this. `requiredScope` lists the scopes the server asked for in an
 * `insufficient_scope` challenge (RFC 6750 section 3.1), when it did.
 *
 * @example
 * ```ts
 * if (isForbiddenError(error)) showRequestAccess(error.userMessage, error.requiredScope);
 * ```
 */
export class ForbiddenError extends HttpError {
  static override readonly code = 'ERR_FORBIDDEN' as const;
  override name = 'ForbiddenError' as const;
  declare readonly code: 'ERR_FORBIDDEN';
  /** The scopes an `insufficient_scope` challenge asked for. */
  declare readonly requiredScope?: string[];

  /**
   * @param message Default: as `HttpError`'s.
   * @param options The response and request; see {@link ForbiddenErrorOptions}.
   */
  constructor(message: string | undefined, options: ForbiddenErrorOptions) {
    super(
      message,
      withDefaults(
        options,
        "You don't have access to this. Ask its owner or an administrator to give you access.",
        'request-access',
      ),
    );
    this.requiredScope = options.requiredScope;
  }
}

/**
 * A 404: what was asked for is not there (or the server will not say it is).
 *
 * @example
 * ```ts
 * if (isNotFoundError(error)) navigate('/not-found');
 * ```
 */
export class NotFoundError extends HttpError {
  static override readonly code = 'ERR_NOT_FOUND' as const;
  override name = 'NotFoundError' as const;
  declare readonly code: 'ERR_NOT_FOUND';

  /**
   * @param message Default: as `HttpError`'s.
   * @param options The response and request; see {@link HttpErrorOptions}.
   */
  constructor(message: string | undefined, options: HttpErrorOptions) {
    super(message, withDefaults(options, "This page or item doesn't exist. It may have been moved or removed.", 'go-back'));
  }
}

/** Options of the `RateLimitError` constructor. */
export interface RateLimitErrorOptions extends HttpErrorOptions {
  /** How long to wait, in ms (from `Retry-After`). */
  retryAfterMs?: number;
}

/**
 * A 429 that retries did not get past. `retryAfterMs` is the server's `Retry-After`, in milliseconds, when it sent
 * a readable one.
 *
 * @example
 * ```ts
 * if (isRateLimitError(error)) scheduleRetry(error.retryAfterMs ?? 5_000);
 * ```
 */
export class RateLimitError extends HttpError {
  static override readonly code = 'ERR_RATE_LIMITED' as const;
  override name = 'RateLimitError' as const;
  declare readonly code: 'ERR_RATE_LIMITED';
  /** How long the server asked to wait, in ms (never negative); `undefined` when it did not say or was unreadable. */
  declare readonly retryAfterMs?: number;

  /**
   * @param message Default: as `HttpError`'s.
   * @param options The response and request; see {@link RateLimitErrorOptions}.
   */
  constructor(message: string | undefined, options: RateLimitErrorOptions) {
    super(
      message,
      withDefaults(
        options,
        'There have been too many requests in a short time. Please wait a moment and try again.',
        'retry',
      ),
    );
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * A 5xx that retries did not get past.
 *
 * @example
 * ```ts
 * if (isServerError(error)) showToast(error.userMessage); // "Something went wrong on our side..."
 * ```
 */
export class ServerError extends HttpError {
  static override readonly code = 'ERR_SERVER' as const;
  override name = 'ServerError' as const;
  declare readonly code: 'ERR_SERVER';
}
