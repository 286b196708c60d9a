/**
 * The auth path: one function with fetch's signature. It attaches the token (or waits for a refresh in flight),
 * sends one attempt (src/attempt.ts, bounded by the per-attempt timeout), and on a 401 waits for the coordinator and
 * replays once. `auth.fetch` is its app entry; `auth.http` is ky with its ky entry as `fetch`. A string input is
 * resolved once (src/auth-path/url.ts) and that URL is both checked and fetched; only answers from the request's own
 * origin act on the session, and DPoP-bound requests follow redirects themselves (src/auth-path/redirect.ts). It stays lean, since
 * bench/overhead.ts holds it to 1.05x of raw fetch: no Request is built for a string URL, the response is handled in
 * the same promise as fetch's, and nothing is read on a 2xx but the `Date` header (at most once a second).
 */
import type { Attempt } from './attempt.js';
import { summarizeChallenges, parseChallenges } from './challenge.js';
import { SessionExpiredError, isSessionExpiredError, type ForbiddenError, type UnauthorizedError } from './errors/index.js';
import type { ErrorMapper } from './errors/index.js';
import type { EventBus } from './events.js';
import type { ServerClock } from './clock.js';
import type { Dpop } from './dpop/types.js';
import type { Log } from './log.js';
import type { OriginMatcher } from './origins.js';
import {
  MAX_REDIRECTS,
  brokenRedirectError,
  headersForHop,
  isRedirect,
  methodAfterRedirect,
  refusedRedirectError,
  requestForHop,
  sameOrigin,
} from './auth-path/redirect.js';
import type { RefreshCoordinator } from './refresh/coordinator.js';
import type { LoginGate, LoginRequiredMode } from './session.js';
import type { TokenSet } from './types.js';
import { discardBody } from './lib/discard-body.js';

/** What the auth path is built from. */
export interface AuthPathOptions {
  /** Sends one network attempt, bounded by the per-attempt timeout. */
  attempt: Attempt;
  coordinator: RefreshCoordinator;
  gate: LoginGate;
  /** Holds requests that met a step-up challenge until the stronger sign-in (`login()`), in `'wait'` mode (RFC 9470). */
  stepUpGate: LoginGate;
  mode: LoginRequiredMode;
  isAuthorized: OriginMatcher;
  /** Turns a relative path into an absolute URL (baseUrl, or the page). */
  resolveUrl(input: string): string;
  clock: ServerClock;
  bus: EventBus;
  log: Log;
  errors: ErrorMapper;
  dpop?: Dpop;
  /** A request to an authorized origin counts as activity for the idle timeout. */
  onActivity(): void;
}

/** A request as the auth path keeps it between attempts. */
interface Outgoing {
  url: string;
  method: string;
  /** For a string/URL input: the app's init, if any, reused as is for every attempt (its body type is replayable). */
  init?: RequestInit;
  /** For a Request input: the request to send; with a body, each attempt sends a clone (a body is read once). */
  template?: Request;
  /**
   * The template is private to the caller (ky builds a Request per attempt and never reads it again), so the token
   * is set on its headers in place. An app's own Request is never touched: its headers are copied instead.
   */
  privateTemplate: boolean;
  signal: AbortSignal | null | undefined;
  /** The body given in init is one-shot (a ReadableStream, an async iterable): it cannot be sent twice. */
  oneShotBody: boolean;
  /** The token may be attached (an authorized origin, and no Authorization of the app's own). */
  authorized: boolean;
  /** The tokens the current attempt was sent with. */
  tokens: TokenSet | undefined;
  /** The current attempt is the replay after a 401 (whose own 401 is final). */
  replayed: boolean;
  /** The current attempt is the one retry with a new DPoP nonce. */
  nonceRetried: boolean;
  /** The request was already held for a step-up and replayed after it (it is held once, never in a loop). */
  steppedUp: boolean;
  /** The current attempt is DPoP-bound and follows its redirects itself (`redirect: 'manual'`; src/auth-path/redirect.ts). */
  manualRedirect: boolean;
  /** Redirects followed so far by {@link followRedirect}. */
  redirects: number;
  /** A redirect took the request to another origin: whatever answers now does not speak for the session. */
  leftOrigin: boolean;
}

