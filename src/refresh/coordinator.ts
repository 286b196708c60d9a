/**
 * The refresh coordinator: owns the current token set and makes sure that, however many requests meet a 401 or
 * an expiring token at once, exactly one refresh runs (per client, and across tabs and clients sharing the storage
 * name, through a lock) and everyone waits for it. Shape after jose's remote JWKS: one pending promise shared by
 * all callers, cleared only if it is still the current one.
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
import { normalizeTokens, tokenExpiry } from '../tokens.js';
import type { RefreshTrigger, SessionEndReason, TokenSet, TokenStorage } from '../types.js';
import type { Log } from '../log.js';
import type { TabChannel, TabNotice } from './channel.js';
import { withLock } from './lock.js';
import type { RefreshStrategy } from './types.js';

/** The session states of `auth.session.status`. */
export type SessionStatus = 'signed-out' | 'active' | 'refreshing' | 'expired';

/** How transient refresh failures are retried. */
export interface RefreshRetryPolicy {
  /** Retries after the first attempt. */
  limit: number;
  /** Upper bound of one backoff delay, in ms. */
  backoffLimit: number;
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
  refreshLeeway: number;
  retry: RefreshRetryPolicy;
  crossTab: boolean;
  dpop?: Dpop;
  /** Called when the session has ended, after `sessionExpired` was emitted (the session module raises loginRequired). */
  onSessionEnd(reason: SessionEndReason): void;
  /** Called when tokens arrive from a sign-in or a refresh (here or in another tab): held requests can go. */
  onTokens(): void;
  /** Called on logout (here or in another tab): held requests are rejected. */
  onLogout(): void;
}

/** Single-flight refresh, token state, and the cross-tab side of both. */
export class RefreshCoordinator {
  /** The current token set, mirrored from storage. Read on every request, so it is a plain field. */
  tokens: TokenSet | undefined;
  /** Why the session ended, while `status` is `expired`. */
  endReason: SessionEndReason | undefined;
  /** Resolves when the stored tokens have been read once. */
  readonly ready: Promise<void>;
  /** True once `ready` resolved: lets the request path skip an await. */
  isReady = false;

  #inflight: Promise<TokenSet> | undefined;
  /** The transient failures this coordinator has reported (after its own retries); see `isRefreshFailure`. */
  #failures = new WeakSet<object>();
  #channel: TabChannel | undefined;
  #disposed = new AbortController();
  #lockName: string;
  /** Counts notices that change the session, so a slow storage read for an older notice is dropped. */
  #noticeSeq = 0;

  constructor(private readonly o: CoordinatorOptions) {
    this.#lockName = `authfetch:${o.storage.name}:refresh`;
    this.ready = o.storage
      .get()
      .catch((error: unknown) => {
        o.log.warn('authfetch: reading stored tokens failed; starting signed out', error);
        return undefined;
      })
      .then((tokens) => {
        // A login() that ran before the first read finished wins over what storage held.
        if (this.tokens === undefined && this.endReason === undefined) this.tokens = tokens;
        this.isReady = true;
        if (tokens) o.log.debug('authfetch: restored a stored session');
      });
  }

  /** Connect the cross-tab channel (the client opens it; the coordinator both posts and handles notices). */
  attachChannel(channel: TabChannel | undefined): void {
    this.#channel = channel;
  }

