/**
 * The typed errors of authfetch, and the mapping of failures (an HTTP answer, or no answer at all) to them.
 *
 * Every error carries three things for three readers: `message` for the developer (method and URL, never a token),
 * `userMessage` for the person in front of the UI (plain words, no jargon) and `action`, what that person can do.
 * `code` is stable and is what the guards check, because `instanceof` fails across bundles and realms
 * (two copies of the package, an iframe, a worker).
 */
import { parseChallenges, summarizeChallenges, type Challenge, type ChallengeSummary } from './challenge.js';

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------------------------

/**
 * The stable code of every authfetch error. `switch (error.code)` over it is checked for exhaustiveness.
 *
 * @example
 * ```ts
 * if (isAuthFetchError(error)) {
 *   switch (error.code) {
 *     case 'ERR_UNAUTHORIZED': showSignIn(); break;
 *     case 'ERR_FORBIDDEN': showRequestAccess(); break;
 *     default: showToast(error.userMessage);
 *   }
 * }
 * ```
 */
export type ErrorCode =
  | 'ERR_HTTP'
  | 'ERR_UNAUTHORIZED'
  | 'ERR_FORBIDDEN'
  | 'ERR_NOT_FOUND'
  | 'ERR_RATE_LIMITED'
  | 'ERR_SERVER'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_SESSION_EXPIRED'
  | 'ERR_TOKEN_RESPONSE';

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

/**
 * What the person using the app can do about an error; a UI can pick a button from it.
 *
 * - `sign-in`: sign in (again). - `retry`: try again (perhaps after a moment). - `request-access`: ask for access.
 * - `go-back`: what they asked for is not there. - `check-connection`: they seem to be offline.
 * - `contact-support`: nothing they can do themselves. - `none`: nothing to offer.
 */
export type UserAction =
  | 'sign-in'
  | 'retry'
  | 'request-access'
  | 'go-back'
  | 'check-connection'
  | 'contact-support'
  | 'none';

/** Options every authfetch error accepts. */
export interface AuthFetchErrorOptions {
  /** The underlying failure, kept as the standard `Error.cause`. */
  cause?: unknown;
  /** Replaces the default plain-language message for the UI. */
  userMessage?: string;
  /** Replaces the default suggested action. */
  action?: UserAction;
}

/**
 * What `JSON.stringify(error)` produces: plain data, safe to log or post to another tab.
 * Never the `Response`, headers, body or `cause` (any of which may hold a token); `url` has no query or fragment.
 */
export interface AuthFetchErrorJSON {
  name: string;
  code: ErrorCode;
  message: string;
  userMessage: string;
  action: UserAction;
  status?: number;
  statusText?: string;
  method?: string;
  url?: string;
  reason?: string;
  retryAfterMs?: number;
  requiredScope?: string[];
  timeout?: number;
}

// The scalar fields toJSON copies when a subclass has them. An allow-list, so a field added later
// (say, one holding a Response or a token) stays out of logs until someone decides it is safe.
const JSON_FIELDS = [
  'status',
  'statusText',
  'method',
  'url',
  'reason',
  'retryAfterMs',
  'requiredScope',
  'timeout',
] as const;

const HTTP_CODES: ReadonlySet<unknown> = new Set<HttpErrorCode>([
  'ERR_HTTP',
  'ERR_UNAUTHORIZED',
  'ERR_FORBIDDEN',
  'ERR_NOT_FOUND',
  'ERR_RATE_LIMITED',
  'ERR_SERVER',
]);

const ALL_CODES: ReadonlySet<unknown> = new Set<ErrorCode>([
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
]);

// Written for a person reading the UI: no status codes, no "HTTP", no "token".
const USER_MESSAGES = {
  sessionEnded: 'Your session has ended. Please sign in again.',
  signInNeeded: 'Please sign in to continue.',
  stepUp: 'For your security, please confirm your identity again to continue.',
  forbidden: "You don't have access to this. Ask its owner or an administrator to give you access.",
  notFound: "This page or item doesn't exist. It may have been moved or removed.",
  rateLimited: 'There have been too many requests in a short time. Please wait a moment and try again.',
  server: 'Something went wrong on our side. Please try again shortly.',
  retryable: "We couldn't complete your request. Please try again.",
  rejected: "We couldn't complete your request. If this keeps happening, please contact support.",
  network: "We can't reach the server. Please check your internet connection and try again.",
  timeout: 'The server took too long to respond. Please try again.',
  tokenResponse: "We couldn't renew your session. Please try again, and contact support if it keeps happening.",
  generic: 'Something went wrong. Please try again.',
} as const;