/**
 * Whether a body can be sent only once: a `ReadableStream`, or an async iterable (an async generator, a Node
 * `Readable`), which Node's fetch, Deno and Bun accept with `duplex: 'half'` and which a replay would find drained.
 */
function isOneShotBody(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return true;
  return typeof (body as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}

/** Whether an input is a Request (of this realm or another: an iframe's, a test environment's), not a URL-like. */
function isRequestLike(input: unknown): input is Request {
  if (input instanceof Request) return true;
  const candidate = input as Partial<Request> | null;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.url === 'string' && typeof candidate.clone === 'function';
}

/** Whether an init carries no option (ky passes `{}`), without allocating the array `Object.keys` would. */
function isEmptyInit(init: RequestInit): boolean {
  for (const key in init) if (Object.hasOwn(init, key)) return false;
  return true;
}

/** Thrown (as a TypeError) when a 401 must be replayed but the body was a one-shot stream. */
const ONE_SHOT_MESSAGE =
  'authfetch: the request got 401 and the token was renewed, but its body is a one-shot ReadableStream (or async iterable) that ' +
  'cannot be sent again. Pass the body as a string, Blob, ArrayBuffer, FormData or URLSearchParams (or a Request) ' +
  'so it can be replayed.';

/** Thrown (as a TypeError) when a DPoP-bound request with a one-shot stream body is redirected with its body. */
const ONE_SHOT_REDIRECT_MESSAGE = 'authfetch: the request was redirected, but its body is a one-shot ReadableStream (or async iterable) that cannot be sent again';

/**
 * How long a final 401 waits for its event's error to be built (its body read) before it is handed back anyway: long
 * enough for a body that came with the headers, short enough that a slow one (up to 5 s) does not hold the caller.
 */
const EVENT_WAIT_MS = 200;

/** Wait for `promise` to settle, but no longer than `ms`. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.then(() => undefined, () => undefined), elapsed]).finally(() => clearTimeout(timer));
}

/** The auth path's two entries: the same behaviour, for the app's own calls and for ky's. */
export interface AuthPath {
  /** `auth.fetch`: the app's input and init are never modified. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** ky's `fetch` in `auth.http`: the Request ky passes is ky's own, made for this one call, and gets the token set on it. */
  forKy(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
}

/** Build the auth path. */
export function createAuthPath(o: AuthPathOptions): AuthPath {
  const { coordinator: co, gate, bus, errors } = o;

  function prepare(input: RequestInfo | URL, init: RequestInit | undefined, privateRequest: boolean): Outgoing {
    if (typeof input === 'string' || input instanceof URL || !isRequestLike(input)) {
      // fetch takes any object with a stringifier (a `Location`, a URL of another realm or a router's URL-like): it
      // is the string it turns into, resolved as fetch resolves it.
      const url = typeof input === 'string' ? o.resolveUrl(input) : input instanceof URL ? input.href : o.resolveUrl(String(input));
      const body = init?.body;
      const oneShotBody = isOneShotBody(body);
      return {
        url,
        method: (init?.method ?? 'GET').toUpperCase(),
        init,
        signal: init?.signal,
        oneShotBody,
        privateTemplate: false,
        authorized: false,
        tokens: undefined,
        replayed: false,
        nonceRetried: false,
        steppedUp: false,
        manualRedirect: false,
        redirects: 0,
        leftOrigin: false,
      };
    }
    // A Request (ky always passes one). Merge init into a template (our own object then); its body is teed per
    // attempt by clone().
    const merged = init !== undefined && !isEmptyInit(init);
    const template = merged ? new Request(input, init) : input;
    return {
      url: template.url,
      method: template.method,
      template,
      signal: template.signal,
      oneShotBody: false,
      privateTemplate: merged || privateRequest,
      authorized: false,
      tokens: undefined,
      replayed: false,
      nonceRetried: false,
      steppedUp: false,
      manualRedirect: false,
      redirects: 0,
      leftOrigin: false,
    };
  }

  /** The app's headers for one attempt (a copy), ky's Request's own (set in place), or none (`auth.fetch(url)`). */
  function ownHeaders(out: Outgoing): Headers | undefined {
    const template = out.template;
    // ky's own Request: set the header in place instead of copying every header for fetch to copy again.
    if (template && out.privateTemplate) return template.headers;
    const given = template ? template.headers : out.init?.headers;
    return given === undefined ? undefined : new Headers(given);
  }

  /** `Bearer <token>` for the last token seen, built once (a header string per request is measurable garbage). */
  let bearerToken: string | undefined;
  let bearerHeader = '';
  function bearer(accessToken: string): string {
    if (accessToken !== bearerToken) {
      bearerToken = accessToken;
      bearerHeader = `Bearer ${accessToken}`;
    }
    return bearerHeader;
  }

  /**
   * Send one attempt with these tokens (or none). Its response goes through {@link afterAttempt} in the same promise:
   * the common case, a 2xx, costs one promise layer over raw fetch rather than one per function (bench/overhead.ts).
   */
  function send(out: Outgoing, tokens: TokenSet | undefined): Promise<Response> {
    try {
      out.tokens = tokens;
      out.manualRedirect = false;
      if (!tokens) return dispatch(out, ownHeaders(out) ?? {});
      if (o.dpop === undefined || tokens.tokenType?.toLowerCase() === 'bearer') return sendWith(out, bearer(tokens.accessToken));
      // RFC 9449 section 7: a fresh proof for every request and every replay, bound to the token by `ath`. The proof
      // must reach no other origin, so redirects are followed here (unless the app chose its own redirect mode).
      out.manualRedirect = (out.template ? out.template.redirect : (out.init?.redirect ?? 'follow')) === 'follow';
      return o.dpop
        .proof(out.method, out.url, { accessToken: tokens.accessToken })
        .then((proof) => sendWith(out, `DPoP ${tokens.accessToken}`, proof));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Dispatch with the Authorization (and DPoP proof) added to the attempt's headers. */
  function sendWith(out: Outgoing, authorization: string, proof?: string): Promise<Response> {
    const own = ownHeaders(out);
    if (own === undefined) return dispatch(out, proof === undefined ? { authorization } : { authorization, dpop: proof });
    own.set('authorization', authorization);
    if (proof !== undefined) own.set('dpop', proof);
    return dispatch(out, own);
  }

  function dispatch(out: Outgoing, headers: Headers | Record<string, string>): Promise<Response> {
    const template = out.template;
    // A Request goes out as fetch(request, init): fetch builds the one Request it sends from both. Building it here
    // first cost a second Request and a second signal hook-up per attempt (bench/overhead.ts). A body is teed by
    // clone() so the template can be sent again on a replay.
    let input: RequestInfo;
    let init: RequestInit | undefined;
    if (template) {
      input = template.body ? template.clone() : template;
      init = out.privateTemplate ? (out.manualRedirect ? { redirect: 'manual' } : undefined) : { headers };
    } else {
      input = out.url;
      init = out.init ? { ...out.init, headers } : { headers };
    }
    if (out.manualRedirect && init) init.redirect = 'manual';
    // The per-attempt timeout (src/attempt.ts) covers the wait for the response headers only (as ky's does), never
    // the time a request spends held for a refresh or a sign-in, and never the body download.
    return o.attempt(input, init, out, afterAttempt, failedAttempt);
  }

  /** A failure without a response: typed (NetworkError, TimeoutError) where it is one; an app's abort as it is. */
  function failedAttempt(error: unknown, out: Outgoing): never {
    if (out.privateTemplate && out.template) {
      // The Request is ky's, and ky's own TimeoutError (an app's per-call `timeout`) holds on to it: no token may
      // stay on it.
      out.template.headers.delete('authorization');
      out.template.headers.delete('dpop');
    }
    throw errors.forFailure(error, out);
  }

  /** An attempt's response: handed back as it is, or, for a 401 with a token, on to {@link after401}. */
  function afterAttempt(response: Response, out: Outgoing): Response | Promise<Response> {
    if (out.manualRedirect && isRedirect(response)) return followRedirect(response, out);
    // Only the request's own origin speaks for the session: an answer from another origin, reached by redirects, is
    // handed back untouched (no refresh, no step-up, no events, its DPoP-Nonce and Date ignored). `redirected` is read
    // first: it is false on almost every response, and cheap.
    const own = !out.leftOrigin && (!response.redirected || sameOrigin(response.url, out.url));
    // Only a non-2xx response ever gets a typed error, the one reader of this note: a 2xx skips the WeakMap entry
    // (a WeakMap entry per response is GC work on every request).
    if (!response.ok) errors.noteCredentials(response, own ? out.tokens : undefined);
    if (!own) return response;
    if (out.authorized) {
      if (o.clock.wantsDate()) o.clock.observe(response.headers.get('date'));
      if (o.dpop) {
        const nonce = response.headers.get('dpop-nonce');
        if (nonce) o.dpop.rememberNonce(out.url, nonce);
      }
    }
    const status = response.status;
    if (status === 401 && out.authorized) return after401(response, out);
    if (status === 403) emitForbidden(response, out);
    return response;
  }

  /**
   * Follow one redirect of a DPoP-bound request (src/auth-path/redirect.ts): to the same origin with the token and a
   * fresh proof for the new URL, to another origin with neither (the platform follows the rest), and never where a
   * browser hides the target.
   */
  function followRedirect(response: Response, out: Outgoing): Promise<Response> {
    if (response.type === 'opaqueredirect') throw refusedRedirectError(out.method, out.url);
    const location = response.headers.get('location') as string;
    void response.body?.cancel().catch(() => undefined);
    let next: string;
    try {
      next = new URL(location, out.url).href;
    } catch {
      throw brokenRedirectError(out.method, out.url, 'the redirect Location is not a URL');
    }
    if (!/^https?:/.test(next)) throw brokenRedirectError(out.method, out.url, 'the redirect leads to a URL that is not http(s)');
    if (++out.redirects > MAX_REDIRECTS) throw brokenRedirectError(out.method, out.url, 'too many redirects');
    const { method, dropBody } = methodAfterRedirect(response.status, out.method);
    if (!dropBody && out.oneShotBody) throw new TypeError(ONE_SHOT_REDIRECT_MESSAGE);
    const stays = sameOrigin(next, out.url);
    out.url = next;
    out.method = method;
    if (out.template) {
      out.template = requestForHop(out.template, next, method, dropBody);
      out.privateTemplate = true;
    } else if (dropBody) {
      out.init = { ...out.init, method, body: null, headers: headersForHop(out.init?.headers, true) };
      out.oneShotBody = false;
    }
    if (stays) {
      // The token the chain started with, while it is still the session's: after a logout, a new sign-in or a
      // refresh meanwhile the hop goes without one, and its 401 (if any) is handled as for any request.
      const sent = out.tokens;
      return send(out, sent !== undefined && co.tokens?.accessToken === sent.accessToken ? sent : undefined);
    }
    out.leftOrigin = true;
    return send(out, undefined);
  }

  /** Wait for a promise, unless the request's own signal aborts first. */
  function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
    if (!signal) return promise;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /**
   * The session is over: reject (`'reject'`) or hold until sign-in and go on with the new tokens (`'wait'`).
   * `owner`: the tokens of the session the request belongs to (it was sent with them, or started under them); only
   * the same user's sign-in releases it.
   */
  async function sessionOver(
    error: SessionExpiredError,
    out: Outgoing,
    owner: TokenSet | undefined = out.tokens ?? co.endedTokens,
  ): Promise<TokenSet> {
    // A request still out when the user signed out ends with the logout, as the requests held then do.
    // Another user's sign-in never carries this request either.
    if (o.mode === 'reject' || error.reason === 'logout' || error.reason === 'user-changed') throw error;
    await gate.hold(out.signal, owner);
    const tokens = co.tokens;
    if (!tokens) throw error;
    return tokens;
  }

  /** The tokens to send with: after a refresh in flight, or after a proactive refresh when expiring. */
  async function tokensForRequest(out: Outgoing): Promise<TokenSet | undefined> {
    // Whose request this is, fixed now: a notice handled while it waits may change what the coordinator remembers.
    const owner = co.tokens ?? co.endedTokens;
    const inflight = co.inflight;
    if (inflight) {
      try {
        return await abortable(inflight, out.signal);
      } catch (error) {
        if (isSessionExpiredError(error)) return sessionOver(error, out, owner);
        throw error;
      }
    }
    const tokens = co.tokens;
    if (!tokens) {
      if (co.status === 'expired' && o.mode === 'wait') return sessionOver(expiredError(), out);
      return undefined;
    }
    if (co.isExpiring(tokens) && co.canRefresh(tokens)) {
      try {
        return await abortable(co.refresh('expiring', tokens), out.signal);
      } catch (error) {
        if (isSessionExpiredError(error)) return sessionOver(error, out, owner);
        if (out.signal?.aborted) throw error;
        // A transient failure was reported (refreshError); the token may still be good for a while: send it.
        return co.tokens ?? tokens;
      }
    }
    return tokens;
  }

  function expiredError(): SessionExpiredError {
    return new SessionExpiredError(undefined, { reason: co.endReason ?? 'refresh-rejected' });
  }

  /**
   * After a 401: the tokens to replay with, or `undefined` when nothing can cure it (the 401 is final).
   * Keyed on the rejected token: a late 401 for a token already renewed replays without a second refresh.
   */
  async function cure(out: Outgoing, sent: TokenSet | undefined): Promise<TokenSet | undefined> {
    try {
      if (sent) {
        // End the session only while the rejected token is still the current one: when it is already gone (the
        // session ended or the user signed out meanwhile), co.refresh says so without ending it a second time.
        if (!co.canRefresh(sent) && co.tokens?.accessToken === sent.accessToken) {
          return sessionOver(await co.endSession('no-refresh-token'), out);
        }
        return await abortable(co.refresh('unauthorized', sent), out.signal);
      }
      // Sent without a token.
      if (co.inflight) return await abortable(co.inflight, out.signal);
      if (co.tokens) return co.tokens; // signed in while this request was out
      if (co.status === 'expired') return sessionOver(expiredError(), out);
      // A cookie session can mint a token although we hold none (a reload with a live session).
      if (co.canRefresh(undefined)) return await abortable(co.refresh('unauthorized'), out.signal);
      if (o.mode === 'wait') {
        gate.announce('signed-out');
        await gate.hold(out.signal);
        return co.tokens;
      }
      return undefined;
    } catch (error) {
      if (isSessionExpiredError(error)) return sessionOver(error, out);
      throw error;
    }
  }

  /** A 403 reached the app: tell `forbidden` listeners (if any) with the typed error. */
  function emitForbidden(response: Response, out: Outgoing): void {
    if (bus.has('forbidden')) void errors.forResponse(response, out).then((error) => bus.emit('forbidden', error as ForbiddenError));
  }

  /**
   * A 401 nothing could cure goes back to the caller. Its `unauthorized` event is emitted when the typed error is
   * built, which reads a copy of the body (bounded, but a slow body takes seconds): the response waits for that only
   * {@link EVENT_WAIT_MS}, so the event comes first whenever the body is there (the usual case), and a slow body does
   * not hold `auth.fetch`. `auth.http` rejects with the same memoized error, so its listeners always hear it first.
   */
  async function finalUnauthorized(response: Response, out: Outgoing): Promise<Response> {
    if (bus.has('unauthorized')) {
      await settledWithin(
        errors.forResponse(response, out).then((error) => bus.emit('unauthorized', error as UnauthorizedError)),
        EVENT_WAIT_MS,
      );
    }
    o.log.debug('authfetch: 401 could not be cured by a refresh');
    return response;
  }

  function authFetch(input: RequestInfo | URL, init: RequestInit | undefined, privateRequest: boolean): Promise<Response> {
    if (!co.isReady) return co.ready.then(() => authFetch(input, init, privateRequest));
    let out: Outgoing;
    try {
      out = prepare(input, init, privateRequest);
      // A token never goes to another origin, and an Authorization the app set itself is left alone.
      const given = out.template ? out.template.headers : out.init?.headers;
      const appAuthorization = given !== undefined && (given instanceof Headers ? given : new Headers(given)).has('authorization');
      out.authorized = o.isAuthorized(out.url) && !appAuthorization;
    } catch (error) {
      return Promise.reject(error);
    }
    if (!out.authorized) return send(out, undefined);
    o.onActivity();
    // The common case (signed in, no refresh in flight, not expiring) goes out at once, without an async hop.
    const current = co.tokens;
    if (current && !co.inflight && !co.isExpiring(current)) return send(out, current);
    // Tokens picked before an await: a sign-in or sign-out since then wins (co.reconfirm).
    return tokensForRequest(out).then((tokens) => send(out, tokens && co.reconfirm(tokens)));
  }

  /** A 401: retry with a new DPoP nonce, report a step-up, or cure (refresh, sign-in) and replay once. */
  async function after401(response: Response, out: Outgoing): Promise<Response> {
    const header = response.headers.get('www-authenticate');
    const summary = header ? summarizeChallenges(parseChallenges(header)) : {};
    // RFC 9449 section 9: the resource server wants a (new) nonce: one more try, not a refresh, not a retry.
    if (o.dpop && summary.error === 'use_dpop_nonce') {
      if (!out.nonceRetried && response.headers.get('dpop-nonce') && !out.oneShotBody) {
        discardBody(response);
        out.nonceRetried = true;
        return send(out, out.tokens);
      }
      // Asked again, or without a nonce to use: the token is not what is wrong, so a refresh cannot cure it.
      return finalUnauthorized(response, out);
    }
    // RFC 9470: a stronger sign-in is needed; a refresh cannot give one.
    if (summary.error === 'insufficient_user_authentication') {
      o.log.debug('authfetch: step-up authentication required');
      // Emitted once the error is built (it reads a copy of the body); the response waits for that only briefly.
      await settledWithin(
        errors.forResponse(response, out).then((error) =>
          bus.emit('stepUp', { acrValues: summary.acrValues, maxAge: summary.maxAge, error: error as UnauthorizedError }),
        ),
        EVENT_WAIT_MS,
      );
      // 'wait': hold the request until the app obtained the stronger sign-in (signIn({ acrValues, maxAge })), then
      // replay it once with the new token.
      if (o.mode === 'wait' && !out.steppedUp && !out.oneShotBody) {
        out.steppedUp = true;
        o.stepUpGate.announce('step-up', { acrValues: summary.acrValues, maxAge: summary.maxAge });
        // Only the same user's stronger sign-in releases it (another user's rejects it: 'user-changed').
        await o.stepUpGate.hold(out.signal, out.tokens);
        const tokens = co.tokens;
        if (!tokens) throw new SessionExpiredError('Signed out', { reason: 'logout' });
        discardBody(response);
        o.log.debug('authfetch: replaying a request after step-up');
        return send(out, tokens);
      }
      return response;
    }
    // A 401 on the replay is final: no refresh loop, ever.
    if (out.replayed) return finalUnauthorized(response, out);
    const cured = await cure(out, out.tokens);
    if (!cured) return finalUnauthorized(response, out);
    discardBody(response);
    if (out.oneShotBody) throw new TypeError(ONE_SHOT_MESSAGE);
    o.log.debug('authfetch: replaying a request after 401');
    out.replayed = true;
    out.nonceRetried = false;
    return send(out, co.reconfirm(cured));
  }

  return {
    fetch: (input, init) => authFetch(input, init, false),
    forKy: (input, init) => authFetch(input, init, true),
  };
}
