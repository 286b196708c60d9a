/**
 * Step 2 of the auth path: attach the token. The headers of one attempt: the app's own (a copy), or ky's Request's
 * own (set in place), with `Authorization` and, for a DPoP-bound token, a fresh proof (RFC 9449 section 7).
 */
import type { TokenSet } from '../types.js';
import type { AuthPathContext } from './context.js';
import type { AuthRequest } from './request.js';

/** The headers of one attempt. */
export type AttemptHeaders = Headers | Record<string, string>;

/** The app's headers for one attempt (a copy), ky's Request's own (set in place), or none (`auth.fetch(url)`). */
function ownHeaders(request: AuthRequest): Headers | undefined {
  const template = request.template;
  // ky's own Request: set the header in place instead of copying every header for fetch to copy again.
  if (template && request.ownsTemplate) return template.headers;
  const given = template ? template.headers : request.init?.headers;
  return given === undefined ? undefined : new Headers(given);
}

/** `Bearer <token>` for the last token seen, built once per token. */
function bearerAuthorization(path: AuthPathContext, accessToken: string): string {
  if (accessToken !== path.bearerToken) {
    path.bearerToken = accessToken;
    path.bearerHeader = `Bearer ${accessToken}`;
  }
  return path.bearerHeader;
}

/** The attempt's headers with `Authorization` (and a DPoP proof) added. */
function withAuthorization(request: AuthRequest, authorization: string, proof?: string): AttemptHeaders {
  const own = ownHeaders(request);
  if (own === undefined) return proof === undefined ? { authorization } : { authorization, dpop: proof };
  own.set('authorization', authorization);
  if (proof !== undefined) own.set('dpop', proof);
  return own;
}

/**
 * The headers for an attempt with `tokens` (or none), recorded on the request as the tokens it was sent with. A
 * DPoP-bound token needs a proof signed for this URL and method, hence a promise; everything else is synchronous,
 * so the common case adds no promise layer (bench/overhead.ts).
 */
export function attachToken(request: AuthRequest, tokens: TokenSet | undefined): AttemptHeaders | Promise<AttemptHeaders> {
  request.tokens = tokens;
  request.manualRedirect = false;
  if (!tokens) return ownHeaders(request) ?? {};
  const dpop = request.path.dpop;
  if (dpop === undefined || tokens.tokenType?.toLowerCase() === 'bearer') {
    return withAuthorization(request, bearerAuthorization(request.path, tokens.accessToken));
  }
  // RFC 9449 section 7: a fresh proof for every request and every replay, bound to the token by `ath`. The proof
  // must reach no other origin, so redirects are followed by the auth path (unless the app chose its own redirect
  // mode): src/auth-path/follow-redirect.ts.
  request.manualRedirect = (request.template ? request.template.redirect : (request.init?.redirect ?? 'follow')) === 'follow';
  return dpop
    .proof(request.method, request.url, { accessToken: tokens.accessToken })
    .then((proof) => withAuthorization(request, `DPoP ${tokens.accessToken}`, proof));
}
