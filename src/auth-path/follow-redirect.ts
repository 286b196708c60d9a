/**
 * Redirects of DPoP-bound requests, followed by the auth path itself (why: src/auth-path/redirect.ts): to the same
 * origin with the token and a fresh proof for the new URL, to another origin with neither (the platform follows the
 * rest), and never where a browser hides the target.
 */
import {
  MAX_REDIRECTS,
  brokenRedirectError,
  headersForHop,
  methodAfterRedirect,
  refusedRedirectError,
  requestForHop,
} from './redirect.js';
import { sameOrigin } from '../origins.js';
import { discardBody } from '../lib/discard-body.js';
import type { AuthRequest } from './request.js';
import { send } from './send.js';

/** Thrown (as a TypeError) when a DPoP-bound request with a one-shot stream body is redirected with its body. */
const ONE_SHOT_REDIRECT_MESSAGE =
  'authfetch: the request was redirected, but its body is a one-shot ReadableStream (or async iterable) that cannot be sent again';

/** Follow one redirect of a DPoP-bound request: the next hop goes back through {@link send}. */
export function followRedirect(response: Response, request: AuthRequest): Promise<Response> {
  if (response.type === 'opaqueredirect') throw refusedRedirectError(request);
  discardBody(response);
  const { url, method, template } = request;
  let next: string;
  try {
    next = new URL(response.headers.get('location')!, url).href;
  } catch {
    throw brokenRedirectError(request, 'the redirect Location is not a URL');
  }
  if (!/^https?:/.test(next)) throw brokenRedirectError(request, 'the redirect leads to a URL that is not http(s)');
  if ((request.redirects = (request.redirects ?? 0) + 1) > MAX_REDIRECTS) throw brokenRedirectError(request, 'too many redirects');
  const nextMethod = methodAfterRedirect(response.status, method);
  const dropBody = nextMethod !== method;
  if (!dropBody && request.oneShotBody) throw new TypeError(ONE_SHOT_REDIRECT_MESSAGE);
  request.url = next;
  request.method = nextMethod;
  if (template) {
    request.template = requestForHop(template, next, nextMethod, dropBody);
    request.ownsTemplate = true;
  } else if (dropBody) {
    request.init = { ...request.init, method: nextMethod, body: null, headers: headersForHop(request.init?.headers, true) };
    request.oneShotBody = false;
  }
  if (sameOrigin(next, url)) {
    // The token the chain started with, while it is still the session's: after a logout, a new sign-in or a
    // refresh meanwhile the hop goes without one, and its 401 (if any) is handled as for any request.
    const sent = request.tokens;
    return send(request, sent && request.path.coordinator.tokens?.accessToken === sent.accessToken ? sent : undefined);
  }
  request.leftOrigin = true;
  return send(request);
}
