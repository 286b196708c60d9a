/**
 * The auth path's DPoP-only steps (RFC 9449). The core steps reach them through the object `dpop()` returns (it
 * carries them as members) instead of importing them, so an app that never calls `dpop()` ships none of this code.
 */
import { withAuthorization } from './attach-token.js';
import { followRedirect } from './follow-redirect.js';
import { isRedirect } from './redirect.js';
import type { AuthRequest } from './request.js';
import { dispatch } from './send.js';

/** Send an attempt with a DPoP-bound token: `Authorization: DPoP <token>` and a fresh proof. */
function attach(request: AuthRequest, accessToken: string): Promise<Response> {
  // RFC 9449 section 7: a fresh proof for every request and every replay, bound to the token by `ath`. The proof
  // must reach no other origin, so redirects are followed by the auth path (unless the app chose its own redirect
  // mode): src/auth-path/follow-redirect.ts.
  return request.path.dpop!.proof(request.method, request.url, { accessToken }).then((proof) => {
    const headers = withAuthorization(request, `DPoP ${accessToken}`);
    if (headers instanceof Headers) headers.set('dpop', proof);
    else headers.dpop = proof;
    return dispatch(request, headers, ((request.template ?? request.init)?.redirect ?? 'follow') === 'follow');
  });
}

/**
 * A response, before the core reads it: a redirect the auth path follows itself is followed (the promise of the next
 * hop), and a `DPoP-Nonce` from the request's own origin is remembered for that origin (RFC 9449 section 8/9).
 * @param own the response speaks for the session (src/auth-path/send.ts decides it once per response)
 */
function receive(response: Response, request: AuthRequest, own: boolean): Promise<Response> | undefined {
  if (request.manualRedirect && isRedirect(response)) return followRedirect(response, request);
  const nonce = request.authorized && own && response.headers.get('dpop-nonce');
  if (nonce) request.path.dpop!.rememberNonce(request.url, nonce);
  return undefined;
}

/** The members `dpop()` adds to its object for the auth path. @internal */
export const dpopSteps = { attach, receive };

/** The auth path's DPoP steps, as members of `Dpop` (src/dpop/types.ts). @internal */
export type DpopSteps = typeof dpopSteps;
