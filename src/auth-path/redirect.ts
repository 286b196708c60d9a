/**
 * Redirects of authorized requests. Only the request's own origin speaks for the session: an answer from another
 * origin (the final URL after redirects) never refreshes, ends a session, asks for a step-up, teaches a DPoP nonce or
 * a server clock. And a DPoP proof never reaches another origin (it carries the device's public key, RFC 9449
 * section 4.1), while fetch keeps every header but `Authorization` across origins (Fetch standard, "HTTP-redirect
 * fetch", step 13). So DPoP-bound requests follow redirects themselves, with `redirect: 'manual'`:
 *
 * - where the platform shows the redirect (Node, Deno, Bun, workerd: the 3xx with its `Location`), a hop to the same
 *   origin is sent with a fresh proof for its URL and method (RFC 9449 section 4.2: `htm`, `htu`), and a hop to another
 *   origin without the token and the proof, its own further redirects followed by the platform;
 * - in a browser a manual redirect is opaque (no status, no `Location`: Fetch standard, "opaque-redirect filtered
 *   response"), so where it leads cannot be known before following it; the request then fails with a `NetworkError`
 *   rather than sending the proof somewhere unknown.
 *
 * Bearer requests are followed by the platform, which drops `Authorization` on a cross-origin hop.
 */
import { NetworkError } from '../errors/index.js';
import { redactUrl } from '../lib/redact-url.js';

/** The statuses fetch follows (Fetch standard, "redirect status"). */
const REDIRECT_STATUSES = [301, 302, 303, 307, 308];

/** Fetch gives up after 20 redirects (Fetch standard, "HTTP-redirect fetch", step 5). */
export const MAX_REDIRECTS = 20;

/** Headers that describe a body, dropped with it when a redirect turns the request into a GET (Fetch standard). */
const BODY_HEADERS = ['content-encoding', 'content-language', 'content-location', 'content-type'];

/** Whether `response` is a redirect to follow: a 3xx with a `Location`, or a browser's opaque redirect. */
export function isRedirect(response: Response): boolean {
  return response.type === 'opaqueredirect' || (REDIRECT_STATUSES.includes(response.status) && response.headers.has('location'));
}

/**
 * The method after a redirect (Fetch standard, "HTTP-redirect fetch", step 12): 301 and 302 turn a POST into a GET,
 * 303 turns anything but GET and HEAD into a GET, and the body is dropped with it; 307 and 308 keep both. So the
 * body is dropped exactly when the method changes.
 */
export function methodAfterRedirect(status: number, method: string): string {
  return ((status === 301 || status === 302) && method === 'POST') || (status === 303 && method !== 'GET' && method !== 'HEAD') ? 'GET' : method;
}

/** `headers` without the token, the proof and (with `dropBody`) the body's own headers. */
export function headersForHop(headers: HeadersInit | undefined, dropBody: boolean): Headers {
  const copy = new Headers(headers);
  for (const name of ['authorization', 'dpop', ...(dropBody ? BODY_HEADERS : [])]) copy.delete(name);
  return copy;
}

/**
 * A Request for the next hop of `request`: same headers (without token and proof), signal and redirect mode, and the
 * body unless the redirect drops it. Only the members every runtime implements are set (workerd refuses some).
 */
export function requestForHop(request: Request, url: string, method: string, dropBody: boolean): Request {
  const init: RequestInit & { duplex?: 'half' } = {
    method,
    headers: headersForHop(request.headers, dropBody),
    signal: request.signal,
    redirect: request.redirect,
  };
  if (!dropBody && request.body !== null) {
    init.body = request.clone().body;
    init.duplex = 'half';
  }
  return new Request(url, init);
}

/**
 * The failure of a DPoP-bound request whose redirect a browser keeps opaque: it is not followed. Its action,
 * `contact-support`, makes it a failure that is not transient (src/errors/transient.ts), so `auth.http` does not
 * retry it: a retry would meet the same redirect.
 */
export function refusedRedirectError({ method, url }: { method: string; url: string }): NetworkError {
  return new NetworkError(
    `Redirect not followed: ${method} ${redactUrl(url)}: a DPoP proof may not follow a redirect whose target the browser hides`,
    { method, url, action: 'contact-support' },
  );
}

/** A redirect that cannot be followed (too many, no usable `Location`): a network error, as fetch reports it. */
export function brokenRedirectError({ method, url }: { method: string; url: string }, why: string): NetworkError {
  return new NetworkError(undefined, { method, url, cause: new TypeError(`authfetch: ${why}`) });
}
