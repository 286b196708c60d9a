/**
 * Step 3 of the auth path: send one attempt (src/auth-path/attempt.ts bounds it by the per-attempt timeout) and read
 * what came back. A 2xx is handed back as it is: the response is handled in the same promise as fetch's, and nothing
 * is read on it but the `Date` header (at most once a second), since bench/overhead.ts holds the path to 1.05x of
 * raw fetch. A 401 goes on to src/auth-path/after-unauthorized.ts; with `dpop()`, its steps see the response first
 * (src/auth-path/dpop-steps.ts: redirects it follows itself, nonces).
 */
import type { ForbiddenError } from '../errors/index.js';
import type { TokenSet } from '../types.js';
import { handleUnauthorized } from './after-unauthorized.js';
import { withAuthorization, type AttemptHeaders } from './attach-token.js';
import { sameOrigin } from '../origins.js';
import type { AuthRequest } from './request.js';

/**
 * Send one attempt of `request` with these tokens (or none), recorded on the request as the tokens it was sent with,
 * and settle with its handled response. It may throw synchronously (invalid headers): its callers are promise
 * callbacks and async functions, or turn that into a rejection (src/auth-path/auth-path.ts).
 */
export function send(request: AuthRequest, tokens?: TokenSet): Promise<Response> {
  const path = request.path;
  request.tokens = tokens;
  let authorization: string | undefined;
  if (tokens) {
    const token = tokens.accessToken;
    // A DPoP-bound token (any type but Bearer, with `dpop()`) needs a proof signed for this URL and method, hence a
    // promise (src/auth-path/dpop-steps.ts); everything else is synchronous, so the common case adds no promise
    // layer (bench/overhead.ts).
    if (path.dpop && tokens.tokenType?.toLowerCase() !== 'bearer') return path.dpop.attach!(request, token);
    // `Bearer <token>`, built once per token: a header string per request is measurable garbage.
    if (token !== path.bearerToken) path.bearerHeader = `Bearer ${(path.bearerToken = token)}`;
    authorization = path.bearerHeader;
  }
  return dispatch(request, withAuthorization(request, authorization));
}

/**
 * Send the attempt with these headers; `manualRedirect`: it follows its redirects itself (a DPoP-bound attempt,
 * src/auth-path/dpop-steps.ts), recorded on the request for its response.
 */
export function dispatch(request: AuthRequest, headers: AttemptHeaders, manualRedirect?: boolean): Promise<Response> {
  const template = request.template;
  // A Request goes out as fetch(request, init): fetch builds the one Request it sends from both. Building it here
  // first cost a second Request and a second signal hook-up per attempt (bench/overhead.ts). A body is teed by
  // clone() so the template can be sent again on a replay.
  const input = template ? (template.body ? template.clone() : template) : request.url;
  // An owned template (only a Request input is owned) carries the headers itself.
  let init: RequestInit | undefined = request.ownsTemplate ? undefined : { ...request.init, headers };
  if ((request.manualRedirect = !!manualRedirect)) (init ??= {}).redirect = 'manual';
  // The per-attempt timeout covers the wait for the response headers only (as ky's does), never the time a request
  // spends held for a refresh or a sign-in, and never the body download.
  return request.path.attempt(input, init, request, handleResponse, handleFailure);
}

/** A failure without a response: typed (NetworkError, TimeoutError) where it is one; an app's abort as it is. */
function handleFailure(error: unknown, request: AuthRequest): never {
  // An owned Request may be ky's, and ky's own TimeoutError (an app's per-call `timeout`) holds on to it: no token
  // may stay on it.
  const headers = request.ownsTemplate && request.template!.headers;
  if (headers) {
    headers.delete('authorization');
    headers.delete('dpop');
  }
  throw request.path.errors.forFailure(error, request);
}

/** An attempt's response: handed back as it is, or, for a 401 with a token, on to {@link handleUnauthorized}. */
function handleResponse(response: Response, request: AuthRequest): Response | Promise<Response> {
  const path = request.path;
  // Only the request's own origin speaks for the session: an answer from another origin, reached by redirects, is
  // handed back untouched (no refresh, no step-up, no events, its DPoP-Nonce and Date ignored). `redirected` is read
  // first: it is false on almost every response, and cheap.
  const own = !request.leftOrigin && (!response.redirected || sameOrigin(response.url, request.url));
  const followed = path.dpop?.receive!(response, request, own);
  if (followed) return followed;
  // Only a non-2xx response ever gets a typed error, the one reader of this note: a 2xx skips the WeakMap entry
  // (a WeakMap entry per response is GC work on every request).
  if (!response.ok) path.errors.noteCredentials(response, own ? request.tokens : undefined);
  if (!own) return response;
  if (request.authorized && path.clock.wantsDate()) path.clock.observe(response.headers.get('date'));
  const status = response.status;
  if (status === 401 && request.authorized) return handleUnauthorized(response, request);
  // A 403 reached the app: tell `forbidden` listeners (if any) with the typed error.
  const { bus } = path;
  if (status === 403 && bus.has('forbidden')) void path.errors.forResponse(response, request).then((error) => bus.emit('forbidden', error as ForbiddenError));
  return response;
}
