/**
 * One URL per request: a string input is resolved here once, and that absolute URL is both checked against
 * `authorizedOrigins` and handed to fetch. Checking one reading of the string and fetching another is how a token
 * reaches the wrong origin: a browser's fetch resolves `'http:host/x'` against the document's base URL (the URL
 * standard's "special relative" state, WHATWG URL section 4.4), while `new URL('http:host/x')` without a base reads
 * `http://host/x`; a `<base href>` moves every relative string to a third origin.
 *
 * The rules, as a user sees them:
 * - a path (`users/1`, `/users/1`, `?q=1`: no scheme, no leading `//`) is appended to the prefix (`baseUrl`, or
 *   the `prefixUrl` of a derived `auth.http` instance), with or without its leading slash;
 * - any other string (`https://host/x`, `//host/x`, `http:host/x`), and a path when there is no prefix, is resolved
 *   as fetch resolves it: against the document's base URL in a page (`document.baseURI`, which `<base href>` sets),
 *   the worker's location in a worker, else (Node, Deno, Bun) against the prefix;
 * - `URL` and `Request` inputs are absolute already and used as they are.
 */

import { redactUrl } from '../lib/redact-url.js';

/** A full `http(s)://` URL: its reading does not depend on any base (WHATWG URL "special authority slashes"). */
const FULL_HTTP_URL = /^https?:\/\//;
/**
 * Not a path: a scheme, as the URL parser finds one (WHATWG URL "scheme state"), or two leading slashes, a
 * network-path reference (RFC 3986 section 4.2; for http(s) a backslash is a slash too).
 */
const NOT_A_PATH = /^(?:[a-z][a-z\d+\-.]*:|[\\/]{2})/i;
/** What the URL parser drops: C0 controls and spaces at the start, tabs and newlines anywhere. Linear. */
const DROPPED = /^[\x00-\x20]+|[\t\n\r]/g;
const LEADING_SLASH = /^[\\/]/;

/** The page's own URL (its origin is authorized by default), or `undefined` outside a page or worker. */
export function pageUrl(): string | undefined {
  const href = (globalThis as { location?: { href?: unknown } }).location?.href;
  return typeof href === 'string' ? href : undefined;
}

/**
 * The base URL a platform's fetch resolves strings against: `document.baseURI` in a page (the `<base href>` if
 * any, else the page's URL; read at each call, as a `<base>` may be added later), the location in a worker,
 * `undefined` elsewhere.
 */
export function documentBase(): string | undefined {
  const baseURI = (globalThis as { document?: { baseURI?: unknown } }).document?.baseURI;
  return typeof baseURI === 'string' ? baseURI : pageUrl();
}

/** `href` ending in `/`, so that a path appended to it can never change its origin. */
const withSlash = (href: string): string => (href.endsWith('/') ? href : `${href}/`);

/**
 * Resolve a prefix (`baseUrl`, a `prefixUrl`) into an absolute URL ending in `/`, so that a path appended to it
 * can never change its origin. Throws a TypeError naming `optionName` when it cannot be resolved.
 */
export function resolvePrefix(prefix: string | URL, optionName: string, base = documentBase()): string {
  try {
    return withSlash(new URL(prefix, base).href);
  } catch {
    throw new TypeError(`authfetch: ${optionName} "${redactUrl(String(prefix))}" is not a valid URL`);
  }
}

/**
 * The prefix of a derived `auth.http` instance: its `prefixUrl`, resolved as a request path would be against the
 * prefix it derives from (so `'v2'` under `https://api/` is `https://api/v2/`), ending in `/`.
 */
export function resolveDerivedPrefix(prefixUrl: string | URL, parent: string | undefined): string {
  // A URL's href is absolute and resolves to itself.
  return withSlash(resolveRequestUrl(String(prefixUrl), parent));
}

/**
 * Resolve a string input once (see the module comment for the rules).
 *
 * @param prefix an absolute URL ending in `/` (from {@link resolvePrefix}), or `undefined` for none
 * @returns the absolute URL that is both checked against `authorizedOrigins` and fetched
 * @throws TypeError when the string cannot be resolved (a relative path without a prefix outside a page)
 */
export function resolveRequestUrl(input: string, prefix: string | undefined): string {
  // The common case costs one regular-expression test and no allocation: the string is what fetch would read.
  if (FULL_HTTP_URL.test(input)) return input;
  // The string as the URL parser reads it: without C0 controls and spaces at both ends, and without tabs and
  // newlines anywhere (WHATWG URL, basic URL parser, steps 1 and 3). The end is trimmed by a loop: a RegExp anchored
  // at the end would backtrack over every run of spaces before it.
  let end = input.length;
  while (input.charCodeAt(end - 1) <= 0x20) end -= 1; // NaN before the start
  const text = input.slice(0, end).replace(DROPPED, '');
  if (prefix && !NOT_A_PATH.test(text)) {
    // `prefix` ends in "/" and `text` does not start with a slash, so the result keeps the prefix's origin.
    return prefix + text.replace(LEADING_SLASH, '');
  }
  const base = documentBase() ?? prefix;
  try {
    return new URL(input, base).href;
  } catch {
    throw new TypeError(`authfetch: "${redactUrl(text)}" ${base === undefined ? 'is a relative URL, but no baseUrl is set' : 'is not a valid URL'}`);
  }
}
