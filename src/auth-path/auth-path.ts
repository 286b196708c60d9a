/**
 * The auth path: one function with fetch's signature, in four steps, each in its own module:
 *
 * 1. prepare the request and resolve its URL once (request.ts, url.ts);
 * 2. attach the token (attach-token.ts), after the refresh in flight or an early refresh when the token is expiring
 *    (the coordinator's token policy, `tokenFor`, with the request's signal, login gate and mode);
 * 3. send one attempt, bounded by the per-attempt timeout (send.ts, attempt.ts; with `dpop()`, the proof and
 *    the redirects it follows itself come from dpop-steps.ts, through the `dpop()` object);
 * 4. after a 401, wait for the coordinator and replay once (after-unauthorized.ts).
 *
 * `auth.fetch` is its app entry; `auth.http` is ky with its ky entry as `fetch` (src/ky-instance.ts).
 */
import type { AuthPathContext, AuthPathOptions } from './context.js';
import { prepareRequest } from './request.js';
import { send } from './send.js';

export type { AuthPathOptions } from './context.js';

/** The auth path's two entries: the same behaviour, for the app's own calls and for ky's. */
export interface AuthPath {
  /** `auth.fetch`: the app's input and init are never modified. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** ky's `fetch` in `auth.http`: the Request ky passes is ky's own, made for this one call, and gets the token set on it. */
  fetchForKy(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** One request's way through the auth path, from fetch's arguments to the response the app gets. */
function authFetch(path: AuthPathContext, input: RequestInfo | URL, init: RequestInit | undefined, kyOwned: boolean): Promise<Response> {
  const coordinator = path.coordinator;
  if (!coordinator.isReady) return coordinator.ready.then(() => authFetch(path, input, init, kyOwned));
  // A synchronous throw (an input that is no URL, invalid headers) is the promise's rejection, as fetch reports it.
  // Every other call of `send` is inside a promise callback or an async function already.
  try {
    const request = prepareRequest(path, input, init, kyOwned);
    if (!request.authorized) return send(request);
    path.onActivity();
    // The common case (signed in, no refresh in flight, not expiring) goes out at once, without an async hop.
    const current = coordinator.readyTokens;
    if (current) return send(request, current);
    // Tokens picked before an await: a sign-in or sign-out since then wins (coordinator.reconfirm).
    return coordinator.tokenFor(request.signal, path).then((tokens) => send(request, tokens && coordinator.reconfirm(tokens)));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Build the auth path of one client. */
export function createAuthPath(options: AuthPathOptions): AuthPath {
  const path: AuthPathContext = { ...options };
  return {
    fetch: (input, init) => authFetch(path, input, init, false),
    fetchForKy: (input, init) => authFetch(path, input, init, true),
  };
}