// ---------------------------------------------------------------------------------------------------------------
// URL redaction
// ---------------------------------------------------------------------------------------------------------------

/**
 * A URL fit for a message or a log line: without its query, fragment and user info, which can carry secrets
 * (`?access_token=`, `#id_token=`, `https://user:password@host`). The path is kept, so the URL still says which
 * endpoint failed.
 *
 * @example
 * ```ts
 * redactUrl('https://api.example/x?access_token=abc#frag'); // 'https://api.example/x'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = '';
    parsed.hash = '';
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    // A relative or malformed URL: cut by hand rather than log it whole.
    const cut = url.search(/[?#]/);
    const head = cut === -1 ? url : url.slice(0, cut);
    return head.replace(/^([a-z][a-z\d+.-]*:\/\/)[^/@]*@/i, '$1');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Base class
// ---------------------------------------------------------------------------------------------------------------

/**
 * The base of every authfetch error. It is abstract: every error has one of the codes of {@link ErrorCode},
 * so create one of the concrete classes. `instanceof AuthFetchError` works within one copy of the package;
 * use {@link isAuthFetchError} (which checks `code`) across bundles and realms.
 *
 * @example
 * ```ts
 * try {
 *   await auth.http.get('orders').json();
 * } catch (error) {
 *   if (isAuthFetchError(error)) showBanner(error.userMessage, error.action);
 *   else throw error;
 * }
 * ```
 */
export abstract class AuthFetchError extends Error {
  /** The class name, as a literal so that minifiers cannot mangle it. */
  override name: string = 'AuthFetchError';
  /** The stable code; see {@link ErrorCode}. */
  abstract readonly code: ErrorCode;
  /** A plain-language message for the person using the app (no jargon, no codes). */
  readonly userMessage: string;
  /** What that person can do about it. */
  readonly action: UserAction;

  /**
   * @param message The developer-facing message. Name the method and URL (without query), never a token.
   * @param options `cause`, and overrides for `userMessage` and `action`.
   */
  constructor(message: string, options: AuthFetchErrorOptions = {}) {
    // Pass `cause` only when given, so that `'cause' in error` stays meaningful.
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.userMessage = options.userMessage ?? USER_MESSAGES.generic;
    this.action = options.action ?? 'retry';
  }

  /**
   * A plain, token-free object: `name`, `code`, `message`, `userMessage`, `action` and the scalar fields of the
   * class (`status`, `statusText`, `method`, `url` without query, `reason`, `retryAfterMs`, `requiredScope`,
   * `timeout`). Never the `Response`, headers, body or `cause`. `JSON.stringify(error)` uses it; post
   * `error.toJSON()` (not the error) to another tab or worker, since structured clone drops custom fields.
   */
  toJSON(): AuthFetchErrorJSON {
    const json: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
      userMessage: this.userMessage,
      action: this.action,
    };
    const fields = this as unknown as Record<string, unknown>;
    for (const key of JSON_FIELDS) {
      const value = fields[key];
      if (typeof value === 'string') json[key] = key === 'url' ? redactUrl(value) : value;
      else if (typeof value === 'number' || typeof value === 'boolean') json[key] = value;
      else if (Array.isArray(value) && value.every((item) => typeof item === 'string')) json[key] = [...value];
    }
    return json as unknown as AuthFetchErrorJSON;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP errors
// ---------------------------------------------------------------------------------------------------------------

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
  /** Replaces the default developer message. */
  message?: string;
}

/**
 * A non-2xx response that none of the more specific classes below covers (400, 408, 409, 422, ...); the base of
 * `UnauthorizedError`, `ForbiddenError`, `NotFoundError`, `RateLimitError` and `ServerError`.
 *
 * Default `action`: `retry` for 408, 425 and 5xx (the same request may succeed later), `contact-support` for other
 * statuses (the server rejected this request as it is, so repeating it will not help and the person cannot fix it).
 *
 * @example
 * ```ts
 * if (isHttpError(error) && error.status === 422) showFieldErrors(error.body);
 * // Built by hand (tests, adapters):
 * new HttpError({ response: new Response(null, { status: 409 }), method: 'PUT', url: 'https://api.example/doc/1' });
 * ```
 */
