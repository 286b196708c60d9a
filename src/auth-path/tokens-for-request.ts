/**
 * Step 2's slow path: which tokens a request goes out with when the fast path cannot say at once (a refresh in
 * flight, an expiring token, a session that is over). The coordinator's one token policy decides
 * (`coordinator.tokenFor`), with this request's signal and the client's login gate and `loginRequired` mode.
 */
import type { TokenSet } from '../types.js';
import type { AuthRequest } from './request.js';

/** The tokens to send with: after a refresh in flight, after a refresh first when expiring, or after a sign-in ('wait'). */
export function tokensForRequest(request: AuthRequest): Promise<TokenSet | undefined> {
  return request.path.coordinator.tokenFor(request.signal, request.path);
}
