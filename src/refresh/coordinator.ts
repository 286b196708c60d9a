/**
 * The refresh coordinator: owns the current token set and makes sure that, however many requests meet a 401 or
 * an expiring token at once, exactly one refresh runs (per client, and across tabs and clients sharing the storage
 * name, through a lock) and everyone waits for it. Shape after jose's remote JWKS: one pending promise shared by
 * all callers, cleared only if it is still the current one.
 *
 * Session generations: `login()`, `logout()`, a session end, `dispose()` and another tab's sign-in, sign-out or
 * session end each start a new generation. A refresh belongs to the generation it started in: when that one is
 * over, the strategy's signal is aborted, the requests waiting on it are settled at once (rejected, or, after a
 * sign-in of the same user, given the new tokens), and whatever the refresh returns later is dropped: never stored,
 * emitted or replayed with.
 */
import {
  SessionExpiredError,
  TimeoutError,
  isAuthFetchError,
  isSessionExpiredError,
  isTransient,
  refreshFailure,
} from '../errors/index.js';
import { retryAfterMs as retryAfterFrom } from '../lib/retry-after.js';
import type { EventBus } from '../events.js';
import type { ServerClock } from '../clock.js';
import type { Dpop } from '../dpop/types.js';
import { untilAborted } from '../lib/abort.js';
import { jwtLifetimeMs, maySameUser } from '../lib/claims.js';
import { serialized } from '../lib/serial.js';
import { DISPOSED, ENDED, NO_REFRESH_TOKEN, OTHER_TAB, ended, userChanged } from '../lib/ended.js';
import type { LoginGate, LoginRequiredMode } from '../login-gate.js';
import { normalizeTokens, tokenExpiry } from '../tokens.js';
import type { RefreshTrigger, SessionEndReason, TokenSet, TokenStorage } from '../types.js';
import type { Log } from '../log.js';
import type { SessionNotice, TabChannel } from './channel.js';
import type { TabLock } from '../lib/lock.js';
import type { RefreshStrategy } from './types.js';

/** The session states of `auth.session.status`. */
export type SessionStatus = 'signed-out' | 'active' | 'refreshing' | 'expired';

/** Retries of a transient refresh failure after the first attempt. */
const REFRESH_RETRIES = 2;

/** What the coordinator needs from the client. */
export interface CoordinatorOptions {
  storage: TokenStorage;
  strategy?: RefreshStrategy;
  bus: EventBus;
  log: Log;
  clock: ServerClock;
  fetch: typeof fetch;
  /** Bounds each refresh attempt, in ms. */
  timeout: number;
  /** In seconds. */
  refreshLeeway: number;
  /** Upper bound of one backoff delay between refresh attempts, in ms. */
  backoffLimit: number;
  /** The longest `Retry-After` waited for, in ms; a longer one ends the retries at once. */
  maxRetryAfter: number;
  /** The client's lock: one refresh at a time across tabs and clients sharing the storage name. */
  lock: TabLock;
  dpop?: Dpop;
  /**
   * Called when the session has ended, right after `sessionExpired` was emitted and before any request waiting on
   * the session is rejected (the session module raises `loginRequired`).
   */
  onSessionEnd(reason: SessionEndReason): void;
  /** Called when tokens arrive from a sign-in or a refresh (here or in another tab): held requests can go. */
  onTokens(tokens: TokenSet): void;
  /** Called on logout (here or in another tab): held requests are rejected. */
  onLogout(): void;
  /** Called where `status` changes without an event: the stored session read at start, a refresh starting and settling. */
  onStatusChange(): void;
}

/** One refresh, as the requests waiting on it see it. Settled by the refresh, or by the end of its generation. */
interface Flight {
  readonly promise: Promise<TokenSet>;
  resolve(tokens: TokenSet): void;
  reject(error: unknown): void;
  /** The tokens the refresh started from: whose requests wait on it. */
  readonly basis: TokenSet | undefined;
  readonly generation: number;
}

/**
 * How a request waits for a sign-in when its session is over: the auth path's login gate and `loginRequired` mode
 * (its context has both).
 */
export interface SignInWait {
  readonly gate: LoginGate;
  readonly mode: LoginRequiredMode;
}

