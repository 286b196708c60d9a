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
import { jwtLifetimeMs, maySameUser } from '../lib/claims.js';
import { serialized } from '../lib/serial.js';
import { normalizeTokens, tokenExpiry } from '../tokens.js';
import type { RefreshTrigger, SessionEndReason, TokenSet, TokenStorage } from '../types.js';
import type { Log } from '../log.js';
import type { TabChannel, TabNotice } from './channel.js';
import { tabLock, type TabLock } from '../lib/lock.js';
import type { RefreshStrategy } from './types.js';

/** The session states of `auth.session.status`. */
export type SessionStatus = 'signed-out' | 'active' | 'refreshing' | 'expired';

/** How transient refresh failures are retried. */
export interface RefreshRetryPolicy {
  /** Retries after the first attempt. */
  limit: number;
  /** Upper bound of one backoff delay, in ms. */
  backoffLimit: number;
  /** The longest `Retry-After` waited for, in ms; a longer one ends the retries at once. */
  maxRetryAfter: number;
}

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
  retry: RefreshRetryPolicy;
  crossTab: boolean;
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
  onStatusChange?(): void;
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

/** Thrown inside a refresh whose generation is over; nobody hears it (its flight was settled already). */
const SUPERSEDED = Symbol('superseded');

/** Single-flight refresh, token state, session generations, and the cross-tab side of all three. */
export class RefreshCoordinator {
  /** The current token set, mirrored from storage. Read on every request, so it is a plain field. */
  tokens: TokenSet | undefined;
  /** Why the session ended, while `status` is `expired`. */
  endReason: SessionEndReason | undefined;
  /** The tokens of the session that ended last (until the next sign-in or logout): whose held requests wait. */
  endedTokens: TokenSet | undefined;
  /**
   * The user signed out (here or in another tab) and has not signed in since: a 401 to a request without a token
   * then does not mint one from a cookie session (the user asked to be signed out); `refresh()` or `login()` does.
   */
  signedOutByUser = false;
  /** Resolves when the stored tokens have been read once. */
  readonly ready: Promise<void>;
  /** True once `ready` resolved: lets the request path skip an await. */
  isReady = false;

  #flight: Flight | undefined;
  /** The transient failures this coordinator has reported (after its own retries); see `isRefreshFailure`. */
  #failures = new WeakSet<object>();
  #channel: TabChannel | undefined;
  /** The session generation; see the module comment. */
  #generation = 0;
  /** Aborted when the current generation ends: the strategy's signal and the retry waits hang off it. */
  #session = new AbortController();
  #disposed = false;
  #lockName: string;
  /** Chosen once: Web Locks across tabs where they exist, else the storage's opt-in fallback, else in-page only. */
  #lock: TabLock;
  /** Storage writes of every client over this storage name in this page run one at a time, in order. */
  #writeQueue: string;
  /** Counts notices that change the session, so a slow storage read for an older notice is dropped. */
  #noticeSeq = 0;
  /** A one-entry cache of the leeway for the current token set (it is read before every request). */
  #leewayTokens: TokenSet | undefined;
  #leewayMs = 0;
  /** The access token of the last token set this client's refresh stored (see `#clearIfOurs`). */
  #lastStored: string | undefined;