export class HttpError extends AuthFetchError {
  /** `'ERR_HTTP'`; typed as the HTTP codes so that subclasses can narrow it. */
  static readonly code: HttpErrorCode = 'ERR_HTTP';
  override name: HttpErrorName = 'HttpError';
  override readonly code: HttpErrorCode = 'ERR_HTTP';
  /** The response status. */
  readonly status: number;
  /** The response status text (empty over HTTP/2). */
  readonly statusText: string;
  /** The request method. */
  readonly method: string;
  /** The full request URL, query included. Messages and `toJSON()` show it without query. */
  readonly url: string;
  /** The response, still readable: `errorFromResponse` reads its body from a clone. */
  readonly response: Response;
  /**
   * The body: parsed JSON (an RFC 9457 problem details object for `application/problem+json`), else text,
   * at most 64 KiB (a longer body is cut, and a cut JSON body stays text). `undefined` when empty or unreadable.
   */
  readonly body: unknown;

  /** @param options The response and request; see {@link HttpErrorOptions}. */
  constructor(options: HttpErrorOptions) {
    const { response } = options;
    const url = options.url ?? response.url;
    super(options.message ?? httpMessage(response.status, response.statusText, options.method, url), {
      ...('cause' in options ? { cause: options.cause } : {}),
      userMessage: options.userMessage ?? httpUserMessage(response.status),
      action: options.action ?? httpAction(response.status),
    });
    this.status = response.status;
    this.statusText = response.statusText;
    this.method = options.method;
    this.url = url;
    this.response = response;
    this.body = options.body;
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
  /** The parsed challenges. Default: parsed from the response's `WWW-Authenticate`. */
  challenges?: Challenge[];
  /** Why. Default: derived from the challenges (and `credentialsSent`). */
  reason?: UnauthorizedReason;
  /** Whether the request carried credentials; lets a bare challenge be read as `missing-credentials`. */
  credentialsSent?: boolean;
}

/**
 * A 401 that no refresh could cure (or no refresh was possible). `reason` says why; `step-up-required` means the
 * server wants a stronger or more recent sign-in (RFC 9470: see `acr_values` / `max_age` in `challenges`).
 *
 * @example
 * ```ts
 * if (isUnauthorizedError(error)) {
 *   if (error.reason === 'step-up-required') reauthenticate(summarizeChallenges(error.challenges).acrValues);
 *   else redirectToSignIn();
 * }
 * ```
 */
export class UnauthorizedError extends HttpError {
  static override readonly code = 'ERR_UNAUTHORIZED' as const;
  override name = 'UnauthorizedError' as const;
  override readonly code = 'ERR_UNAUTHORIZED' as const;
  /** The parsed `WWW-Authenticate` challenges (empty when there was none or it was unreadable). */
  readonly challenges: Challenge[];
  /** Why the request was refused. */
  readonly reason: UnauthorizedReason;

  /** @param options The response and request; see {@link UnauthorizedErrorOptions}. */
  constructor(options: UnauthorizedErrorOptions) {
    const challenges = options.challenges ?? parseChallenges(options.response.headers.get('www-authenticate'));
    const reason = options.reason ?? unauthorizedReason(summarizeChallenges(challenges), options.credentialsSent);
    const url = options.url ?? options.response.url;
    super({
      ...options,
      message:
        options.message ??
        `${httpMessage(options.response.status, options.response.statusText, options.method, url)} (${reason})`,
      userMessage:
        options.userMessage ??
        (reason === 'step-up-required'
          ? USER_MESSAGES.stepUp
          : reason === 'missing-credentials'
            ? USER_MESSAGES.signInNeeded
            : USER_MESSAGES.sessionEnded),
      action: options.action ?? 'sign-in',
    });
    this.challenges = challenges;
    this.reason = reason;
  }
}

/** Options of the `ForbiddenError` constructor. */
export interface ForbiddenErrorOptions extends HttpErrorOptions {
  /** The scopes needed. Default: the `scope` of an `insufficient_scope` challenge in the response. */
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
  override readonly code = 'ERR_FORBIDDEN' as const;
  /** The scopes an `insufficient_scope` challenge asked for. */
  readonly requiredScope?: string[];

