/**
 * The auth path: one function with fetch's signature. It attaches the token (or waits for a refresh in flight),
 * sends, and on a 401 waits for the coordinator and replays once. `auth.fetch` is this function; `auth.http` is ky
 * with this function as its `fetch`. It stays lean: no Request is built for a string URL with a replayable body,
 * and nothing is parsed on a 2xx beyond the `Date` header.
 */
import { summarizeChallenges, parseChallenges } from './challenge.js';
import { SessionExpiredError, TimeoutError, isSessionExpiredError, type ForbiddenError, type UnauthorizedError } from './errors.js';
import type { ErrorMapper } from './error-mapper.js';
import type { EventBus } from './events.js';
import type { ServerClock } from './clock.js';
import type { Dpop } from './dpop/types.js';
import type { Log } from './log.js';
import type { OriginMatcher } from './origins.js';
import type { RefreshCoordinator } from './refresh/coordinator.js';
import type { LoginGate, LoginRequiredMode } from './session.js';
import type { TokenSet } from './types.js';

/** What the auth path is built from. */
export interface AuthPathOptions {
  fetch: typeof fetch;
  coordinator: RefreshCoordinator;
  gate: LoginGate;
  mode: LoginRequiredMode;
  isAuthorized: OriginMatcher;
  /** Turns a relative path into an absolute URL (baseUrl, or the page). */
  resolveUrl(input: string): string;
  timeout: number;
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
  /** For a string/URL input: the init, reused as is for every attempt (its body type is replayable). */
  init?: RequestInit;
  /** For a Request input: a template never sent itself; each attempt sends a clone. */
  template?: Request;
  signal: AbortSignal | null | undefined;
  /** The body is a one-shot ReadableStream given in init: it cannot be sent twice. */
  oneShotBody: boolean;
}

/** Whether an init carries no option (ky passes `{}`), without allocating the array `Object.keys` would. */
function isEmptyInit(init: RequestInit): boolean {
  for (const key in init) if (Object.hasOwn(init, key)) return false;
  return true;
}

/** Thrown (as a TypeError) when a 401 must be replayed but the body was a one-shot stream. */
const ONE_SHOT_MESSAGE =
  'authfetch: the request got 401 and the token was renewed, but its body is a one-shot ReadableStream that ' +
  'cannot be sent again. Pass the body as a string, Blob, ArrayBuffer, FormData or URLSearchParams (or a Request) ' +
  'so it can be replayed.';

