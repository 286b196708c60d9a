/**
 * The errors of a request that got no response: `NetworkError` (nothing came back) and `TimeoutError` (nothing
 * came back in time).
 */
import { readProperty } from '../lib/read-property.js';
import { AuthFetchError, requestNote, withDefaults, type AuthFetchErrorOptions } from './base.js';

/** Options of `NetworkError` and `TimeoutError`. */
export interface RequestErrorOptions extends AuthFetchErrorOptions {
  /** The request method, for the message. */
  method?: string;
  /** The request URL (kept whole in `error.url`; shown without query in the message). */
  url?: string;
}

/**
 * What `NetworkError` and `TimeoutError` share: a request that got no response, and the fields that say which.
 * Not exported by the package (its declaration ships, since the two classes extend it).
 */
export abstract class RequestError extends AuthFetchError {
  /** The request method, when known. */
  declare readonly method?: string;
  /** The full request URL, when known. */
  declare readonly url?: string;

  constructor(message: string, options: RequestErrorOptions) {
    super(message, options);
    this.method = options.method;
    this.url = options.url;
  }
}

/**
 * No response at all: offline, DNS failure, connection refused or reset, a CORS refusal (which browsers report the
 * same way), or a platform that refused to send the request. `cause` is the platform's error (in Node, its own
 * `cause` has the system code such as `ECONNREFUSED`).
 *
 * @example
 * ```ts
 * if (isNetworkError(error)) showOfflineBanner(); // action: 'check-connection'
 * ```
 */
export class NetworkError extends RequestError {
  static readonly code = 'ERR_NETWORK' as const;
  override name = 'NetworkError' as const;
  declare readonly code: 'ERR_NETWORK';

  /**
   * @param message Default: `Network request failed: <method> <url without query>`, with the system code when known.
   * @param options See {@link RequestErrorOptions}.
   */
  constructor(message?: string, options: RequestErrorOptions = {}) {
    super(
      message ?? `Network request failed${systemCodeNote(options.cause)}${requestNote(options.method, options.url)}`,
      withDefaults(options, "We can't reach the server. Please check your internet connection and try again.", 'check-connection'),
    );
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
 * with `isTimeoutError` (brand and code), not by name.
 *
 * @example
 * ```ts
 * if (isTimeoutError(error)) showToast(error.userMessage); // action: 'retry'
 * ```
 */
export class TimeoutError extends RequestError {
  static readonly code = 'ERR_TIMEOUT' as const;
  override name = 'TimeoutError' as const;
  declare readonly code: 'ERR_TIMEOUT';
  /** The timeout that was exceeded, in ms, when known. */
  declare readonly timeout?: number;

  /**
   * @param message Default: `Request timed out[ after <n> ms]: <method> <url without query>`.
   * @param options See {@link TimeoutErrorOptions}.
   */
  constructor(message?: string, options: TimeoutErrorOptions = {}) {
    const { timeout } = options;
    super(
      message ?? `Request timed out${typeof timeout === 'number' ? ` after ${timeout} ms` : ''}${requestNote(options.method, options.url)}`,
      withDefaults(options, 'The server took too long to respond. Please try again.', 'retry'),
    );
    this.timeout = timeout;
  }
}

// Node's fetch (undici) puts the system error (ECONNREFUSED, ENOTFOUND, ...) in `cause.cause`. Only a code that
// looks like one is shown: messages of causes can quote input, and input can hold a token.
function systemCodeNote(cause: unknown): string {
  const code = [readProperty(cause, 'cause'), cause].map((candidate) => readProperty(candidate, 'code')).find(isSystemCode);
  return code ? ` (${code})` : '';
}

const isSystemCode = (code: unknown): code is string => typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code);
