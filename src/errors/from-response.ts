/**
 * Response -> typed error: the one place that reads a response (status, `WWW-Authenticate`, `Retry-After`, the
 * body) into the fields of the error classes, whose constructors only assign.
 */
import { parseChallenges, summarizeChallenges, type Challenge, type ChallengeSummary } from '../challenge.js';
import { retryAfterMs } from '../lib/retry-after.js';
import { serverText } from '../lib/server-text.js';
import { readErrorBody } from './body.js';
import { SESSION_ENDED } from './session.js';
import {
  ForbiddenError,
  HttpError,
  NotFoundError,
  RateLimitError,
  ServerError,
  UnauthorizedError,
  type ForbiddenErrorOptions,
  type HttpErrorOptions,
  type RateLimitErrorOptions,
  type UnauthorizedReason,
} from './http.js';

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
   * Whether the session is still active as the error is made. A final 401 then tells the person that this request
   * was refused, not that their session has ended; `false` says it has ended; `undefined` says neither.
   */
  sessionActive?: boolean;
  /** Values the request carried (the access token) that a field made from server text must never contain. */
  secrets?: readonly (string | undefined)[];
  /** The body, when the caller has read it already (a response read once, without `clone()`). */
  body?: unknown;
  /**
   * How long reading the error body may take, in ms, so that a server that stalls mid-body cannot leave the
   * request unsettled. Past it `body` is `undefined`.
   * @default 5000
   */
  bodyTimeout?: number;
}

const ACCESS_NOT_CONFIRMED = "We couldn't confirm your access to this. Please sign in again, and contact support if that doesn't help.";

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
  const { status, headers } = response;
  const { secrets } = options;
  const body = redactSecrets('body' in options ? options.body : await readErrorBody(response, options.bodyTimeout ?? 5_000), secrets);
  const base: HttpErrorOptions = { response, method: request.method, url: request.url, body, statusText: serverText(response.statusText, secrets) ?? '' };
  const challenges = parseChallenges(headers.get('www-authenticate'));
  if (status === 401) {
    // Server text: an `error_description` or a token68 may echo the token the request carried.
    const redacted = redactSecrets(challenges, secrets) as Challenge[];
    const reason = unauthorizedReason(summarizeChallenges(redacted), options.credentialsSent);
    const active = options.sessionActive;
    return new UnauthorizedError(undefined, {
      ...base,
      challenges: redacted,
      reason,
      userMessage:
        reason === 'step-up-required' || reason === 'missing-credentials' || active === undefined
          ? undefined
          : active
            ? ACCESS_NOT_CONFIRMED
            : SESSION_ENDED,
    });
  }
  // Each class takes the fields it has (403 requiredScope, 429 retryAfterMs) and ignores the others.
  return new ((
    status === 403 ? ForbiddenError : status === 404 ? NotFoundError : status === 429 ? RateLimitError : status > 499 && status < 600 ? ServerError : HttpError
  ) as new (message: undefined, options: ForbiddenErrorOptions & RateLimitErrorOptions) => HttpError)(undefined, {
    ...base,
    requiredScope: requiredScope(summarizeChallenges(challenges), secrets),
    retryAfterMs: retryAfterMs(headers),
  });
}

function unauthorizedReason(summary: ChallengeSummary, credentialsSent: boolean | undefined): UnauthorizedReason {
  // RFC 9470 section 3: the resource server wants a stronger or fresher authentication, not a new token.
  if (summary.error === 'insufficient_user_authentication') return 'step-up-required';
  if (summary.error === 'invalid_token') {
    // RFC 6750 has no separate code for expiry; servers say it in error_description ("The access token expired").
    // (No description reads as 'undefined', which names no expiry.)
    return /expir(?:y|ed|es|ation)/i.test(summary.errorDescription as string) ? 'expired-token' : 'invalid-token';
  }
  // RFC 6750 section 3.1: a request without credentials gets a challenge without an error code.
  if (summary.error === undefined && credentialsSent === false) return 'missing-credentials';
  return 'unknown';
}

// The `scope` of an `insufficient_scope` challenge (RFC 6750 section 3.1): server text, so each scope-token is
// kept only as RFC 6749 section 3.3 defines it (NQCHAR, no spaces or quotes), capped, and never one that carries
// the token the request sent.
function requiredScope(summary: ChallengeSummary, secrets: readonly (string | undefined)[] = []): string[] | undefined {
  const scopes = (summary.error === 'insufficient_scope' && summary.scope) || [];
  const kept = scopes
    .map((scope) => /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(scope) && serverText(scope, secrets, 128))
    // serverText gives a non-empty string or nothing.
    .filter(Boolean)
    .slice(0, 32) as string[];
  return kept[0] ? kept : undefined;
}

/**
 * Server data (the error body, parsed challenges) with every secret the request carried replaced by `[redacted]`, in
 * every string of it. The body is the app's own data (validation details, problem details) and is kept, but a server
 * that echoes the request hands back the `Authorization` header in it, and it travels on in the error and the events.
 */
function redactSecrets(body: unknown, secrets: readonly (string | undefined)[] = []): unknown {
  // Empty strings are no secret (and would match everywhere).
  const present = secrets.filter(Boolean) as string[];
  if (!present[0]) return body;
  const redact = (text: string): string => present.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), text);
  // A copy built with a work list, not recursion: 64 KiB of `[[[[...]]]]` parses into 32k levels, deeper than
  // the call stack allows. `copy` gives a string redacted, a primitive as it is, and an object an empty copy that
  // the loop below fills.
  const pending: Array<[object, Record<string, unknown>]> = [];
  const copy = (value: unknown): unknown => {
    if (typeof value === 'string') return redact(value);
    if (typeof value !== 'object' || value === null) return value;
    const target = Array.isArray(value) ? [] : {};
    pending.push([value, target as Record<string, unknown>]);
    return target;
  };
  const root = copy(body);
  // for-of goes on to the pairs pushed while it runs.
  for (const [source, target] of pending) {
    for (const [key, value] of Object.entries(source)) {
      // defineProperty: a key named `__proto__` stays a plain own property of the copy.
      Object.defineProperty(target, Array.isArray(target) ? key : redact(key), { value: copy(value), enumerable: true, writable: true, configurable: true });
    }
  }
  return root;
}