/** Thrown inside a refresh whose generation is over; nobody hears it (its flight was settled already). */
const SUPERSEDED = Symbol('superseded');

/** Single-flight refresh, token state, session generations, the one token policy, and the cross-tab side of all. */
export class RefreshCoordinator {
  /** Resolves when the stored tokens have been read once. */
  readonly ready: Promise<void>;
  /** True once `ready` resolved: lets the request path skip an await. */
  isReady = false;

  /** Why the session ended, while `status` is `expired`. */
  #endReason: SessionEndReason | undefined;
  /** The tokens of the session that ended last (until the next sign-in or logout): whose held requests wait. */
  #endedTokens: TokenSet | undefined;
  /**
   * The user signed out (here or in another tab) and has not signed in since: a 401 to a request without a token
   * then does not mint one from a cookie session (the user asked to be signed out); `refresh()` or `login()` does.
   */
  #signedOutByUser = false;
  /** The current token set, mirrored from storage. */
  #tokens: TokenSet | undefined;
  readonly #options: CoordinatorOptions;
  #flight: Flight | undefined;
  /** The transient failures this coordinator has reported (after its own retries); see `isRefreshFailure`. */
  #failures = new WeakSet<object>();
  #channel: TabChannel | undefined;
  /** The session generation; see the module comment. */
  #generation = 0;
  /** Aborted when the current generation ends: the strategy's signal and the retry waits hang off it. */
  #session = new AbortController();
  #disposed = false;
  /** Counts notices that change the session, so a slow storage read for an older notice is dropped. */
  #noticeSeq = 0;
  /** A one-entry cache of the leeway for the current token set (it is read before every request). */
  #leewayTokens: TokenSet | undefined;
  #leewayMs = 0;
  /** The access token of the last token set this client's refresh stored (see `handleNotice`, logout). */
  #lastStored: string | undefined;
  /** Sign-outs so far, here or in another tab: `refreshNow()` compares it across its wait for the stored session. */
  #signOuts = 0;

  constructor(options: CoordinatorOptions) {
    this.#options = options;
    const generation = this.#generation;
    this.ready = options.storage
      .get()
      .catch((error: unknown) => options.log.warn('authfetch: reading stored tokens failed', error))
      .then((tokens) => {
        // A login() or logout() that ran before the first read finished wins over what storage held.
        if (this.#generation === generation && this.#tokens === undefined && this.#endReason === undefined) this.#tokens = tokens || undefined;
        this.isReady = true;
        if (tokens) this.#say('session restored');
        options.onStatusChange();
      });
  }

  /** The current token set (read on every request). */
  get tokens(): TokenSet | undefined {
    return this.#tokens;
  }

  /** A debug line of the lifecycle log. */
  #say(line: string): void {
    this.#options.log.debug(`authfetch: ${line}`);
  }

  /** Connect the cross-tab channel (the client opens it; the coordinator both posts and handles notices). */
  attachChannel(channel: TabChannel | undefined): void {
    this.#channel = channel;
  }

  /** `signed-out`, `active`, `refreshing` or `expired`. */
  get status(): SessionStatus {
    return this.#flight ? 'refreshing' : this.#tokens ? 'active' : this.#endReason ? 'expired' : 'signed-out';
  }

  /** Expiry of the current access token in local epoch ms, judged with the server clock. */
  expiresAt(tokens = this.#tokens): number | undefined {
    return tokens && tokenExpiry(tokens, this.#options.clock.offsetMs);
  }

  /**
   * Whether the token expires within the leeway: `refreshLeeway`, but never more than half the token's lifetime,
   * so a token that lives 20 s is not refreshed before every request. A JWT `exp` is judged by the server's clock
   * once a `Date` header was seen, by the local clock before.
   */
  #isExpiring(tokens: TokenSet): boolean {
    const expiresAt = this.expiresAt(tokens);
    return expiresAt !== undefined && expiresAt - Date.now() <= (tokens === this.#leewayTokens ? this.#leewayMs : this.#noteLifetime(tokens));
  }

  /**
   * Work out the leeway of a token set seen for the first time. Its lifetime is the JWT's `exp - iat` where there
   * is one (both in the server's clock, so no skew); else what is left of it now (exact for tokens just received,
   * since `expires_in` counts from their arrival; a lower bound for tokens restored from storage).
   */
  #noteLifetime(tokens: TokenSet): number {
    const lifetime = jwtLifetimeMs(tokens.accessToken) ?? Math.max(0, (this.expiresAt(tokens) ?? 0) - Date.now());
    this.#leewayTokens = tokens;
    return (this.#leewayMs = Math.min(this.#options.refreshLeeway * 1000, lifetime / 2));
  }

  /** Whether a refresh can be attempted for these tokens. */
  #canRefresh(tokens: TokenSet | undefined): boolean {
    const strategy = this.#options.strategy;
    return !!strategy && (!strategy.requiresRefreshToken || tokens?.refreshToken !== undefined);
  }