  /** @param options The response and request; see {@link ForbiddenErrorOptions}. */
  constructor(options: ForbiddenErrorOptions) {
    const requiredScope =
      'requiredScope' in options ? options.requiredScope : scopeFromChallenge(options.response.headers);
    const url = options.url ?? options.response.url;
    super({
      ...options,
      message:
        options.message ??
        httpMessage(options.response.status, options.response.statusText, options.method, url) +
          (requiredScope && requiredScope.length > 0 ? ` (requires scope ${requiredScope.join(' ')})` : ''),
      userMessage: options.userMessage ?? USER_MESSAGES.forbidden,
      action: options.action ?? 'request-access',
    });
    this.requiredScope = requiredScope;
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
  override readonly code = 'ERR_NOT_FOUND' as const;

  /** @param options The response and request; see {@link HttpErrorOptions}. */
  constructor(options: HttpErrorOptions) {
    super({
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.notFound,
      action: options.action ?? 'go-back',
    });
  }
}

/** Options of the `RateLimitError` constructor. */
export interface RateLimitErrorOptions extends HttpErrorOptions {
  /** How long to wait, in ms. Default: from the response's `Retry-After` (seconds or an HTTP-date). */
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
  override readonly code = 'ERR_RATE_LIMITED' as const;
  /** How long the server asked to wait, in ms (never negative); `undefined` when it did not say or was unreadable. */
  readonly retryAfterMs?: number;

