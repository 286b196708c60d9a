/**
 * Failure without a response -> typed error: what `fetch`, ky or a refresh strategy threw.
 */
import { readProperty } from '../lib/read-property.js';
import { isAuthFetchError, type AnyAuthFetchError } from './guards.js';
import { NetworkError, TimeoutError } from './network.js';
import { TokenResponseError } from './session.js';

/** The request a failure belongs to, for the message: its method and URL, when known. */
export interface FailedRequest {
  method?: string;
  url?: string;
}

/**
 * Maps a failure that produced no response (what `fetch` or ky threw) to a typed error:
 *
 * - an authfetch error passes through unchanged (our own `TimeoutError` included, recognised by its brand);
 * - an `AbortError`, or whatever reason the app aborted with, passes through unchanged: the app asked for it;
 * - an error named `TimeoutError` (ky's, or the DOMException of `AbortSignal.timeout()`) becomes `TimeoutError`;
 * - a `TypeError` with one of the messages fetch uses for network failures (`fetch failed` in Node,
 *   `Failed to fetch`, `NetworkError when attempting to fetch resource.`, `Load failed` in browsers) becomes
 *   `NetworkError` with the original as `cause`;
 * - anything else (a bug in a hook, an invalid URL) passes through unchanged rather than pose as a network failure;
 *   only a `TypeError` whose message quotes a URL with `user:password@` (fetch refuses such URLs and says so, URL and
 *   all) is given again without them.
 *
 * @example
 * ```ts
 * try { return await fetch(url, init); }
 * catch (error) { throw errorFromFailure(error, { method: 'GET', url }); }
 * ```
 */
export function errorFromFailure(error: unknown, request: FailedRequest = {}): unknown {
  if (isAuthFetchError(error)) return error;
  const name = readProperty(error, 'name');
  const message = readProperty(error, 'message');
  const where = { method: request.method, url: request.url, cause: error };
  if (name === 'TimeoutError') return new TimeoutError(undefined, where);
  if (name !== 'TypeError' || typeof message !== 'string') return error;
  if (NETWORK_MESSAGE.test(message.trim())) {
    // An answer came but could not be parsed (headers too large, a broken message): the connection is fine and a
    // retry meets the same answer, so the person is not sent to check their connection and nobody retries it.
    return new NetworkError(
      undefined,
      isUnreadableAnswer(error)
        ? {
            ...where,
            userMessage: "The server sent an answer that can't be read. Please try again later, or contact support if it keeps happening.",
            action: 'contact-support',
          }
        : where,
    );
  }
  // RFC 3986 section 3.2.1: user information in a URL is a secret; no message shows it (not even as a cause).
  const redacted = message.replace(/\b([a-z][a-z\d+.-]*:\/\/)[^/?#@\s]*@/gi, '$1');
  return redacted === message ? error : new TypeError(redacted);
}

/**
 * Node's fetch (undici) names a response it could not parse by its cause's code: the llhttp parser's `HPE_*`
 * (RFC 9112 message syntax), headers beyond its limit, a body shorter or longer than its `Content-Length`.
 * Looked for in the first three causes.
 */
function isUnreadableAnswer(error: unknown): boolean {
  for (let cause = error, depth = 0; depth++ < 3; ) {
    cause = readProperty(cause, 'cause');
    const code = readProperty(cause, 'code');
    if (typeof code === 'string' && /^(?:HPE_[A-Z_]+|UND_ERR_(?:HEADERS_OVERFLOW|RES_CONTENT_LENGTH_MISMATCH|RES_EXCEEDED_MAX_SIZE))$/.test(code)) return true;
  }
  return false;
}

/**
 * The typed error a refresh failed with, as the coordinator reports it (`refreshError`) and hands it to the requests
 * that waited: an authfetch error as it is (a strategy's `NetworkError`, `TimeoutError`, `ServerError`,
 * `TokenResponseError`, ...); a network failure or timeout in a custom strategy's own fetch typed as such, with its
 * cause; anything else a custom strategy threw, a `TokenResponseError` that names the error's class, never its
 * message (which may quote a server). An abort by `dispose()` is not a refresh failure: the caller passes the
 * `AbortError` through instead.
 *
 * @example
 * ```ts
 * catch (error) { bus.emit('refreshError', { error: refreshFailure(error) }); }
 * ```
 */
export function refreshFailure(error: unknown): AnyAuthFetchError {
  const typed = errorFromFailure(error);
  if (isAuthFetchError(typed)) return typed;
  const name = readProperty(error, 'name');
  const label = typeof name === 'string' && /^[A-Za-z][\w$]{0,40}$/.test(name) ? name : typeof error;
  return new TokenResponseError(`The refresh strategy threw ${label}`, { cause: error });
}

// The messages fetch implementations give a network failure (whatwg/fetch#526: they are not standardised), in any
// case: Node (undici) `fetch failed`, and `terminated` for a connection closed mid-response; Chromium `Failed to
// fetch` (136+ appends the host: `Failed to fetch (api.example)`) and on some paths `network error`; Firefox
// `NetworkError when attempting to fetch resource.`; Safari `Load failed` (older: `The Internet connection appears
// to be offline.`); the whatwg-fetch polyfill and React Native `Network request failed`; Cloudflare Workers
// `Network connection lost`; Deno `error sending request for url ...`.
const NETWORK_MESSAGE =
  /^(?:fetch failed|terminated|failed to fetch(?: \([^]*\))?|networkerror when attempting to fetch resource\.|load failed|the internet connection appears to be offline\.|network (?:request failed|error|connection lost)|error sending request for url[^]*)$/i;