  /** `signed-out`, `active`, `refreshing` or `expired`. */
  get status(): SessionStatus {
    if (this.#inflight) return 'refreshing';
    if (this.tokens) return 'active';
    return this.endReason ? 'expired' : 'signed-out';
  }

  /** Expiry of the current access token in local epoch ms, judged with the server clock. */
  expiresAt(tokens = this.tokens): number | undefined {
    return tokens ? tokenExpiry(tokens, this.o.clock.offsetMs) : undefined;
  }

  /**
   * Whether the token expires within `refreshLeeway`. A JWT `exp` counts only once the server clock is known,
   * so a client clock that is minutes fast does not refresh before every request (a 401 still cures it).
   */
  isExpiring(tokens: TokenSet): boolean {
    const expiresAt = tokenExpiry(tokens, this.o.clock.offsetMs);
    if (expiresAt === undefined) return false;
    if (tokens.expiresAt === undefined && !this.o.clock.known) return false;
    return expiresAt - Date.now() <= this.o.refreshLeeway * 1000;
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

  /** The refresh in flight, if any: requests starting now wait for it instead of going out with a stale token. */
  get inflight(): Promise<TokenSet> | undefined {
    return this.#inflight;
  }

  /**
   * Renew the tokens, once for everyone. `rejected` is the access token a server refused (or that is expiring):
   * if the current token is already another one, it is returned without a refresh (a late 401).
   * Rejects with `SessionExpiredError` when the session ended, or with the typed cause of a transient failure.
   */
  refresh(trigger: RefreshTrigger, rejected?: string): Promise<TokenSet> {
    if (this.#inflight) return this.#inflight;
    const current = this.tokens;
    if (rejected !== undefined && current === undefined) {
      // The session ended (or the user signed out) after this token was sent: its late 401 must not end the
      // session a second time (a second sessionExpired, with a wrong reason).
      const reason = this.endReason ?? 'logout';
      return Promise.reject(new SessionExpiredError(this.endReason ? sessionEndMessage(this.endReason) : 'Signed out', { reason }));
    }
    if (rejected !== undefined && current !== undefined && current.accessToken !== rejected) {
      return Promise.resolve(current);
    }
    const run = this.#run(trigger, rejected).finally(() => {
      if (this.#inflight === run) this.#inflight = undefined;
    });
    this.#inflight = run;
    return run;
  }

  async #run(trigger: RefreshTrigger, rejected: string | undefined): Promise<TokenSet> {
    const { storage, log, bus } = this.o;
    log.debug(`authfetch: refresh started (${trigger})`);
    return withLock(this.#lockName, this.o.crossTab, async () => {
      // Another tab (or client over this storage, or a notice that arrived while we waited for the lock) may have
      // refreshed already: use those tokens rather than spend a rotated refresh token twice (DESIGN behaviour 2).
      let basis = this.tokens;
      if (storage.shared) {
        const read = await storage.get().then((stored) => ({ stored }), () => undefined);
        if (read?.stored) basis = read.stored;
        else if (read && this.tokens !== undefined) {
          // Shared storage is the truth: it is empty, so another tab signed out or ended the session while we
          // waited (its notice may still be on the way). Spending our stale refresh token now would be a reuse.
          throw await this.endSession('other-tab', undefined, true);
        }
      }
      if (rejected !== undefined && basis && basis.accessToken !== rejected && !this.isExpiring(basis)) {
        if (basis.accessToken !== this.tokens?.accessToken) {
          this.tokens = basis;
          this.endReason = undefined;
          log.debug('authfetch: another tab already refreshed; using its tokens');
          bus.emit('refresh', { expiresAt: this.expiresAt(basis), trigger, source: 'other-tab' });
          this.o.onTokens();
        }
        return basis;
      }
      if (!this.canRefresh(basis)) {
        throw await this.endSession('no-refresh-token');
      }
      let tokens: TokenSet;
      try {
        tokens = await this.#attemptWithRetries(basis);
      } catch (error) {
        // dispose() aborted it: the client is gone, not the session (the stored tokens stay); as for held requests.
        if (this.#disposed.signal.aborted) throw new SessionExpiredError('The client was disposed', { reason: 'logout', cause: error });
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
      await storage.set(tokens).catch((error: unknown) => log.warn('authfetch: storing refreshed tokens failed', error));
      this.tokens = tokens;
      this.endReason = undefined;
      const expiresAt = this.expiresAt(tokens);
      log.debug('authfetch: refresh succeeded');
      this.#channel?.post({ type: 'refresh', expiresAt, trigger });
      bus.emit('refresh', { expiresAt, trigger, source: 'local' });
      this.o.onTokens();
      return tokens;
    });
  }

  /** One refresh with up to `retry.limit` retries of transient failures, exponential backoff and jitter. */
  async #attemptWithRetries(basis: TokenSet | undefined): Promise<TokenSet> {
    const { strategy, retry } = this.o;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#attempt(strategy as RefreshStrategy, basis);
      } catch (error) {
        const code = isAuthFetchError(error) ? error.code : undefined;
        if (attempt >= retry.limit || code === undefined || !isTransient(error) || this.#disposed.signal.aborted) {
          throw error;
        }
        // Exponential backoff with "equal jitter": half fixed, half random, so tabs and clients spread out.
        const base = Math.min(retry.backoffLimit, 300 * 2 ** attempt);
        let delay = base / 2 + Math.random() * (base / 2);
        // Retry-After (RFC 9110 10.2.3) on a 429, and on a 503 too, where a server in maintenance sends it.
        const retryAfterMs =
          (error as { retryAfterMs?: number }).retryAfterMs ??
          (code === 'ERR_SERVER' ? retryAfterFrom((error as { response: Response }).response.headers) : undefined);
        if (typeof retryAfterMs === 'number') delay = Math.min(retry.backoffLimit, Math.max(delay, retryAfterMs));
        this.o.log.debug(`authfetch: refresh attempt ${attempt + 1} failed (${code}); retrying in ${Math.round(delay)} ms`);
        await sleep(delay, this.#disposed.signal);
        if (this.#disposed.signal.aborted) throw error; // dispose() cut the backoff short: no attempt after it
      }
    }
  }

  /** One call of the strategy, bounded by `timeout` even if the strategy ignores its signal. */
  async #attempt(strategy: RefreshStrategy, basis: TokenSet | undefined): Promise<TokenSet> {
    const controller = new AbortController();
    const onDispose = () => controller.abort(this.#disposed.signal.reason);
    this.#disposed.signal.addEventListener('abort', onDispose, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new TimeoutError(`The refresh took longer than ${this.o.timeout} ms`);
        controller.abort(error);
        reject(error);
      }, this.o.timeout);
    });
    try {
      const result = await Promise.race([
        strategy.refresh({ tokens: basis, signal: controller.signal, fetch: this.o.fetch, dpop: this.o.dpop }),
        timedOut,
      ]);
      // A custom strategy may hand back anything: normalise (and validate) once more.
      return normalizeTokens(result, { receivedAt: Date.now() }, basis);
    } catch (error) {
      if (controller.signal.aborted && controller.signal.reason instanceof TimeoutError) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      this.#disposed.signal.removeEventListener('abort', onDispose);
    }
  }

  /**
   * End the session: clear tokens (here and, through storage and the channel, in other tabs), emit
   * `sessionExpired`, and let the session module raise `loginRequired`. Returns the error for waiting requests.
   */
  async endSession(reason: SessionEndReason, cause?: unknown, fromOtherTab = false): Promise<SessionExpiredError> {
    const { storage, log, bus } = this.o;
    const error =
      isSessionExpiredError(cause) && cause.reason === reason
        ? cause
        : new SessionExpiredError(sessionEndMessage(reason), { reason, cause });
    const hadSession = this.tokens !== undefined || this.#inflight !== undefined;
    this.tokens = undefined;
    this.endReason = reason;
    if (!fromOtherTab) {
      await storage.clear().catch((e: unknown) => log.warn('authfetch: clearing stored tokens failed', e));
      this.#channel?.post({ type: 'session-end', reason });
    }
    if (hadSession || !fromOtherTab) {
      log.warn(`authfetch: session ended (${reason})`);
      bus.emit('sessionExpired', { reason, ...(isAuthFetchError(cause) ? { error: cause } : {}) });
      this.o.onSessionEnd(reason);
    }
    return error;
  }

  /** Store tokens from an interactive sign-in. */
  async login(tokens: TokenSet): Promise<void> {
    this.tokens = tokens;
    this.endReason = undefined;
    await this.o.storage.set(tokens).catch((e: unknown) => this.o.log.warn('authfetch: storing tokens failed', e));
    const expiresAt = this.expiresAt(tokens);
    this.#channel?.post({ type: 'login', expiresAt });
    this.o.log.debug('authfetch: signed in');
    this.o.bus.emit('login', { expiresAt, source: 'local' });
    this.o.onTokens();
  }

  /** Clear tokens here and in other tabs. */
  async logout(): Promise<void> {
    this.tokens = undefined;
    this.endReason = undefined;
    await this.o.storage.clear().catch((e: unknown) => this.o.log.warn('authfetch: clearing tokens failed', e));
    this.#channel?.post({ type: 'logout' });
    this.o.log.debug('authfetch: signed out');
    this.o.bus.emit('logout', { source: 'local' });
    this.o.onLogout();
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
        const before = this.tokens;
        const stored = await storage.get().catch(() => undefined);
        // While we read, a later notice (a logout) or a local sign-in, refresh or sign-out may have changed the
        // session: that one is newer, and this read must not bring back the tokens it replaced.
        if (seq !== this.#noticeSeq || this.tokens !== before) return;
        if (!stored || stored.accessToken === this.tokens?.accessToken) return;
        this.tokens = stored;
        this.endReason = undefined;
        log.debug(`authfetch: ${notice.type} in another tab`);
        // A tab that had no session and now has one was signed in, whichever notice it heard last.
        if (notice.type === 'login' || before === undefined) bus.emit('login', { expiresAt: this.expiresAt(stored), source: 'other-tab' });
        else bus.emit('refresh', { expiresAt: this.expiresAt(stored), trigger: notice.trigger ?? 'unauthorized', source: 'other-tab' });
        this.o.onTokens();
        return;
      }
      case 'logout': {
        this.o.dpop?.forgetCachedKey?.(); // a logout there may have rotated the key (rotateOnLogout)
        this.#noticeSeq++;
        this.tokens = undefined;
        this.endReason = undefined;
        if (!storage.shared) await storage.clear().catch(() => undefined);
        log.debug('authfetch: signed out in another tab');
        bus.emit('logout', { source: 'other-tab' });
        this.o.onLogout();
        return;
      }
      case 'session-end': {
        this.#noticeSeq++;
        if (!storage.shared) await storage.clear().catch(() => undefined);
        await this.endSession('other-tab', undefined, true);
        return;
      }
      default:
        return;
    }
  }

  /** Stop retries and timers. */
  dispose(): void {
    this.#disposed.abort(new DOMException('The client was disposed', 'AbortError'));
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
