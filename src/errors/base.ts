/**
 * The base of every authfetch error, and the vocabulary all of them share.
 *
 * Every error carries three things for three readers: `message` for the developer (method and URL, never a token
 * or text the server chose), `userMessage` for the person in front of the UI (plain words, no jargon) and
 * `action`, what that person can do. `code` is stable; with the brand below it is what the guards check, since
 * `instanceof` fails across bundles and realms (two copies of the package, an iframe, a worker).
 */
import { redactUrl } from '../lib/redact-url.js';
import type { ErrorCode } from './guards.js';

export type { ErrorCode } from './guards.js';

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

/** Options every authfetch error accepts (the second constructor argument of every class). */
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
  oauthError?: string;
}

/**
 * The brand every authfetch error carries, registered with `Symbol.for` so that it is the same symbol in every
 * realm and in every copy of the package: another library's error with `code: 'ERR_NETWORK'` (axios has one) does
 * not carry it.
 */
export const ERROR_BRAND: unique symbol = Symbol.for('authfetch.error');

// What toJSON copies, in this order: the base fields, then the scalar fields a subclass has (each only when it is a
// string, a number or a list, as every one of them is when set). An allow-list, so a field added later (say, one
// holding a Response or a token) stays out of logs until someone decides it is safe.
const JSON_FIELDS =
  'name code message userMessage action status statusText method url reason retryAfterMs requiredScope timeout oauthError'.split(' ');

/**
 * The base of every authfetch error. It is abstract: every error has one of the codes of {@link ErrorCode}, so
 * create one of the concrete classes. Every class takes `(message?, options)`; `instanceof AuthFetchError` works
 * within one copy of the package, {@link isAuthFetchError} across bundles and realms.
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
  /** The stable code; see {@link ErrorCode}. Each class has it as a static too (`NetworkError.code`). */
  declare readonly code: ErrorCode;
  /** A plain-language message for the person using the app (no jargon, no codes); the client's `messages` option replaces it. */
  declare readonly userMessage: string;
  /** What that person can do about it. */
  declare readonly action: UserAction;

  /**
   * @param message The developer-facing message. Name the method and URL (without query), never a token or text
   *   the server sent.
   * @param options `cause`, and overrides for `userMessage` and `action`.
   */
  constructor(message: string, options: AuthFetchErrorOptions = {}) {
    // Error reads only `cause` from its options, and sets it only when the options have one (`'cause' in options`),
    // so that `'cause' in error` stays meaningful.
    super(message, options);
    // The instance's code is its class's static one, so that each class writes its code once.
    this.code = (new.target as unknown as { code: ErrorCode }).code;
    this.userMessage = options.userMessage ?? 'Something went wrong. Please try again.';
    this.action = options.action ?? 'retry';
  }

  /**
   * The brand, `true`: on the prototype, not enumerable, so invisible to JSON, Object.keys and structured clone,
   * visible to the guards.
   * @internal
   */
  get [ERROR_BRAND](): true {
    return true;
  }

  /**
   * A plain, token-free object: `name`, `code`, `message`, `userMessage`, `action` and the scalar fields of the
   * class (`status`, `statusText`, `method`, `url` without query, `reason`, `retryAfterMs`, `requiredScope`,
   * `timeout`, `oauthError`). Never the `Response`, headers, body or `cause`. `JSON.stringify(error)` uses it; post
   * `error.toJSON()` (not the error) to another tab or worker, since structured clone drops custom fields.
   */
  toJSON(): AuthFetchErrorJSON {
    const json: Record<string, unknown> = {};
    for (const key of JSON_FIELDS) {
      const value: unknown = this[key as keyof this];
      if (typeof value === 'string') json[key] = key === 'url' ? redactUrl(value) : value;
      else if (typeof value === 'number') json[key] = value;
      else if (Array.isArray(value)) json[key] = value.filter((item) => typeof item === 'string');
    }
    return json as unknown as AuthFetchErrorJSON;
  }
}

/** The options with a class's defaults for `userMessage` and `action` filled in. @internal */
export function withDefaults<T extends AuthFetchErrorOptions>(options: T, userMessage: string, action: UserAction): T {
  return { ...options, userMessage: options.userMessage ?? userMessage, action: options.action ?? action };
}

/** `: GET https://api.example/x` for a message (no query, no user info), or nothing when neither is known. @internal */
export function requestNote(method: string | undefined, url: string | undefined): string {
  const parts = [method, url && redactUrl(url)].filter((part) => part !== undefined);
  return parts.length > 0 ? `: ${parts.join(' ')}` : '';
}