  /**
   * Whether `error` is a refresh failure this coordinator already retried and reported. ky must not retry the request
   * that carries it: each of ky's retries would run the whole refresh again (more attempts, another refreshError).
   */
  isRefreshFailure(error: unknown): boolean {
    return this.#failures.has(error as object);
  }

  /**
   * The tokens to send in place of `picked`, which was chosen before an await (a refresh, a sign-in): a sign-in or
   * sign-out since then wins. The current tokens when they are the same user's; otherwise `SessionExpiredError`
   * (`'user-changed'`, or why the session is gone: its end reason, or `'logout'`).
   */
  reconfirm(picked: TokenSet): TokenSet {
    const current = this.#tokens;
    if (current === picked) return picked;
    if (!current) throw ended(this.#endReason ?? 'logout');
    if (!maySameUser(picked, current)) throw userChanged();
    return current;
  }

  /** The refresh in flight, if any: requests starting now wait for it instead of going out with a stale token. */
  get inflight(): Promise<TokenSet> | undefined {
    return this.#flight?.promise;
  }

  /**
   * The token policy's common case, answered without an await: the current tokens when there is nothing to wait for
   * (no refresh in flight, not expiring), else `undefined` and the caller asks {@link tokenFor}. Every await is a turn
   * in which a sign-in or sign-out can make an answer stale.
   */
  get readyTokens(): TokenSet | undefined {
    const tokens = this.#tokens;
    return tokens && !this.#flight && !this.#isExpiring(tokens) ? tokens : undefined;
  }

  /**
   * The token policy, the one for every caller (the auth path, `getAccessToken`, wake-up): the tokens to use now.
   * After the refresh in flight; after a refresh started now when the token is expiring and renewable; else the
   * current tokens. After a transient failure (reported as `refreshError`) the old token may be good a while yet: a
   * request goes out with what is current (the server judges it), the app gets it only while it is still current
   * and unexpired. When the session is over, a request (given `wait`) waits for the same user's sign-in in `'wait'`
   * mode and fails in `'reject'` mode; the app's own call gets whatever is current (or `undefined`).
   *
   * @param wait the auth path's login gate and mode; absent for the app's own calls
   */
  async tokenFor(signal?: AbortSignal | null, wait?: SignInWait): Promise<TokenSet | undefined> {
    const tokens = this.#tokens;
    // Whose request this is, fixed now: a notice handled while it waits may change what is remembered.
    const owner = tokens ?? this.#endedTokens;
    const inflight = this.inflight;
    const renewal = inflight ?? (tokens && this.#isExpiring(tokens) && this.#canRefresh(tokens) ? this.refresh('expiring', tokens) : undefined);
    if (!renewal) {
      return !tokens && this.#endReason && wait?.mode === 'wait' ? this.#signIn(ended(this.#endReason), wait, signal, owner) : tokens;
    }
    try {
      const renewed = await untilAborted(renewal, signal);
      // The app's call: a sign-in or sign-out while it waited wins (what `reconfirm` gives, or nothing).
      return wait ? renewed : this.#tokens;
    } catch (error) {
      if (isSessionExpiredError(error)) return wait ? this.#signIn(error, wait, signal, owner) : this.#tokens;
      if (inflight || signal?.aborted || !tokens) throw error;
      if (wait) return this.#tokens ?? tokens;
      if (this.#tokens === tokens && (this.expiresAt(tokens) ?? 0) > Date.now()) return tokens;
      throw error;
    }
  }

  /**
   * After a 401: the tokens to replay with, or `undefined` when nothing can cure it (the 401 is final). Keyed on the
   * rejected token `sent`: a late 401 for a token already renewed replays without a second refresh.
   */
  async afterUnauthorized(sent: TokenSet | undefined, signal: AbortSignal | null | undefined, wait: SignInWait): Promise<TokenSet | undefined> {
    // A session found over is thrown to the catch, which returns `#signIn` there, not awaited: its own rejection
    // (logout, loginTimeout) is final and must not be caught and held a second time.
    try {
      if (sent) {
        // End the session only while the rejected token is still the current one: when it is already gone (the
        // session ended or the user signed out meanwhile), refresh() says so without ending it a second time.
        if (!this.#canRefresh(sent) && this.#tokens?.accessToken === sent.accessToken) {
          throw await this.endSession('no-refresh-token');
        }
      } else if (!this.#flight) {
        // Sent without a token, and no refresh in flight (one in flight is joined below).
        if (this.#tokens) return this.#tokens; // signed in while this request was out
        if (this.#endReason) throw ended(this.#endReason);
        // A cookie session can mint a token although we hold none (a reload with a live session), but not after the
        // user signed out: a background request must not sign them back in.
        if (!this.#canRefresh(undefined) || this.#signedOutByUser) {
          if (wait.mode === 'reject') return undefined;
          wait.gate.announce('signed-out');
          await wait.gate.hold(signal);
          return this.#tokens;
        }
      }
      return await untilAborted(this.refresh('unauthorized', sent), signal);
    } catch (error) {
      if (isSessionExpiredError(error)) return this.#signIn(error, wait, signal, sent ?? this.#endedTokens);
      throw error;
    }
  }

  /**
   * The session is over: hold the request until sign-in and go on with the new tokens (`'wait'`), or fail now.
   * `owner`: the tokens of the session the request belongs to; only the same user's sign-in releases it.
   */
  async #signIn(error: SessionExpiredError, wait: SignInWait, signal: AbortSignal | null | undefined, owner: TokenSet | undefined): Promise<TokenSet> {
    // A request still out when the user signed out ends with the logout, as the requests held then do.
    // Another user's sign-in never carries this request either.
    if (wait.mode === 'reject' || error.reason === 'logout' || error.reason === 'user-changed') throw error;
    await wait.gate.hold(signal, owner);
    if (!this.#tokens) throw error;
    return this.#tokens;
  }

  /**
   * Renew the tokens, once for everyone. `rejected` is the token set a server refused (or that is expiring): if the
   * current token is already another one of the same user, it is returned without a refresh (a late 401).
   * Rejects with `SessionExpiredError` when the session ended (reason `'logout'` after a sign-out, `'user-changed'`
   * when another user signed in since `rejected` was sent), or with the typed cause of a transient failure.
   */
  refresh(trigger: RefreshTrigger, rejected?: TokenSet): Promise<TokenSet> {
    if (this.#disposed) return Promise.reject(ended('logout', DISPOSED));
    const current = this.#tokens;
    const flight = this.#flight;
    if (rejected) {
      // The session ended (or the user signed out) after this token was sent: its late 401 must not end the
      // session a second time (a second sessionExpired, with a wrong reason).
      if (!current && !flight) return Promise.reject(ended(this.#endReason ?? 'logout'));
      // Another user signed in since this token was sent: their tokens never carry this request.
      if (!maySameUser(rejected, flight ? flight.basis : current)) return Promise.reject(userChanged());
    }
    if (flight) return flight.promise;
    if (rejected && current && current.accessToken !== rejected.accessToken) return Promise.resolve(current);
    let resolve!: (tokens: TokenSet) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<TokenSet>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const started: Flight = { promise, resolve, reject, basis: current, generation: this.#generation };
    this.#flight = started;
    this.#options.onStatusChange();
    // Settled unless its generation ended first (it was settled then).
    const settle =
      <T>(done: (value: T) => void) =>
      (value: T) => {
        if (this.#flight !== started) return;
        this.#flight = undefined;
        this.#options.onStatusChange();
        done(value);
      };
    this.#run(trigger, rejected, started).then(settle(resolve), settle(reject));
    return promise;
  }

  /** Start a new session generation: abort the old one's refresh and hand back its flight, unsettled. */
  #advance(): Flight | undefined {
    this.#generation++;
    // Its reason is the platform's AbortError: the strategy's fetch ends as an abort, and nobody hears the result.
    this.#session.abort();
    this.#session = new AbortController();
    const flight = this.#flight;
    this.#flight = undefined;
    if (flight) this.#options.onStatusChange();
    return flight;
  }

  /**
   * Queue storage work behind every earlier write of this page over this storage name (clients of one page share the
   * queue): a write queued earlier (a refresh's result) never lands after one queued later (a logout's clear).
   */
  #write<T>(work: (storage: TokenStorage) => Promise<T>): Promise<T> {
    const storage = this.#options.storage;
    return serialized(`authfetch:${storage.name}:storage`, () => work(storage));
  }

  /** Store `tokens` (clear without), in the page's write order; a failure is logged (`quiet`: not) and the session goes on. */
  #save(tokens?: TokenSet, quiet?: boolean): Promise<unknown> {
    return this.#write((storage) => put(storage, quiet ? undefined : this.#options.log, tokens));
  }

  async #run(trigger: RefreshTrigger, rejected: TokenSet | undefined, flight: Flight): Promise<TokenSet> {
    const { storage, log, bus, lock } = this.#options;
    const signal = this.#session.signal;
    const stale = () => this.#generation !== flight.generation;
    const over = () => {
      if (stale() || this.#disposed) throw SUPERSEDED;
    };
    this.#say(`refresh (${trigger})`);
    // Waiting for the lock ends with the generation: a refresh queued behind another tab's is dropped at a logout.
    return lock.run(`authfetch:${storage.name}:refresh`, async () => {
      over();
      // Another tab (or client over this storage, or a notice that arrived while we waited for the lock) may have
      // refreshed already: use those tokens rather than spend a rotated refresh token twice (RFC 9700 section 4.14.2:
      // a rotated refresh token used twice may revoke the whole grant).
      let basis = this.#tokens;
      if (storage.shared) {
        // `null`: the read failed (nothing is known; go on with ours).
        const stored = await this.#write(() => storage.get().catch(() => null));
        over();
        if (stored) basis = stored;
        else if (stored === undefined && this.#tokens) {
          // Shared storage is the truth: it is empty, so another tab signed out or ended the session while we
          // waited (its notice may still be on the way). Spending our stale refresh token now would be a reuse.
          throw await this.endSession('other-tab', undefined, true);
        }
      }
      if (rejected && basis && basis.accessToken !== rejected.accessToken && !this.#isExpiring(basis)) {
        // Another user signed in in another tab: its notice brings the sign-in; these requests are not theirs.
        if (!maySameUser(rejected, basis)) throw userChanged();
        if (basis.accessToken !== this.#tokens?.accessToken) this.#take(basis, 'refresh', trigger, 'other-tab');
        return basis;
      }
      if (!this.#canRefresh(basis)) throw await this.endSession('no-refresh-token');
      let tokens: TokenSet;
      try {
        tokens = await this.#attemptWithRetries(basis, signal);
      } catch (error) {
        // The session changed meanwhile (logout, another sign-in, dispose): this refresh's outcome is nobody's.
        over();
        if (isSessionExpiredError(error)) {
          throw await this.endSession(error.reason === 'no-refresh-token' ? 'no-refresh-token' : 'refresh-rejected', error);
        }
        const typed = refreshFailure(error);
        this.#failures.add(typed);
        log.warn(`authfetch: refresh failed (${typed.code})`);
        bus.emit('refreshError', { error: typed });
        throw typed;
      }
      if (stale()) throw SUPERSEDED;
      // Compare and set, in the page's write order: a sign-in or sign-out queued after this write lands after it,
      // and one that landed before it (another client over the same storage) wins over this late result.
      // What is stored now when it changed (`null`: emptied); `undefined` when this result was stored (or is stale).
      const changed = await this.#write(async (): Promise<TokenSet | null | undefined> => {
        if (stale()) return;
        if (storage.shared) {
          const now = await storage.get().catch(() => basis);
          if (now?.accessToken !== basis?.accessToken) return now ?? null;
        }
        await put(storage, log, tokens);
        this.#lastStored = tokens.accessToken;
      });
      // Disposed while it ran (over shared storage, see dispose()): stored for the other tabs, nothing more.
      over();
      if (changed !== undefined) {
        // The shared storage changed while this refresh ran (another client signed in or out there): its result is
        // dropped, and the waiting requests follow what is stored now. The other client's notice brings the events.
        if (!changed) throw await this.endSession('other-tab', undefined, true);
        if (!maySameUser(rejected ?? basis, changed)) throw userChanged();
        this.#take(changed, 'refresh', trigger, 'other-tab');
        return changed;
      }
      this.#noteLifetime(tokens);
      this.#take(tokens, 'refresh', trigger, 'local');
      return tokens;
    }, signal);
  }

  /**
   * Make `tokens` the session's and say so with `event`: this client's refresh (`'local'`: other tabs hear of it), or
   * tokens another tab (or client over this storage) stored, taken as ours.
   */
  #take(tokens: TokenSet, event: 'login' | 'refresh', trigger: RefreshTrigger, source: 'local' | 'other-tab'): void {
    const { bus, onTokens } = this.#options;
    this.#tokens = tokens;
    this.#endReason = undefined;
    const expiresAt = this.expiresAt(tokens);
    this.#say(source === 'local' ? 'refresh succeeded' : `${event} in another tab`);
    if (source === 'local') this.#channel?.post({ type: 'refresh', expiresAt, trigger });
    bus.emit(event, event === 'login' ? { expiresAt, source } : { expiresAt, trigger, source });
    onTokens(tokens);
  }

  /** One refresh with up to {@link REFRESH_RETRIES} retries of transient failures, exponential backoff and jitter. */
  async #attemptWithRetries(basis: TokenSet | undefined, signal: AbortSignal): Promise<TokenSet> {
    const { backoffLimit, maxRetryAfter } = this.#options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(basis, signal);
      } catch (error) {
        if (attempt >= REFRESH_RETRIES || !isTransient(error) || signal.aborted) throw error;
        // Exponential backoff with "equal jitter": half fixed, half random, so tabs and clients spread out.
        const base = Math.min(backoffLimit, 300 * 2 ** attempt) / 2;
        let delay = base + Math.random() * base;
        // Retry-After (RFC 9110 10.2.3) on a 429, and on a 503 too, where a server in maintenance sends it. Honoured
        // up to maxRetryAfter; a server asking for longer gets its error handed on now, not a refresh held for an hour.
        const { code, retryAfterMs = code === 'ERR_SERVER' ? retryAfterFrom((error as { response: Response }).response.headers) : undefined } =
          error as { code: string; retryAfterMs?: number };
        if (retryAfterMs !== undefined) {
          if (retryAfterMs > maxRetryAfter) throw error;
          delay = Math.max(delay, retryAfterMs);
        }
        this.#say(`refresh attempt ${attempt + 1} failed (${code}); retry in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
        if (signal.aborted) throw error;
      }
    }
  }

  /**
   * One call of the strategy, bounded by `timeout` even if the strategy ignores its signal, and ended at once when
   * the session generation ends (the strategy's signal is aborted; a strategy that ignores it is no longer waited for).
   */
  async #attempt(basis: TokenSet | undefined, session: AbortSignal): Promise<TokenSet> {
    const { strategy, timeout, fetch, dpop } = this.#options;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError(`The refresh took longer than ${timeout} ms`)), timeout);
    const onSessionEnd = () => controller.abort(session.reason);
    if (session.aborted) onSessionEnd();
    session.addEventListener('abort', onSessionEnd);
    try {
      const signal = controller.signal;
      // A custom strategy may hand back anything: normalise (and validate) once more.
      return normalizeTokens(await untilAborted(Promise.resolve((strategy as RefreshStrategy).refresh({ tokens: basis, signal, fetch, dpop })), signal), undefined, basis);
    } finally {
      clearTimeout(timer);
      session.removeEventListener('abort', onSessionEnd);
    }
  }

  /**
   * End the session: clear tokens (here and, through storage and the channel, in other tabs), start a new
   * generation, emit `sessionExpired` and let the session module raise `loginRequired`, and only then reject the
   * requests waiting on a refresh (events come before the settlement they explain). Returns the error for them.
   */
  async endSession(reason: SessionEndReason, cause?: unknown, fromOtherTab = false): Promise<SessionExpiredError> {
    const { log, bus, onSessionEnd } = this.#options;
    const error = isSessionExpiredError(cause) && cause.reason === reason ? cause : new SessionExpiredError(ENDED[reason], { reason, cause });
    // Another tab's session ended, but this one had none (signed out already, or ended): nothing ends here, and the
    // status stays what it was (a signed-out tab does not turn 'expired' without ever hearing sessionExpired).
    if (fromOtherTab && !this.#tokens && !this.#flight) return error;
    this.#endedTokens = this.#tokens ?? this.#flight?.basis ?? this.#endedTokens;
    this.#tokens = undefined;
    this.#endReason = reason;
    const flight = this.#advance();
    const cleared = fromOtherTab || this.#save();
    log.warn(`authfetch: session ended (${reason})`);
    bus.emit('sessionExpired', isAuthFetchError(cause) ? { reason, error: cause } : { reason });
    onSessionEnd(reason);
    flight?.reject(error);
    if (cleared !== true) {
      await cleared;
      this.#channel?.post({ type: 'session-end', reason });
    }
    return error;
  }

  /**
   * Store tokens from an interactive sign-in. A refresh in flight belongs to the session before: its requests go on
   * with these tokens when they are the same user's, and reject with `'user-changed'` when not.
   */
  async login(tokens: TokenSet): Promise<void> {
    // A disposed client has nobody listening to its events any more: a sign-in there would attach tokens unseen.
    if (this.#disposed) throw new TypeError('authfetch: login() after dispose()');
    const flight = this.#begin(tokens);
    const generation = this.#generation;
    this.#noteLifetime(tokens);
    handOver(flight, tokens);
    await this.#save(tokens);
    const expiresAt = this.expiresAt(tokens);
    this.#channel?.post({ type: 'login', expiresAt });
    this.#say('signed in');
    this.#options.bus.emit('login', { expiresAt, source: 'local' });
    // A sign-out or another sign-in while storing is newer: held requests follow that one.
    if (this.#generation === generation) this.#options.onTokens(tokens);
  }

  /** A sign-in or sign-out: a new generation with these tokens (or none), no ended session. Returns the old flight. */
  #begin(tokens: TokenSet | undefined): Flight | undefined {
    const flight = this.#advance();
    this.#tokens = tokens;
    this.#endReason = this.#endedTokens = undefined;
    this.#signedOutByUser = !tokens;
    return flight;
  }

  /**
   * `auth.refresh()`: a refresh now (joining one already running); refused without a strategy or a refresh token.
   * A sign-out after the call (in the same turn, or while the stored session is still being read) wins: the refresh
   * was asked for the session as it was, and must not start a new one (a cookie session would mint a token and sign
   * the user back in).
   */
  async refreshNow(): Promise<void> {
    const signOuts = this.#signOuts;
    await this.ready;
    if (this.#signOuts !== signOuts) throw ended('logout');
    if (!this.#options.strategy) throw new TypeError('authfetch: refresh() needs the refresh option');
    if (!this.#canRefresh(this.#tokens) && !this.#flight) throw ended('no-refresh-token', NO_REFRESH_TOKEN);
    await this.refresh('manual');
  }

  /** Clear tokens here and in other tabs; a refresh in flight is aborted and its requests reject (`'logout'`). */
  async logout(): Promise<void> {
    this.#signedOut('local');
    await this.#save();
    this.#channel?.post({ type: 'logout' });
  }

  /** The sign-out itself: a new generation, no tokens, the `logout` event, then its refresh's requests rejected. */
  #signedOut(source: 'local' | 'other-tab'): void {
    const flight = this.#begin(undefined);
    this.#signOuts++;
    this.#say(`signed out (${source})`);
    this.#options.bus.emit('logout', { source });
    flight?.reject(ended('logout', source === 'local' ? undefined : OTHER_TAB));
    this.#options.onLogout();
  }

  /** React to another tab's notice. Tokens never travel in notices: shared storage is re-read. */
  async handleNotice(notice: SessionNotice): Promise<void> {
    const { storage, dpop } = this.#options;
    const type = notice.type;
    // The other tab may have signed in or out with a DPoP key it rotated (rotateOnLogout): re-read the shared key
    // before the next proof rather than wait for the key store's own notice (src/dpop/key-store.ts).
    if (type === 'login' || type === 'logout') dpop?.forgetCachedKey?.();
    if (type === 'login' || type === 'refresh') {
      if (!storage.shared) return; // each tab keeps its own session over memory storage
      const seq = ++this.#noticeSeq;
      // A sign-in elsewhere starts a new generation here too: a refresh of ours must not overwrite it.
      const flight = type === 'login' ? this.#advance() : undefined;
      const generation = this.#generation;
      const before = this.#tokens;
      // Read behind this page's own queued writes: a sign-out here after that sign-in there must win.
      const stored = await this.#write((s) => s.get().catch(() => undefined));
      // Empty: a sign-out there followed the sign-in (its notice is on the way).
      handOver(flight, stored);
      // While we read, a later notice (a logout) or a local sign-in, refresh or sign-out may have changed the
      // session: that one is newer, and this read must not bring back the tokens it replaced.
      if (seq !== this.#noticeSeq || this.#generation !== generation || this.#tokens !== before) return;
      if (!stored || stored.accessToken === before?.accessToken) return;
      // A tab that had no session and now has one was signed in, whichever notice it heard last.
      this.#take(stored, type === 'login' || !before ? 'login' : 'refresh', notice.trigger ?? 'unauthorized', 'other-tab');
    } else {
      // 'logout' or 'session-end'.
      this.#noticeSeq++;
      if (type === 'logout') this.#signedOut('other-tab');
      else await this.endSession('other-tab', undefined, true);
      const ours = this.#lastStored;
      // Over shared storage, another tab's sign-out may have landed between the two transactions of this client's
      // refresh (its compare-and-set), leaving tokens from before that sign-out: cleared, or a reload would restore
      // the session. Tokens the other tab stored since are its own and stay.
      if (!storage.shared) await this.#save(undefined, true);
      else if (type === 'logout' && ours !== undefined) {
        await this.#write(async (s) => {
          if ((await s.get().catch(() => undefined))?.accessToken === ours) await put(s, undefined);
        });
      }
    }
  }

  /**
   * Stop retries and timers; the requests waiting on a refresh reject. The refresh itself is aborted, except over
   * shared storage: other tabs (and clients) go on with that storage, and the server may already have rotated the
   * refresh token (RFC 6749 section 10.4), so the refresh runs on to its storage write (bounded by `timeout`), without
   * an event, rather than leave them a spent refresh token whose reuse would revoke the session everywhere.
   */
  dispose(): void {
    this.#disposed = true;
    let flight = this.#flight;
    if (flight && this.#options.storage.shared) this.#flight = undefined;
    else flight = this.#advance();
    flight?.reject(ended('logout', DISPOSED));
  }
}

/**
 * A sign-in ended the generation of `flight`: its requests go on with the new `tokens` when they are the same user's,
 * reject with `'user-changed'` when not, and as signed out in another tab when there are none.
 */
function handOver(flight: Flight | undefined, tokens: TokenSet | undefined): void {
  if (tokens && maySameUser(flight?.basis, tokens)) flight?.resolve(tokens);
  else flight?.reject(tokens ? userChanged() : ended('logout', OTHER_TAB));
}

/** Write `tokens` (clear without them); a failure is logged to `log` when given, and the session goes on. */
function put(storage: TokenStorage, log: Log | undefined, tokens?: TokenSet): Promise<unknown> {
  return (tokens ? storage.set(tokens) : storage.clear()).catch((error: unknown) => log?.warn('authfetch: storage write failed', error));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}