/** Build the auth path. */
export function createAuthPath(o: AuthPathOptions): (input: RequestInfo | URL, init?: RequestInit) => Promise<Response> {
  const { coordinator: co, gate, bus, errors } = o;

  function prepare(input: RequestInfo | URL, init: RequestInit | undefined): Outgoing {
    if (typeof input === 'string' || input instanceof URL) {
      const url = typeof input === 'string' ? o.resolveUrl(input) : input.href;
      const body = init?.body;
      const oneShotBody = typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
      return { url, method: (init?.method ?? 'GET').toUpperCase(), init: init ?? {}, signal: init?.signal, oneShotBody };
    }
    // A Request (ky always passes one). Merge init into a template; its body is teed per attempt by clone().
    const template = init && !isEmptyInit(init) ? new Request(input, init) : input;
    return { url: template.url, method: template.method, template, signal: template.signal, oneShotBody: false };
  }

  async function sendOnce(out: Outgoing, tokens: TokenSet | undefined): Promise<Response> {
    const given = out.template ? out.template.headers : out.init?.headers;
    // Without headers of the app's own (`auth.fetch(url)`), a plain record: fetch reads it for less than a Headers copy.
    const headers: Headers | Record<string, string> = given === undefined ? {} : new Headers(given);
    const setHeader = (name: string, value: string): void => {
      if (headers instanceof Headers) headers.set(name, value);
      else headers[name] = value;
    };
    if (tokens) {
      const useDpop = o.dpop !== undefined && tokens.tokenType?.toLowerCase() !== 'bearer';
      setHeader('authorization', `${useDpop ? 'DPoP' : 'Bearer'} ${tokens.accessToken}`);
      // RFC 9449 section 7: a fresh proof for every request and every replay, bound to the token by `ath`.
      if (useDpop) setHeader('dpop', await (o.dpop as Dpop).proof(out.method, out.url, { accessToken: tokens.accessToken }));
    }
    // The per-attempt timeout covers the wait for the response headers only (as ky's does), never the time a
    // request spends held for a refresh or a sign-in, and never the body download.
    const controller = new AbortController();
    const user = out.signal;
    const onUserAbort = () => controller.abort(user?.reason);
    if (user) {
      if (user.aborted) throw user.reason;
      user.addEventListener('abort', onUserAbort, { once: true });
    }
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`The request took longer than ${o.timeout} ms`, 'TimeoutError'));
    }, o.timeout);
    try {
      // A Request goes out as fetch(request, init): fetch builds the one Request it sends from both. Building it here
      // first cost a second Request and a second signal hook-up per attempt (bench/overhead.ts).
      const response = out.template
        ? await o.fetch(out.template.body ? out.template.clone() : out.template, { headers, signal: controller.signal })
        : await o.fetch(out.url, { ...out.init, headers, signal: controller.signal });
      // Only a non-2xx response ever gets a typed error, the one reader of this note: a 2xx skips the WeakMap entry
      // (a WeakMap entry per response is GC work on every request).
      if (!response.ok) errors.noteCredentials(response, tokens !== undefined);
      return response;
    } catch (error) {
      // The timeout is known here: put it in the error (and its message), which errorFromFailure cannot.
      if (timedOut && !user?.aborted) {
        throw new TimeoutError(undefined, { method: out.method, url: out.url, timeout: o.timeout, cause: controller.signal.reason });
      }
      throw errors.forFailure(error, out);
    } finally {
      clearTimeout(timer);
      user?.removeEventListener('abort', onUserAbort);
    }
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

  /** The session is over: reject (`'reject'`) or hold until sign-in and go on with the new tokens (`'wait'`). */
  async function sessionOver(error: SessionExpiredError, out: Outgoing): Promise<TokenSet> {
    // A request still out when the user signed out ends with the logout, as the requests held then do.
    if (o.mode === 'reject' || error.reason === 'logout') throw error;
    await gate.hold(out.signal);
    const tokens = co.tokens;
    if (!tokens) throw error;
    return tokens;
  }

  /** The tokens to send with: after a refresh in flight, or after a proactive refresh when expiring. */
  async function tokensForRequest(out: Outgoing): Promise<TokenSet | undefined> {
    const inflight = co.inflight;
    if (inflight) {
      try {
        return await abortable(inflight, out.signal);
      } catch (error) {
        if (isSessionExpiredError(error)) return sessionOver(error, out);
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
        return await abortable(co.refresh('expiring', tokens.accessToken), out.signal);
      } catch (error) {
        if (isSessionExpiredError(error)) return sessionOver(error, out);
        if (out.signal?.aborted) throw error;
        // A transient failure was reported (refreshError); the token may still be good for a while: send it.
        return co.tokens ?? tokens;
      }
    }
    return tokens;
  }

  function expiredError(): SessionExpiredError {
    return new SessionExpiredError(undefined, { reason: co.endReason ?? 'unknown' });
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
        return await abortable(co.refresh('unauthorized', sent.accessToken), out.signal);
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

  function emitHttpEvent(response: Response, out: Outgoing): void {
    if (response.status === 403 && bus.has('forbidden')) {
      void errors.forResponse(response, out).then((error) => bus.emit('forbidden', error as ForbiddenError));
    }
  }

  async function finalUnauthorized(response: Response, out: Outgoing): Promise<Response> {
    if (bus.has('unauthorized')) bus.emit('unauthorized', (await errors.forResponse(response, out)) as UnauthorizedError);
    o.log.debug('authfetch: 401 could not be cured by a refresh');
    return response;
  }

  return async function authFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    if (!co.isReady) await co.ready;
    const out = prepare(input, init);
    const authorized = o.isAuthorized(out.url);
    // A token never goes to another origin, and an Authorization the app set itself is left alone.
    const given = out.template ? out.template.headers : out.init?.headers;
    const appAuthorization = given !== undefined && (given instanceof Headers ? given : new Headers(given)).has('authorization');
    if (!authorized || appAuthorization) {
      const response = await sendOnce(out, undefined);
      emitHttpEvent(response, out);
      return response;
    }
    o.onActivity();
    // The common case (signed in, no refresh in flight, not expiring) skips the hops of an async call.
    const current = co.tokens;
    let tokens = current && !co.inflight && !co.isExpiring(current) ? current : await tokensForRequest(out);
    let replayed = false;
    let nonceRetried = false;
    for (;;) {
      const response = await sendOnce(out, tokens);
      o.clock.observe(response.headers.get('date'));
      if (o.dpop) {
        const nonce = response.headers.get('dpop-nonce');
        if (nonce) o.dpop.rememberNonce(out.url, nonce);
      }
      if (response.status !== 401) {
        emitHttpEvent(response, out);
        return response;
      }
      const header = response.headers.get('www-authenticate');
      const summary = header ? summarizeChallenges(parseChallenges(header)) : {};
      // RFC 9449 section 9: the resource server wants a (new) nonce: one more try, not a refresh, not a retry.
      if (o.dpop && summary.error === 'use_dpop_nonce') {
        if (!nonceRetried && response.headers.get('dpop-nonce') && !out.oneShotBody) {
          nonceRetried = true;
          await response.body?.cancel();
          continue;
        }
        // Asked again, or without a nonce to use: the token is not what is wrong, so a refresh cannot cure it.
        return finalUnauthorized(response, out);
      }
      // RFC 9470: a stronger sign-in is needed; a refresh cannot give one.
      if (summary.error === 'insufficient_user_authentication') {
        const error = (await errors.forResponse(response, out)) as UnauthorizedError;
        o.log.debug('authfetch: step-up authentication required');
        bus.emit('stepUp', { acrValues: summary.acrValues, maxAge: summary.maxAge, error });
        return response;
      }
      if (replayed) return finalUnauthorized(response, out);
      const next = await cure(out, tokens);
      if (!next) return finalUnauthorized(response, out);
      if (out.oneShotBody) {
        await response.body?.cancel();
        throw new TypeError(ONE_SHOT_MESSAGE);
      }
      await response.body?.cancel();
      o.log.debug('authfetch: replaying a request after 401');
      tokens = next;
      replayed = true;
      nonceRetried = false;
    }
  };
}