  constructor(private readonly o: CoordinatorOptions) {
    this.#lockName = `authfetch:${o.storage.name}:refresh`;
    this.#lock = tabLock(o.crossTab, o.storage.lockFallback);
    this.#writeQueue = `authfetch:${o.storage.name}:storage`;
    const generation = this.#generation;
    this.ready = o.storage
      .get()
      .catch((error: unknown) => {
        o.log.warn('authfetch: reading stored tokens failed; starting signed out', error);
        return undefined;
      })
      .then((tokens) => {
        // A login() or logout() that ran before the first read finished wins over what storage held.
        if (this.#generation === generation && this.tokens === undefined && this.endReason === undefined) this.tokens = tokens;
        this.isReady = true;
        if (tokens) o.log.debug('authfetch: restored a stored session');
        o.onStatusChange?.();
      });
  }

  /** Connect the cross-tab channel (the client opens it; the coordinator both posts and handles notices). */
  attachChannel(channel: TabChannel | undefined): void {
    this.#channel = channel;
  }

  /** `signed-out`, `active`, `refreshing` or `expired`. */
  get status(): SessionStatus {
    if (this.#flight) return 'refreshing';
    if (this.tokens) return 'active';
    return this.endReason ? 'expired' : 'signed-out';
  }

  /** Expiry of the current access token in local epoch ms, judged with the server clock. */
  expiresAt(tokens = this.tokens): number | undefined {
    return tokens ? tokenExpiry(tokens, this.o.clock.offsetMs) : undefined;
  }

  /**
   * Whether the token expires within the leeway: `refreshLeeway`, but never more than half the token's lifetime,
   * so a token that lives 20 s is not refreshed before every request. A JWT `exp` is judged by the server's clock
   * once a `Date` header was seen, by the local clock before.
   */
  isExpiring(tokens: TokenSet): boolean {
    const expiresAt = tokenExpiry(tokens, this.o.clock.offsetMs);
    if (expiresAt === undefined) return false;
    const leewayMs = tokens === this.#leewayTokens ? this.#leewayMs : this.#noteLifetime(tokens, expiresAt);
    return expiresAt - Date.now() <= leewayMs;
  }

  /**
   * Work out the leeway of a token set seen for the first time. Its lifetime is the JWT's `exp - iat` where there
   * is one (both in the server's clock, so no skew); else what is left of it now (exact for tokens just received,
   * since `expires_in` counts from their arrival; a lower bound for tokens restored from storage).
   */
  #noteLifetime(tokens: TokenSet, expiresAt = tokenExpiry(tokens, this.o.clock.offsetMs)): number {
    const left = expiresAt === undefined ? 0 : expiresAt - Date.now();
    const lifetime = jwtLifetimeMs(tokens.accessToken) ?? Math.max(0, left);
    this.#leewayTokens = tokens;
    this.#leewayMs = Math.min(this.o.refreshLeeway * 1000, lifetime / 2);
    return this.#leewayMs;
  }

  /** Whether a refresh can be attempted for these tokens. */
  canRefresh(tokens: TokenSet | undefined): boolean {
    const strategy = this.o.strategy;
    if (!strategy) return false;
    return !strategy.requiresRefreshToken || tokens?.refreshToken !== undefined;
  }

  /**
   * Whether `error` is a refresh failure this coordinator already retried and reported. ky must not retry the request
   * that carries it: each of ky's retries would run the whole refresh again (more attempts, another refreshError).
   */
  isRefreshFailure(error: unknown): boolean {
    return typeof error === 'object' && error !== null && this.#failures.has(error);
  }

  /**
   * The tokens to send in place of `picked`, which was chosen before an await (a refresh, a sign-in): a sign-in or
   * sign-out since then wins. The current tokens when they are the same user's; otherwise `SessionExpiredError`
   * (`'user-changed'`, or why the session is gone).
   */
  reconfirm(picked: TokenSet): TokenSet {
    const current = this.tokens;
    if (current === picked) return picked;
    if (current === undefined) throw this.#goneError();
    if (!maySameUser(picked, current)) throw userChangedError();
    return current;
  }

  /** Why there are no tokens now: the session ended (its reason), or the user signed out. */
  #goneError(): SessionExpiredError {
    const reason = this.endReason;
    return reason ? new SessionExpiredError(sessionEndMessage(reason), { reason }) : signedOutError('Signed out');
  }

  /** The refresh in flight, if any: requests starting now wait for it instead of going out with a stale token. */
  get inflight(): Promise<TokenSet> | undefined {
    return this.#flight?.promise;
  }

