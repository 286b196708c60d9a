/**
 * Step 4 of the auth path: after a 401, wait for the coordinator and replay. A `use_dpop_nonce` challenge is retried
 * once with the new nonce (RFC 9449 section 9), a step-up challenge is reported (RFC 9470), and otherwise the token
 * is renewed (or the user signs in again) and the request replayed once; a 401 on the replay is final.
 */
import { parseChallenges, summarizeChallenges } from '../challenge.js';
import type { UnauthorizedError } from '../errors/index.js';
import { ended } from '../lib/ended.js';
import { discardBody } from '../lib/discard-body.js';
import { settledWithin } from '../lib/settled-within.js';
import type { TokenSet } from '../types.js';
import type { AuthRequest } from './request.js';
import { send } from './send.js';

/**
 * How long a final 401 waits for its event's error to be built (its body read) before it is handed back anyway: long
 * enough for a body that came with the headers, short enough that a slow one (up to 5 s) does not hold the caller.
 */
const EVENT_WAIT_MS = 200;

/**
 * Emit an event about this 401 once its typed error is built, which reads a copy of the body (bounded, but a slow
 * body takes seconds): the response waits for that only {@link EVENT_WAIT_MS}, so the event comes first whenever the
 * body is there (the usual case), and a slow body does not hold `auth.fetch`. `auth.http` rejects with the same
 * memoized error, so its listeners always hear it first.
 */
function emitWithin(response: Response, request: AuthRequest, emit: (error: UnauthorizedError) => void): Promise<void> {
  return settledWithin(request.path.errors.forResponse(response, request).then((error) => emit(error as UnauthorizedError)), EVENT_WAIT_MS);
}

/** A 401 nothing could cure goes back to the caller, after its `unauthorized` event. */
async function finalUnauthorized(response: Response, request: AuthRequest): Promise<Response> {
  const { bus, log } = request.path;
  if (bus.has('unauthorized')) await emitWithin(response, request, (error) => bus.emit('unauthorized', error));
  log.debug('authfetch: 401 is final');
  return response;
}

/** A 401 to an authorized request: retry with a new DPoP nonce, report a step-up, or renew the token and replay once. */
export async function handleUnauthorized(response: Response, request: AuthRequest): Promise<Response> {
  const { dpop, log, bus, coordinator, mode, stepUpGate } = request.path;
  const header = response.headers.get('www-authenticate');
  const summary = header ? summarizeChallenges(parseChallenges(header)) : {};
  // RFC 9449 section 9: the resource server wants a (new) nonce: one more try, not a refresh, not a retry.
  if (dpop && summary.error === 'use_dpop_nonce') {
    // Asked again, or without a nonce to use: the token is not what is wrong, so a refresh cannot cure it.
    if (request.nonceRetried || !response.headers.get('dpop-nonce') || request.oneShotBody) return finalUnauthorized(response, request);
    discardBody(response);
    request.nonceRetried = true;
    return send(request, request.tokens);
  }
  // RFC 9470: a stronger sign-in is needed; a refresh cannot give one.
  if (summary.error === 'insufficient_user_authentication') {
    const stepUp = { acrValues: summary.acrValues, maxAge: summary.maxAge };
    log.debug('authfetch: step-up required');
    await emitWithin(response, request, (error) => bus.emit('stepUp', { ...stepUp, error }));
    // 'wait': hold the request until the app obtained the stronger sign-in (signIn({ acrValues, maxAge })), then
    // replay it once with the new token.
    if (mode === 'reject' || request.steppedUp || request.oneShotBody) return response;
    request.steppedUp = true;
    stepUpGate.announce('step-up', stepUp);
    // Only the same user's stronger sign-in releases it (another user's rejects it: 'user-changed').
    await stepUpGate.hold(request.signal, request.tokens);
    const tokens = coordinator.tokens;
    if (!tokens) throw ended('logout');
    discardBody(response);
    return replay(request, tokens);
  }
  // A 401 on the replay is final: no refresh loop, ever.
  if (request.replayed) return finalUnauthorized(response, request);
  // The coordinator's token policy: a refresh (keyed on the rejected token), or a sign-in when the session is over.
  const renewed = await coordinator.afterUnauthorized(request.tokens, request.signal, request.path);
  if (!renewed) return finalUnauthorized(response, request);
  discardBody(response);
  if (request.oneShotBody) {
    throw new TypeError('authfetch: a 401 needs a replay, but the body is a one-shot ReadableStream (or async iterable) that cannot be sent again; pass a string, Blob, FormData or URLSearchParams');
  }
  request.replayed = true;
  request.nonceRetried = false;
  // Tokens picked before an await: a sign-in or sign-out since then wins (coordinator.reconfirm).
  return replay(request, coordinator.reconfirm(renewed));
}

/** Send the request once more, with `tokens`. */
function replay(request: AuthRequest, tokens: TokenSet): Promise<Response> {
  request.path.log.debug('authfetch: replaying the request');
  return send(request, tokens);
}
