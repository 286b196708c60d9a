/**
 * Step 1 of the auth path: prepare the request. fetch's arguments become one {@link AuthRequest}, the record each
 * later step reads and updates (the URL it is at, the tokens its current attempt carries, how far it got). A string
 * input is resolved here once (src/auth-path/url.ts) and that URL is both checked against `authorizedOrigins` and
 * fetched.
 */
import type { TokenSet } from '../types.js';
import type { AuthPathContext } from './context.js';

/** One request on the auth path, kept between its attempts (replay, DPoP nonce retry, redirect hops). */
export interface AuthRequest {
  /** The auth path it travels: each step reaches the client's parts through it (no closure per request). */
  readonly path: AuthPathContext;
  url: string;
  method: string;
  /** For a string/URL input: the app's init, if any, reused as is for every attempt (its body type is replayable). */
  init?: RequestInit;
  /** For a Request input: the request to send; with a body, each attempt sends a clone (a body is read once). */
  template?: Request;
  /**
   * The template is ours to change: ky built it for this one call and never reads it again (or it was merged here
   * from the app's Request and init), so the token is set on its headers in place. An app's own Request is never
   * touched: its headers are copied instead.
   */
  ownsTemplate: boolean;
  signal: AbortSignal | null | undefined;
  /** The body given in init is one-shot (a ReadableStream, an async iterable): it cannot be sent twice. */
  oneShotBody: boolean;
  /** The token may be attached (an authorized origin, and no Authorization of the app's own). */
  authorized: boolean;
  /** The tokens the current attempt was sent with. */
  tokens: TokenSet | undefined;
  /** The current attempt is the replay after a 401 (whose own 401 is final). */
  replayed?: boolean;
  /** The current attempt is the one retry with a new DPoP nonce. */
  nonceRetried?: boolean;
  /** The request was already held for a step-up and replayed after it (it is held once, never in a loop). */
  steppedUp?: boolean;
  /** The current attempt is DPoP-bound and follows its redirects itself (`redirect: 'manual'`; src/auth-path/redirect.ts). */
  manualRedirect: boolean;
  /** Redirects followed so far (src/auth-path/follow-redirect.ts). */
  redirects?: number;
  /** A redirect took the request to another origin: whatever answers now does not speak for the session. */
  leftOrigin?: boolean;
}

/**
 * Build the request from fetch's arguments, and decide whether it may carry the token: a token never goes to another
 * origin, and an `Authorization` the app set itself is left alone.
 *
 * @param kyOwned the input is a Request ky made for this one call (`auth.http`), which may be changed in place
 * @throws TypeError when a string input cannot be resolved into a URL
 */
export function prepareRequest(
  path: AuthPathContext,
  input: RequestInfo | URL,
  init: RequestInit | undefined,
  kyOwned: boolean,
): AuthRequest {
  let url: string;
  let method: string;
  let template: Request | undefined;
  let ownsTemplate = false;
  // Not a Request (of this realm or another: an iframe's, a test environment's).
  if (!(input instanceof Request || (typeof (input as Partial<Request>)?.url === 'string' && typeof (input as Partial<Request>).clone === 'function'))) {
    // fetch takes any object with a stringifier (a URL, a `Location`, a router's URL-like): it is the string it turns
    // into, resolved as fetch resolves it. A URL's href is absolute and reads back as itself.
    url = path.resolveUrl(String(input));
    method = (init?.method ?? 'GET').toUpperCase();
  } else {
    // A Request (ky always passes one). Merge init into a template (our own object then); its body is teed per
    // attempt by clone().
    // An init with no option (ky passes `{}`) is not merged; a for-in allocates no array, as `Object.keys` would.
    let merged = false;
    for (const key in init) if ((merged = Object.hasOwn(init!, key))) break;
    template = merged ? new Request(input as Request, init) : (input as Request);
    ownsTemplate = merged || kyOwned;
    url = template.url;
    method = template.method;
    init = undefined;
  }
  const given = (template ?? init)?.headers;
  // A body that can be sent only once: a `ReadableStream` (of any realm), or an async iterable (an async generator,
  // a Node `Readable`), which Node's fetch, Deno and Bun accept with `duplex: 'half'` and which a replay would find
  // drained. No replayable body (string, Blob, BufferSource, FormData, URLSearchParams) has either member.
  const body = init?.body as { getReader?: unknown; [Symbol.asyncIterator]?: unknown } | null | undefined;
  return {
    path,
    url,
    method,
    init,
    template,
    ownsTemplate,
    signal: (template ?? init)?.signal,
    oneShotBody: typeof body?.getReader === 'function' || typeof body?.[Symbol.asyncIterator] === 'function',
    authorized: path.isAuthorized(url) && !(given !== undefined && (given instanceof Headers ? given : new Headers(given)).has('authorization')),
    // The rest is set when it happens (each reads as false until then): `tokens` and `manualRedirect` by every attempt.
    tokens: undefined,
    manualRedirect: false,
  };
}