  /** @param options The response and request; see {@link RateLimitErrorOptions}. */
  constructor(options: RateLimitErrorOptions) {
    super({
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.rateLimited,
      action: options.action ?? 'retry',
    });
    this.retryAfterMs = 'retryAfterMs' in options ? options.retryAfterMs : retryAfterFrom(options.response.headers);
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
  override readonly code = 'ERR_SERVER' as const;

  /** @param options The response and request; see {@link HttpErrorOptions}. */
  constructor(options: HttpErrorOptions) {
    super({
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.server,
      action: options.action ?? 'retry',
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Errors without a response
// ---------------------------------------------------------------------------------------------------------------

/** Options of `NetworkError` and `TimeoutError`. */
export interface RequestErrorOptions extends AuthFetchErrorOptions {
  /** The request method, for the message. */
  method?: string;
  /** The request URL (kept whole in `error.url`; shown without query in the message). */
  url?: string;
}

/**
 * No response at all: offline, DNS failure, connection refused or reset, or a CORS refusal (which browsers
 * report the same way). `cause` is the platform's error (in Node, its own `cause` has the system code such as
 * `ECONNREFUSED`).
 *
 * Constructor: `new NetworkError(message?, { cause?, method?, url?, userMessage?, action? })`; the default message
 * names the method and URL.
 *
 * @example
 * ```ts
 * if (isNetworkError(error)) showOfflineBanner(); // action: 'check-connection'
 * ```
 */
export class NetworkError extends AuthFetchError {
  static readonly code = 'ERR_NETWORK' as const;
  override name = 'NetworkError' as const;
  override readonly code = 'ERR_NETWORK' as const;
  /** The request method, when known. */
  readonly method?: string;
  /** The full request URL, when known. */
  readonly url?: string;

  /**
   * @param message Default: `Network request failed: <method> <url without query>`, with the system code when known.
   * @param options See {@link RequestErrorOptions}.
   */
  constructor(message?: string, options: RequestErrorOptions = {}) {
    super(message ?? `Network request failed${systemCodeNote(options.cause)}${requestNote(options)}`, {
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.network,
      action: options.action ?? 'check-connection',
    });
    this.method = options.method;
    this.url = options.url;
  }
}

/** Options of the `TimeoutError` constructor. */
export interface TimeoutErrorOptions extends RequestErrorOptions {
  /** The timeout that was exceeded, in ms. */
  timeout?: number;
}

/**
 * A network attempt outlived its `timeout`. Not raised for time spent waiting for a refresh or a sign-in.
 *
 * Its `name` is `'TimeoutError'`, like ky's and like the DOMException of `AbortSignal.timeout()`; tell them apart
 * by `code` (`isTimeoutError`), not by name.
 *
 * Constructor: `new TimeoutError(message?, { cause?, method?, url?, timeout?, userMessage?, action? })`.
 *
 * @example
 * ```ts
 * if (isTimeoutError(error)) showToast(error.userMessage); // action: 'retry'
 * ```
 */
export class TimeoutError extends AuthFetchError {
  static readonly code = 'ERR_TIMEOUT' as const;
  override name = 'TimeoutError' as const;
  override readonly code = 'ERR_TIMEOUT' as const;
  /** The request method, when known. */
  readonly method?: string;
  /** The full request URL, when known. */
  readonly url?: string;
  /** The timeout that was exceeded, in ms, when known. */
  readonly timeout?: number;

  /**
   * @param message Default: `Request timed out[ after <n> ms]: <method> <url without query>`.
   * @param options See {@link TimeoutErrorOptions}.
   */
  constructor(message?: string, options: TimeoutErrorOptions = {}) {
    const after = typeof options.timeout === 'number' ? ` after ${options.timeout} ms` : '';
    super(message ?? `Request timed out${after}${requestNote(options)}`, {
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.timeout,
      action: options.action ?? 'retry',
    });
    this.method = options.method;
    this.url = options.url;
    this.timeout = options.timeout;
  }
}

/**
 * Why a session ended. The listed values are the ones authfetch uses; any string is accepted so that a custom
 * refresh strategy can give its own.
 */
export type SessionExpiredReason =
  | 'refresh-rejected'
  | 'idle'
  | 'no-refresh-token'
  | 'other-tab'
  | 'logout'
  | 'login-timeout'
  | 'unknown'
  // `string & {}` keeps the literals above in editor completion while accepting any string.
  | (string & {});

/** Options of the `SessionExpiredError` constructor. */
export interface SessionExpiredErrorOptions extends AuthFetchErrorOptions {
  /** Why the session ended. Default: `'unknown'`. */
  reason?: SessionExpiredReason;
}

/**
 * The session is over and the person must sign in again: the refresh was rejected, the idle timeout passed, there
 * is no refresh token, another tab ended it, `logout()` was called while a request was held, or the wait for
 * sign-in timed out. A `customRefresh` function throws it to say the session is over.
 *
 * Constructor: `new SessionExpiredError(message?, { reason?, cause?, userMessage?, action? })`.
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
  override readonly code = 'ERR_SESSION_EXPIRED' as const;
  /** Why the session ended. */
  readonly reason: SessionExpiredReason;

  /**
   * @param message Default: `The session has ended (<reason>)`.
   * @param options See {@link SessionExpiredErrorOptions}.
   */
  constructor(message?: string, options: SessionExpiredErrorOptions = {}) {
    const reason = options.reason ?? 'unknown';
    super(message ?? `The session has ended (${reason})`, {
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.sessionEnded,
      action: options.action ?? 'sign-in',
    });
    this.reason = reason;
  }
}

/** Options of the `TokenResponseError` constructor. */
export interface TokenResponseErrorOptions extends AuthFetchErrorOptions {
  /** The token endpoint's status, when it answered. */
  status?: number;
}

/**
 * The token (refresh) endpoint answered something unusable: not JSON, no `access_token`, a malformed token set.
 * Treated as transient (the session is kept), hence `action: 'retry'`.
 *
 * Constructor: `new TokenResponseError(message?, { status?, cause?, userMessage?, action? })`. Never put the
 * response text in the message: it may hold tokens.
 *
 * @example
 * ```ts
 * if (typeof json.access_token !== 'string') throw new TokenResponseError('The token response has no access_token');
 * ```
 */
export class TokenResponseError extends AuthFetchError {
  static readonly code = 'ERR_TOKEN_RESPONSE' as const;
  override name = 'TokenResponseError' as const;
  override readonly code = 'ERR_TOKEN_RESPONSE' as const;
  /** The token endpoint's status, when known. */
  readonly status?: number;

  /**
   * @param message Default: `The token endpoint returned an unusable response`.
   * @param options See {@link TokenResponseErrorOptions}.
   */
  constructor(message?: string, options: TokenResponseErrorOptions = {}) {
    super(message ?? 'The token endpoint returned an unusable response', {
      ...options,
      userMessage: options.userMessage ?? USER_MESSAGES.tokenResponse,
      action: options.action ?? 'retry',
    });
    this.status = options.status;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Guards
// ---------------------------------------------------------------------------------------------------------------

// Reads `code` defensively: a throwing getter or a revoked Proxy must make a guard say "no", not throw.
function codeOf(value: unknown): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as { code?: unknown }).code;
  } catch {
    return undefined;
  }
}

/**
 * Whether `value` is an authfetch error: an object whose `code` is one of {@link ErrorCode}. Works across bundles
 * and realms, where `instanceof` does not.
 *
 * @example
 * ```ts
 * catch (error) { if (isAuthFetchError(error)) toast(error.userMessage); else throw error; }
 * ```
 */
export function isAuthFetchError(value: unknown): value is AuthFetchError {
  return ALL_CODES.has(codeOf(value));
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
  return HTTP_CODES.has(codeOf(value));
}

/**
 * Whether `value` is an `UnauthorizedError` (`code === 'ERR_UNAUTHORIZED'`).
 *
 * @example
 * ```ts
 * if (isUnauthorizedError(error)) redirectToSignIn();
 * ```
 */
export function isUnauthorizedError(value: unknown): value is UnauthorizedError {
  return codeOf(value) === UnauthorizedError.code;
}

/**
 * Whether `value` is a `ForbiddenError` (`code === 'ERR_FORBIDDEN'`).
 *
 * @example
 * ```ts
 * if (isForbiddenError(error)) showRequestAccess(error.requiredScope);
 * ```
 */
export function isForbiddenError(value: unknown): value is ForbiddenError {
  return codeOf(value) === ForbiddenError.code;
}

/** Whether `value` is a `NotFoundError` (`code === 'ERR_NOT_FOUND'`). */
export function isNotFoundError(value: unknown): value is NotFoundError {
  return codeOf(value) === NotFoundError.code;
}

/** Whether `value` is a `RateLimitError` (`code === 'ERR_RATE_LIMITED'`). */
export function isRateLimitError(value: unknown): value is RateLimitError {
  return codeOf(value) === RateLimitError.code;
}

/** Whether `value` is a `ServerError` (`code === 'ERR_SERVER'`). */
export function isServerError(value: unknown): value is ServerError {
  return codeOf(value) === ServerError.code;
}

/** Whether `value` is a `NetworkError` (`code === 'ERR_NETWORK'`). */
export function isNetworkError(value: unknown): value is NetworkError {
  return codeOf(value) === NetworkError.code;
}

/**
 * Whether `value` is authfetch's `TimeoutError` (`code === 'ERR_TIMEOUT'`); ky's `TimeoutError` and the
 * `TimeoutError` DOMException share the name but not the code, and are not matched.
 */
export function isTimeoutError(value: unknown): value is TimeoutError {
  return codeOf(value) === TimeoutError.code;
}

/** Whether `value` is a `SessionExpiredError` (`code === 'ERR_SESSION_EXPIRED'`). */
export function isSessionExpiredError(value: unknown): value is SessionExpiredError {
  return codeOf(value) === SessionExpiredError.code;
}

/** Whether `value` is a `TokenResponseError` (`code === 'ERR_TOKEN_RESPONSE'`). */
export function isTokenResponseError(value: unknown): value is TokenResponseError {
  return codeOf(value) === TokenResponseError.code;
}

// ---------------------------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------------------------

/** The request a response or failure belongs to; only its method and URL are used (for messages). */
export interface RequestInfoLike {
  method: string;
  url: string;
}

/** Options of {@link errorFromResponse}. */
export interface ErrorFromResponseOptions {
  /**
   * Whether the request carried credentials (an `Authorization` header). When `false`, a 401 whose challenge has
   * no `error` is `missing-credentials` (RFC 6750 section 3.1: no error code when the request had no credentials).
   */
  credentialsSent?: boolean;
  /**
   * How long reading the error body may take, in ms, so that a server that stalls mid-body cannot leave the
   * request unsettled. Past it `body` is `undefined`.
   * @default 5000
   */
  bodyTimeout?: number;
}

/** The most of an error body that is read, in bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

const DEFAULT_BODY_TIMEOUT = 5_000;

/**
 * Maps a non-2xx response to its typed error: 401 `UnauthorizedError`, 403 `ForbiddenError`, 404 `NotFoundError`,
 * 429 `RateLimitError`, 5xx `ServerError`, anything else (408 included) `HttpError`.
 *
 * The body is read from `response.clone()`, so `error.response` stays readable; at most 64 KiB of it, chunk by
 * chunk, cancelling the clone at the limit. JSON (`application/json`, `application/problem+json`, any `+json`)
 * is parsed (text if it does not parse); anything else is text; an empty, unreadable or non-UTF-8 body is
 * `undefined`. It never rejects because of the body.
 *
 * @example
 * ```ts
 * const response = await fetch(url, init);
 * if (!response.ok) throw await errorFromResponse(response, { method: 'GET', url }, { credentialsSent: true });
 * ```
 */
export async function errorFromResponse(
  response: Response,
  request: RequestInfoLike,
  options: ErrorFromResponseOptions = {},
): Promise<HttpError> {
  const body = await readErrorBody(response, options.bodyTimeout ?? DEFAULT_BODY_TIMEOUT);
  const base: HttpErrorOptions = { response, method: request.method, url: request.url, body };
  const { status } = response;
  if (status === 401) return new UnauthorizedError({ ...base, credentialsSent: options.credentialsSent });
  if (status === 403) return new ForbiddenError(base);
  if (status === 404) return new NotFoundError(base);
  if (status === 429) return new RateLimitError(base);
  if (status >= 500 && status <= 599) return new ServerError(base);
  return new HttpError(base);
}

/**
 * Maps a failure that produced no response (what `fetch` or ky threw) to a typed error:
 *
 * - an authfetch error passes through unchanged (our own `TimeoutError` included, recognised by its code);
 * - an `AbortError`, or whatever reason the app aborted with, passes through unchanged: the app asked for it;
 * - an error named `TimeoutError` (ky's, or the DOMException of `AbortSignal.timeout()`) becomes `TimeoutError`;
 * - a `TypeError` with one of the messages fetch uses for network failures (`fetch failed` in Node,
 *   `Failed to fetch`, `NetworkError when attempting to fetch resource.`, `Load failed` in browsers) becomes
 *   `NetworkError` with the original as `cause`;
 * - anything else (a bug in a hook, an invalid URL) passes through unchanged rather than pose as a network failure.
 *
 * @example
 * ```ts
 * try { return await fetch(url, init); }
 * catch (error) { throw errorFromFailure(error, { method: 'GET', url }); }
 * ```
 */
export function errorFromFailure(error: unknown, request: RequestInfoLike): unknown {
  if (isAuthFetchError(error)) return error;
  if ((typeof error !== 'object' && typeof error !== 'function') || error === null) return error;
  const name = readString(error, 'name');
  if (name === 'AbortError') return error;
  const where = { method: request.method, url: request.url };
  if (name === 'TimeoutError') return new TimeoutError(undefined, { ...where, cause: error });
  if (name === 'TypeError' && isFetchNetworkMessage(readString(error, 'message'))) {
    return new NetworkError(undefined, { ...where, cause: error });
  }
  return error;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

function httpMessage(status: number, statusText: string, method: string, url: string): string {
  // As ky does: "Request failed with status 403 Forbidden: GET https://api.example/x", without the query.
  const statusPart = `${status} ${statusText}`.trim();
  return `Request failed with status ${statusPart}: ${method} ${redactUrl(url)}`;
}

function httpUserMessage(status: number): string {
  if (status >= 500 && status <= 599) return USER_MESSAGES.server;
  if (isRetryableClientStatus(status)) return USER_MESSAGES.retryable;
  return USER_MESSAGES.rejected;
}

function httpAction(status: number): UserAction {
  if ((status >= 500 && status <= 599) || isRetryableClientStatus(status)) return 'retry';
  return 'contact-support';
}

// 408 Request Timeout and 425 Too Early say "send it again later"; other 4xx reject the request itself.
function isRetryableClientStatus(status: number): boolean {
  return status === 408 || status === 425;
}

function requestNote(options: RequestErrorOptions): string {
  if (options.method === undefined && options.url === undefined) return '';
  return `: ${[options.method, options.url === undefined ? undefined : redactUrl(options.url)]
    .filter((part) => part !== undefined)
    .join(' ')}`;
}

// Node's fetch (undici) puts the system error (ECONNREFUSED, ENOTFOUND, ...) in `cause.cause`. Only a code that
// looks like one is shown: messages of causes can quote input, and input can hold a token.
function systemCodeNote(cause: unknown): string {
  const inner = typeof cause === 'object' && cause !== null ? readProperty(cause, 'cause') : undefined;
  for (const candidate of [inner, cause]) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const code = readProperty(candidate, 'code');
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return ` (${code})`;
  }
  return '';
}

function readProperty(value: object, key: string): unknown {
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function readString(value: object, key: string): string | undefined {
  const property = readProperty(value, key);
  return typeof property === 'string' ? property : undefined;
}

// The messages fetch implementations give a network failure (whatwg/fetch#526: they are not standardised).
const NETWORK_MESSAGES: ReadonlySet<string> = new Set([
  'fetch failed', // Node (undici)
  'terminated', // Node (undici), connection closed mid-response
  'failed to fetch', // Chromium
  'networkerror when attempting to fetch resource.', // Firefox
  'load failed', // Safari
  'the internet connection appears to be offline.', // Safari (older)
  'network request failed', // whatwg-fetch polyfill, React Native
  'network error', // Chromium (some paths)
  'network connection lost', // Cloudflare Workers
]);

function isFetchNetworkMessage(message: string | undefined): boolean {
  if (message === undefined) return false;
  const normalized = message.trim().toLowerCase();
  return (
    NETWORK_MESSAGES.has(normalized) ||
    // Chromium 136+ appends the host: "Failed to fetch (api.example)"
    (normalized.startsWith('failed to fetch (') && normalized.endsWith(')')) ||
    normalized.startsWith('error sending request for url') // Deno
  );
}

function unauthorizedReason(summary: ChallengeSummary, credentialsSent: boolean | undefined): UnauthorizedReason {
  // RFC 9470 section 3: the resource server wants a stronger or fresher authentication, not a new token.
  if (summary.error === 'insufficient_user_authentication') return 'step-up-required';
  if (summary.error === 'invalid_token') {
    // RFC 6750 has no separate code for expiry; servers say it in error_description ("The access token expired").
    return /expir(?:y|ed|es|ation)/i.test(summary.errorDescription ?? '') ? 'expired-token' : 'invalid-token';
  }
  // RFC 6750 section 3.1: a request without credentials gets a challenge without an error code.
  if (summary.error === undefined && credentialsSent === false) return 'missing-credentials';
  return 'unknown';
}

function scopeFromChallenge(headers: Headers): string[] | undefined {
  const summary = summarizeChallenges(parseChallenges(headers.get('www-authenticate')));
  if (summary.error !== 'insufficient_scope' || !summary.scope || summary.scope.length === 0) return undefined;
  return [...summary.scope];
}

/**
 * Retry-After (RFC 9110 section 10.2.3) in ms: delta-seconds or an HTTP-date. A date is measured against the
 * response's own Date header when present, so that a skewed local clock does not stretch or shrink the wait.
 * Also used by the refresh coordinator for a 503's Retry-After. @internal
 */
export function retryAfterFrom(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) {
    const ms = Number(value) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Only something that starts like an HTTP-date ("Sun, 06 Nov 1994 ...", "Sunday, 06-Nov-94 ...",
  // "Sun Nov  6 ..."): Date.parse alone accepts fragments such as "1 2".
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const serverNow = Date.parse(headers.get('date') ?? '');
  const now = Number.isNaN(serverNow) ? Date.now() : serverNow;
  return Math.max(0, at - now);
}

function isJsonContentType(contentType: string | null): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^(?:application|text)\/(?:[\w.!#$&^-]+\+)?json$/.test(mediaType);
}

function charsetOf(contentType: string | null): string {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return match?.[1] ?? 'utf-8';
}

function makeDecoder(contentType: string | null): TextDecoder {
  try {
    return new TextDecoder(charsetOf(contentType), { fatal: true });
  } catch {
    // An unknown charset label: UTF-8 is what servers mean in practice.
    return new TextDecoder('utf-8', { fatal: true });
  }
}

// Reads at most MAX_ERROR_BODY_BYTES of a clone of the body. Never `clone.text()`: an error page can be huge or
// endless. Any failure (already used, aborted stream, stall past the timeout, invalid encoding) gives undefined.
async function readErrorBody(response: Response, timeoutMs: number): Promise<unknown> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    if (response.body === null || response.bodyUsed) return undefined;
    const clone = response.clone();
    if (clone.body === null) return undefined;
    reader = clone.body.getReader();
  } catch {
    return undefined;
  }

  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const result = await Promise.race([reader.read(), deadline]);
      if (result === 'timeout') return undefined;
      if (result.done) {
        complete = true;
        break;
      }
      const room = MAX_ERROR_BODY_BYTES - size;
      const chunk = result.value.byteLength > room ? result.value.subarray(0, room) : result.value;
      chunks.push(chunk);
      size += chunk.byteLength;
    }
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    // Cancelling the clone's branch of the tee stops reading for us only; the original stays readable in full.
    if (!complete) reader.cancel().catch(() => undefined);
  }

  if (size === 0) return undefined;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }

  const contentType = response.headers.get('content-type');
  let text: string;
  try {
    // `stream: true` for a cut body: a multi-byte character split at the limit is dropped, not an error.
    text = makeDecoder(contentType).decode(bytes, { stream: !complete });
  } catch {
    return undefined;
  }
  if (!isJsonContentType(contentType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