  /**
   * Renew the tokens, once for everyone. `rejected` is the token set a server refused (or that is expiring): if the
   * current token is already another one of the same user, it is returned without a refresh (a late 401).
   * Rejects with `SessionExpiredError` when the session ended (reason `'logout'` after a sign-out, `'user-changed'`
   * when another user signed in since `rejected` was sent), or with the typed cause of a transient failure.
   */
  refresh(trigger: RefreshTrigger, rejected?: TokenSet): Promise<TokenSet> {
    if (this.#disposed) return Promise.reject(disposedError());
    const current = this.tokens;
    const flight = this.#flight;
    if (rejected !== undefined) {
      if (current === undefined && flight === undefined) {
        // The session ended (or the user signed out) after this token was sent: its late 401 must not end the
        // session a second time (a second sessionExpired, with a wrong reason).
        return Promise.reject(this.#goneError());
      }
      // Another user signed in since this token was sent: their tokens never carry this request.
      if (!maySameUser(rejected, flight ? flight.basis : current)) return Promise.reject(userChangedError());
    }
    if (flight) return flight.promise;
    if (rejected !== undefined && current !== undefined && current.accessToken !== rejected.accessToken) {
      return Promise.resolve(current);
    }
    let resolve!: (tokens: TokenSet) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<TokenSet>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const started: Flight = { promise, resolve, reject, basis: current, generation: this.#generation };
    this.#flight = started;
    this.o.onStatusChange?.();
    this.#run(trigger, rejected, started).then(
      (tokens) => this.#settle(started, () => started.resolve(tokens)),
      (error: unknown) => this.#settle(started, () => started.reject(error)),
    );
    return promise;
  }

  /** Settle a flight with its own outcome, unless its generation ended first (it was settled then). */
  #settle(flight: Flight, settle: () => void): void {
    if (this.#flight !== flight) return;
    this.#flight = undefined;
    this.o.onStatusChange?.();
    settle();
  }

  /** Start a new session generation: abort the old one's refresh and hand back its flight, unsettled. */
  #advance(): Flight | undefined {
    this.#generation++;
    this.#session.abort(new DOMException('The session changed', 'AbortError'));
    this.#session = new AbortController();
    const flight = this.#flight;
    this.#flight = undefined;
    if (flight) this.o.onStatusChange?.();
    return flight;
  }

  /** Queue a storage write behind every earlier one of this page over this storage name. */
  #write<T>(work: () => Promise<T>): Promise<T> {
    return serialized(this.#writeQueue, work);
  }

  /** Read the storage after every write this page queued before (a read of shared storage must see our own clear). */
  #read(): Promise<TokenSet | undefined> {
    return this.#write(() => this.o.storage.get().catch(() => undefined));
  }

