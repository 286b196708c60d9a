/**
 * What the HTTP refresh strategies share: calling an endpoint with the client's fetch, and turning what comes back
 * into either a token set or the typed error that tells the coordinator whether to retry, report or end the
 * session. Each body is read once, bounded, without `Response.clone()` (happy-dom's clone empties both copies).
 */
import {
  NetworkError,
  TokenResponseError,
  errorFromFailure,
  errorFromResponse,
  isAuthFetchError,
  isTransientStatus,
  oauthErrorCode,
  type AuthFetchError,
} from '../errors/index.js';
import { readErrorBody } from '../errors/body.js';
import { discardBody } from '../lib/discard-body.js';
import { readBounded } from '../lib/read-body.js';
import { readProperty } from '../lib/read-property.js';
import { redactUrl } from '../lib/redact-url.js';
import { normalizeTokens } from '../tokens.js';
import type { TokenSet } from '../types.js';

/** A token or session endpoint's request as errors and messages name it: its method and URL. */
export interface EndpointRequest {
  method: string;
  url: string;
}

/** The most of a successful token response that is read, in bytes: tokens are kilobytes, not megabytes. */
export const MAX_TOKEN_RESPONSE_BYTES = 128 * 1024;

/**
 * Call a refresh endpoint. The call asks for `cache: 'no-store'` (a token answer must never come from the HTTP
 * cache), and where the platform refuses that option (workerd before compatibility date 2024-11-11 throws
 * "The 'cache' field on 'RequestInitializerDict' is not implemented.") it is sent once more without it: nothing
 * was sent the first time. Any other failure without a response is a `NetworkError` (or `TimeoutError`) with the
 * platform's error as `cause`, except an abort, which passes through as it is.
 */
export async function callEndpoint(fetchFn: typeof fetch, request: EndpointRequest, init: RequestInit): Promise<Response> {
  const url = request.url;
  try {
    try {
      return await fetchFn(url, { ...init, cache: 'no-store' });
    } catch (error) {
      if (init.signal?.aborted || !isCacheOptionRefused(error)) throw error;
      return await fetchFn(url, init);
    }
  } catch (error) {
    if (init.signal?.aborted) throw error;
    const typed = errorFromFailure(error, request);
    // The endpoint gave no answer: whatever the platform threw (an option it refuses, a CSP block), the refresh
    // failed for want of a response, which is what NetworkError means; the cause keeps the details.
    throw isAuthFetchError(typed) ? typed : new NetworkError(undefined, { ...request, cause: error });
  }
}

// workerd throws a plain Error (not a TypeError) naming the field; match the message, whatever the class.
function isCacheOptionRefused(error: unknown): boolean {
  const message = readProperty(error, 'message');
  return typeof message === 'string' && /\bcache\b/i.test(message);
}

/**
 * Read a successful token response: JSON with an `access_token`, at most {@link MAX_TOKEN_RESPONSE_BYTES} (a longer
 * one is not read further). Anything else is a `TokenResponseError` (reported, not retried: an endpoint that
 * answers HTML will answer HTML again).
 *
 * @param parse the app's own reading of the body (`sessionRefresh`), or `'oauth'` for a token endpoint, whose answer
 *   is read as RFC 6749 section 5.1 says and never taken as a whole `TokenSet`.
 */
export async function readTokenResponse(
  response: Response,
  request: EndpointRequest,
  previous: TokenSet | undefined,
  parse?: ((body: unknown) => unknown) | 'oauth',
): Promise<TokenSet> {
  const receivedAt = Date.now();
  const { status } = response;
  const refused = (what: string) => new TokenResponseError(`${what}: ${where(request)}`, { status });
  // A declared length over the limit is refused before a byte is read.
  const tooLarge = +(response.headers.get('content-length') ?? NaN) > MAX_TOKEN_RESPONSE_BYTES;
  const read = tooLarge ? undefined : await readBounded(response.body, MAX_TOKEN_RESPONSE_BYTES);
  if (tooLarge || read?.complete === false) {
    discardBody(response);
    throw refused(`The token response is larger than ${MAX_TOKEN_RESPONSE_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(read?.bytes));
  } catch {
    // No cause: the parser's message quotes the start of the body, which is the server's text.
    throw refused(`The refresh endpoint answered ${status} with a body that is not JSON`);
  }
  return typeof parse === 'function'
    ? normalizeTokens(parse(body), receivedAt, previous)
    : normalizeTokens(body, receivedAt, previous, parse === 'oauth');
}

/**
 * A token endpoint's error answer, read once: its OAuth `error` code (RFC 6749 section 5.2; only when it is one and
 * carries none of the request's secrets), and the typed error: the HTTP error for a transient status (5xx, 429, 408,
 * 425), else a `TokenResponseError`.
 */
export type TokenEndpointFailure = [oauthError: string | undefined, error: AuthFetchError];

/**
 * Read a non-2xx answer of a token or session endpoint once and type it. A transient status keeps its HTTP error
 * (`ServerError`, `RateLimitError` with `Retry-After`, ...), which the coordinator retries. Anything else is a
 * `TokenResponseError`: with an OAuth error code (`invalid_client`, `unauthorized_client`, `invalid_scope`,
 * `invalid_request`, ...) the client itself was refused and action is `contact-support`; without one the answer
 * was unusable and action is `retry`. The server's `error_description` is never kept.
 *
 * @param secrets what the request carried (refresh token, client secret) and must never come back in a field
 */
export async function readTokenEndpointFailure(
  response: Response,
  request: EndpointRequest,
  secrets: readonly (string | undefined)[],
): Promise<TokenEndpointFailure> {
  const body = await readErrorBody(response, 5_000, false);
  const oauthError = oauthErrorCode(readProperty(body, 'error'), secrets);
  if (isTransientStatus(response.status) || response.status === 429) {
    // The typed HTTP error reaches the app (refreshError, a rejected request), but nothing the server chose for
    // this request does: a server that echoes the request would hand back the refresh token in the body, the
    // status text or a header. Only the status and the headers the retry needs (Retry-After, Date) are kept.
    const headers = new Headers();
    for (const name of ['retry-after', 'date']) {
      const value = response.headers.get(name);
      // Delta-seconds or an HTTP-date (RFC 9110 sections 5.6.7, 10.2.3), nothing longer.
      if (value !== null && /^[\w ,:-]{1,32}$/.test(value)) headers.set(name, value);
    }
    const kept = new Response(null, { status: response.status, headers });
    return [oauthError, await errorFromResponse(kept, request, { body: undefined })];
  }
  return [
    oauthError,
    new TokenResponseError(
      `The token endpoint ${oauthError === undefined ? 'gave an unusable answer' : 'refused the request'} (status ${response.status}): ${where(request)}`,
      { status: response.status, oauthError },
    ),
  ];
}

/** `POST https://auth.example/token` for a message: the method and the URL without query or user info. */
export function where(request: EndpointRequest): string {
  return `${request.method} ${redactUrl(request.url)}`;
}