  async #run(trigger: RefreshTrigger, rejected: TokenSet | undefined, flight: Flight): Promise<TokenSet> {
    const { storage, log, bus } = this.o;
    const generation = flight.generation;
    const signal = this.#session.signal;
    const stale = () => this.#generation !== generation;
    log.debug(`authfetch: refresh started (${trigger})`);
    // Waiting for the lock ends with the generation: a refresh queued behind another tab's is dropped at a logout.
    return this.#lock.run(this.#lockName, async () => {
      if (stale() || this.#disposed) throw SUPERSEDED;
      // Another tab (or client over this storage, or a notice that arrived while we waited for the lock) may have
      // refreshed already: use those tokens rather than spend a rotated refresh token twice (RFC 9700 section 4.14.2:
      // a rotated refresh token used twice may revoke the whole grant).
      let basis = this.tokens;
      if (storage.shared) {
        const read = await this.#write(() => storage.get().then((stored) => ({ stored }), () => undefined));
        if (stale() || this.#disposed) throw SUPERSEDED;
        if (read?.stored) basis = read.stored;
        else if (read && this.tokens !== undefined) {
          // Shared storage is the truth: it is empty, so another tab signed out or ended the session while we
          // waited (its notice may still be on the way). Spending our stale refresh token now would be a reuse.
          throw await this.endSession('other-tab', undefined, true);
        }
      }
      if (rejected !== undefined && basis && basis.accessToken !== rejected.accessToken && !this.isExpiring(basis)) {
        // Another user signed in in another tab: its notice brings the sign-in; these requests are not theirs.
        if (!maySameUser(rejected, basis)) throw userChangedError();
        if (basis.accessToken !== this.tokens?.accessToken) {
          log.debug('authfetch: another tab already refreshed; using its tokens');
          this.#adopt(basis, 'refresh', trigger);
        }
        return basis;
      }
      if (!this.canRefresh(basis)) {
        throw await this.endSession('no-refresh-token');
      }
      let tokens: TokenSet;
      try {
        tokens = await this.#attemptWithRetries(basis, signal);
      } catch (error) {
        // The session changed meanwhile (logout, another sign-in, dispose): this refresh's outcome is nobody's.
        if (stale() || this.#disposed) throw SUPERSEDED;
        if (isSessionExpiredError(error)) {
          const reason = error.reason === 'no-refresh-token' ? 'no-refresh-token' : 'refresh-rejected';
          throw await this.endSession(reason, error);
        }
        const typed = refreshFailure(error);
        this.#failures.add(typed);
        log.warn(`authfetch: refresh failed (${typed.code}); the session is kept`);
        bus.emit('refreshError', { error: typed });
        throw typed;
      }
      if (stale()) throw SUPERSEDED;
      // Compare and set, in the page's write order: a sign-in or sign-out queued after this write lands after it,
      // and one that landed before it (another client over the same storage) wins over this late result.
      const outcome = await this.#write(async (): Promise<{ stored: true } | { changed: TokenSet | undefined }> => {
        if (stale()) return { changed: undefined };
        if (storage.shared) {
          const now = await storage.get().catch(() => basis);
          if (now?.accessToken !== basis?.accessToken) return { changed: now };
        }
        await storage.set(tokens).catch((error: unknown) => log.warn('authfetch: storing refreshed tokens failed', error));
        this.#lastStored = tokens.accessToken;
        return { stored: true };
      });
      // Disposed while it ran (over shared storage, see dispose()): stored for the other tabs, nothing more.
      if (stale() || this.#disposed) throw SUPERSEDED;
      if ('changed' in outcome) return this.#changedElsewhere(outcome.changed, rejected ?? basis, trigger);
      this.tokens = tokens;
      this.endReason = undefined;
      this.#noteLifetime(tokens);
      const expiresAt = this.expiresAt(tokens);
      log.debug('authfetch: refresh succeeded');
      this.#channel?.post({ type: 'refresh', expiresAt, trigger });
      bus.emit('refresh', { expiresAt, trigger, source: 'local' });
      this.o.onTokens(tokens);
      return tokens;
    }, signal);
  }

  /**
   * The shared storage changed while this refresh ran (another client signed in or out there): its result is
   * dropped, and the waiting requests follow what is stored now. The other client's notice brings the events.
   */
  async #changedElsewhere(stored: TokenSet | undefined, owner: TokenSet | undefined, trigger: RefreshTrigger): Promise<TokenSet> {
    this.o.log.debug('authfetch: the session changed in another tab during the refresh; its result is dropped');
    if (stored === undefined) throw await this.endSession('other-tab', undefined, true);
    if (!maySameUser(owner, stored)) throw userChangedError();
    this.#adopt(stored, 'refresh', trigger);
    return stored;
  }

  /** Take the tokens another tab (or client over this storage) stored as ours, and say so with `event`. */
  #adopt(stored: TokenSet, event: 'login' | 'refresh', trigger: RefreshTrigger): void {
    this.tokens = stored;
    this.endReason = undefined;
    const expiresAt = this.expiresAt(stored);
    if (event === 'login') this.o.bus.emit('login', { expiresAt, source: 'other-tab' });
    else this.o.bus.emit('refresh', { expiresAt, trigger, source: 'other-tab' });
    this.o.onTokens(stored);
  }

  /** One refresh with up to `retry.limit` retries of transient failures, exponential backoff and jitter. */
  async #attemptWithRetries(basis: TokenSet | undefined, signal: AbortSignal): Promise<TokenSet> {
    const { strategy, retry } = this.o;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(strategy as RefreshStrategy, basis, signal);
      } catch (error) {
        const code = isAuthFetchError(error) ? error.code : undefined;
        if (attempt >= retry.limit || code === undefined || !isTransient(error) || signal.aborted) {
          throw error;
        }
        // Exponential backoff with "equal jitter": half fixed, half random, so tabs and clients spread out.
        const base = Math.min(retry.backoffLimit, 300 * 2 ** attempt);
        let delay = base / 2 + Math.random() * (base / 2);
        // Retry-After (RFC 9110 10.2.3) on a 429, and on a 503 too, where a server in maintenance sends it. Honoured
        // up to maxRetryAfter; a server asking for longer gets its error handed on now, not a refresh held for an hour.
        const retryAfterMs =
          (error as { retryAfterMs?: number }).retryAfterMs ??
          (code === 'ERR_SERVER' ? retryAfterFrom((error as { response: Response }).response.headers) : undefined);
        if (typeof retryAfterMs === 'number') {
          if (retryAfterMs > retry.maxRetryAfter) throw error;
          delay = Math.max(delay, retryAfterMs);
        }
        this.o.log.debug(`authfetch: refresh attempt ${attempt + 1} failed (${code}); retrying in ${Math.round(delay)} ms`);
        await sleep(delay, signal);
        if (signal.aborted) throw error;
      }
    }
  }

  /**
   * One call of the strategy, bounded by `timeout` even if the strategy ignores its signal, and ended at once when
   * the session generation ends (the strategy's signal is aborted; a strategy that ignores it is no longer waited for).
   */
  async #attempt(strategy: RefreshStrategy, basis: TokenSet | undefined, session: AbortSignal): Promise<TokenSet> {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onSessionEnd: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`The refresh took longer than ${this.o.timeout} ms`);
        controller.abort(error);
        reject(error);
      }, this.o.timeout);
      onSessionEnd = () => {
        controller.abort(session.reason);
        reject(session.reason);
      };
      if (session.aborted) onSessionEnd();
      else session.addEventListener('abort', onSessionEnd, { once: true });
    });
    try {
      const result = await Promise.race([
        strategy.refresh({ tokens: basis, signal: controller.signal, fetch: this.o.fetch, dpop: this.o.dpop }),
        stopped,
      ]);
      // A custom strategy may hand back anything: normalise (and validate) once more.
      return normalizeTokens(result, { receivedAt: Date.now() }, basis);
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason instanceof TimeoutError) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      if (onSessionEnd) session.removeEventListener('abort', onSessionEnd);
    }
  }

  /**
   * End the session: clear tokens (here and, through storage and the channel, in other tabs), start a new
   * generation, emit `sessionExpired` and let the session module raise `loginRequired`, and only then reject the
   * requests waiting on a refresh (events come before the settlement they explain). Returns the error for them.
   */
  async endSession(reason: SessionEndReason, cause?: unknown, fromOtherTab = false): Promise<SessionExpiredError> {
    const { storage, log, bus } = this.o;
    const error =
      isSessionExpiredError(cause) && cause.reason === reason
        ? cause
        : new SessionExpiredError(sessionEndMessage(reason), { reason, cause });
    const hadSession = this.tokens !== undefined || this.#flight !== undefined;
    // Another tab's session ended, but this one had none (signed out already, or ended): nothing ends here, and the
    // status stays what it was (a signed-out tab does not turn 'expired' without ever hearing sessionExpired).
    if (fromOtherTab && !hadSession) return error;
    this.endedTokens = this.tokens ?? this.#flight?.basis ?? this.endedTokens;
    this.tokens = undefined;
    this.endReason = reason;
    const flight = this.#advance();
    const cleared = fromOtherTab ? undefined : this.#write(() => storage.clear().catch((e: unknown) => log.warn('authfetch: clearing stored tokens failed', e)));
    log.warn(`authfetch: session ended (${reason})`);
    bus.emit('sessionExpired', { reason, ...(isAuthFetchError(cause) ? { error: cause } : {}) });
    this.o.onSessionEnd(reason);
    flight?.reject(error);
    if (cleared) {
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
    if (this.#disposed) throw new TypeError('authfetch: login() on a client that was disposed; create a new client');
    this.signedOutByUser = false;
    const flight = this.#advance();
    const generation = this.#generation;
    this.tokens = tokens;
    this.endReason = undefined;
    this.endedTokens = undefined;
    this.#noteLifetime(tokens);
    if (flight) {
      if (maySameUser(flight.basis, tokens)) flight.resolve(tokens);
      else flight.reject(userChangedError());
    }
    await this.#write(() => this.o.storage.set(tokens).catch((e: unknown) => this.o.log.warn('authfetch: storing tokens failed', e)));
    const expiresAt = this.expiresAt(tokens);
    this.#channel?.post({ type: 'login', expiresAt });
    this.o.log.debug('authfetch: signed in');
    this.o.bus.emit('login', { expiresAt, source: 'local' });
    // A sign-out or another sign-in while storing is newer: held requests follow that one.
    if (this.#generation === generation) this.o.onTokens(tokens);
  }

  /** Clear tokens here and in other tabs; a refresh in flight is aborted and its requests reject (`'logout'`). */
  async logout(): Promise<void> {
    this.#signedOut('local');
    await this.#write(() => this.o.storage.clear().catch((e: unknown) => this.o.log.warn('authfetch: clearing tokens failed', e)));
    this.#channel?.post({ type: 'logout' });
  }

  /** The sign-out itself: a new generation, no tokens, the `logout` event, then its refresh's requests rejected. */
  #signedOut(source: 'local' | 'other-tab'): void {
    const flight = this.#advance();
    this.tokens = undefined;
    this.endReason = undefined;
    this.endedTokens = undefined;
    this.signedOutByUser = true;
    const message = source === 'local' ? 'Signed out' : 'Signed out in another tab';
    this.o.log.debug(`authfetch: ${message.toLowerCase()}`);
    this.o.bus.emit('logout', { source });
    flight?.reject(signedOutError(message));
    this.o.onLogout();
  }

  /**
   * Another tab signed out, yet the shared storage may still hold tokens this client's refresh wrote: across tabs a
   * refresh's compare-and-set is two IndexedDB transactions, and the other tab's clear can land between them. Such
   * tokens are from before that sign-out (this client had not heard of it): clear them, or a reload would restore
   * the session.
   */
  async #clearIfOurs(): Promise<void> {
    const ours = this.#lastStored;
    if (ours === undefined) return;
    await this.#write(async () => {
      const now = await this.o.storage.get().catch(() => undefined);
      if (now?.accessToken === ours) await this.o.storage.clear().catch(() => undefined);
    });
  }

  /** React to another tab's notice. Tokens never travel in notices: shared storage is re-read. */
  async handleNotice(notice: TabNotice): Promise<void> {
    const { storage, bus, log } = this.o;
    switch (notice.type) {
      case 'login':
      case 'refresh': {
        // The other tab may have signed in with a DPoP key it rotated (rotateOnLogout): re-read the shared key before
        // the next proof rather than wait for the key store's own notice (src/dpop/key-store.ts).
        if (notice.type === 'login') this.o.dpop?.forgetCachedKey?.();
        if (!storage.shared) return; // each tab keeps its own session over memory storage
        const seq = ++this.#noticeSeq;
        // A sign-in elsewhere starts a new generation here too: a refresh of ours must not overwrite it.
        const flight = notice.type === 'login' ? this.#advance() : undefined;
        const generation = this.#generation;
        const before = this.tokens;
        // Read behind this page's own queued writes: a sign-out here after that sign-in there must win.
        const stored = await this.#read();
        if (flight) {
          if (stored && maySameUser(flight.basis, stored)) flight.resolve(stored);
          // Empty: a sign-out there followed the sign-in (its notice is on the way).
          else flight.reject(stored ? userChangedError() : signedOutError('Signed out in another tab'));
        }
        // While we read, a later notice (a logout) or a local sign-in, refresh or sign-out may have changed the
        // session: that one is newer, and this read must not bring back the tokens it replaced.
        if (seq !== this.#noticeSeq || this.#generation !== generation || this.tokens !== before) return;
        if (!stored || stored.accessToken === this.tokens?.accessToken) return;
        log.debug(`authfetch: ${notice.type} in another tab`);
        // A tab that had no session and now has one was signed in, whichever notice it heard last.
        this.#adopt(stored, notice.type === 'login' || before === undefined ? 'login' : 'refresh', notice.trigger ?? 'unauthorized');
        return;
      }
      case 'logout': {
        this.o.dpop?.forgetCachedKey?.(); // a logout there may have rotated the key (rotateOnLogout)
        this.#noticeSeq++;
        this.#signedOut('other-tab');
        if (!storage.shared) await this.#write(() => storage.clear().catch(() => undefined));
        else await this.#clearIfOurs();
        return;
      }
      case 'session-end': {
        this.#noticeSeq++;
        await this.endSession('other-tab', undefined, true);
        if (!storage.shared) await this.#write(() => storage.clear().catch(() => undefined));
        return;
      }
      default:
        return;
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
    const flight = this.#flight;
    if (flight && this.o.storage.shared) {
      this.#flight = undefined;
      flight.reject(disposedError());
      return;
    }
    this.#advance()?.reject(disposedError());
  }
}

function sessionEndMessage(reason: SessionEndReason): string {
  switch (reason) {
    case 'refresh-rejected':
      return 'The session ended: the refresh was rejected';
    case 'idle':
      return 'The session ended after a period of inactivity';
    case 'no-refresh-token':
      return 'The session ended: the access token was rejected and there is no way to renew it';
    case 'other-tab':
      return 'The session ended in another tab';
  }
}

/** Requests made in one user's session are never carried by another user's tokens. */
function userChangedError(): SessionExpiredError {
  return new SessionExpiredError('Another user signed in; this request belonged to the session before', { reason: 'user-changed' });
}

function disposedError(): SessionExpiredError {
  return signedOutError('The client was disposed');
}

/** The error of requests whose session was signed out (reason `'logout'`). */
function signedOutError(message: string): SessionExpiredError {
  return new SessionExpiredError(message, { reason: 'logout' });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
