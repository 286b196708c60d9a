/**
 * `createAuthClient`: wires the auth path, ky, the refresh coordinator, the session (login wait, idle timeout),
 * the tab channel and the events together. Each of those lives in its own module; this one only connects them.
 */
import { createAttempt, defaultBounding } from './attempt.js';
import type { KyInstance, RetryOptions } from 'ky';
import { createAuthPath } from './auth-path.js';
import { pageUrl, resolvePrefix, resolveRequestUrl } from './auth-path/url.js';
import { ServerClock } from './clock.js';
import type { Dpop } from './dpop/types.js';
import {
  ErrorMapper,
  SessionExpiredError,
  isSessionExpiredError,
  localizeEvents,
  localizeRejections,
  messageLocalizer,
  type ErrorMessages,
} from './errors/index.js';
import { createEventBus } from './events.js';
import { createHttp, DEFAULT_MAX_RETRY_AFTER } from './http.js';
import { createLog } from './log.js';
import { timerOption } from './lib/options.js';
import { createOriginMatcher, originOf, type OriginRule } from './origins.js';
import { openTabChannel } from './refresh/channel.js';
import { RefreshCoordinator, type SessionStatus } from './refresh/coordinator.js';
import type { RefreshStrategy } from './refresh/types.js';
import { IdleTimer, LoginGate, type LoginRequiredMode } from './session.js';
import { tabLock } from './lib/lock.js';
import { attachSignIn } from './signin/hook.js';
import type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './signin/types.js';
import { SUBSCRIBE_SESSION, type SubscribeSession } from './lib/session-signal.js';
import { memoryStorage } from './storage/memory.js';
import { isTokenSet, normalizeTokens, type OAuthTokenResponse } from './tokens.js';
import type { AuthEvents, AuthEventType, Logger, TokenSet, TokenStorage } from './types.js';

/** Options of `createAuthClient`. Every one is optional. */
export interface AuthClientOptions {
  /**
   * Prefix for relative request paths (with or without a leading slash); absolute URLs are used as they are.
   * Its origin is authorized to receive the token.
   * @example 'https://api.example.com/v1'
   */
  baseUrl?: string;
  /** How tokens are renewed silently. Without one, a 401 means sign-in is needed. */
  refresh?: RefreshStrategy;
  /** Where the token set lives. @default memoryStorage() */
  storage?: TokenStorage;
  /**
   * The origins that receive the token; no other origin ever does. Replaces the default.
   * @default the origin of `baseUrl` and, in a browser, the page's origin
   */
  authorizedOrigins?: OriginRule[];
  /**
   * Refresh before sending when the access token expires within this many seconds; never more than half the
   * token's lifetime, so a short-lived token is not refreshed before every request. 0 up to 2147483.647.
   * @default 30
   * @example refreshLeeway: 60
   */
  refreshLeeway?: number;
  /**
   * ky's retry options, or a number of retries. `Retry-After` is honoured up to `maxRetryAfter` (ms, default
   * 60000); a longer one hands the error to the app at once. `backoffLimit` (ms) also caps the refresh's own
   * retries. Both accept 0 up to 2^31-1.
   * @default 2 retries of idempotent requests on network errors, 408, 429 and 5xx, honouring `Retry-After`
   * @example retry: { limit: 3, maxRetryAfter: 10_000 }
   */
  retry?: number | RetryOptions;
  /**
   * Bounds each network attempt (API and refresh calls), in ms; not the time held for a refresh or sign-in.
   * Above 0 up to 2^31-1 (what a timer can hold).
   * @default 30000
   * @example timeout: 10_000
   */
  timeout?: number;
  /** When the session is over: reject waiting requests with `SessionExpiredError`, or hold them until `login()`. @default 'reject' */
  loginRequired?: LoginRequiredMode;
  /**
   * How long `'wait'` holds a request, in ms; above 0 up to 2^31-1.
   * @default 300000
   * @example loginTimeout: 600_000
   */
  loginTimeout?: number;
  /**
   * End the session after this long without activity, in ms; above 0 up to 2^31-1 (about 24.8 days).
   * @default off
   * @example idleTimeout: 15 * 60_000
   */
  idleTimeout?: number;
  /**
   * Emit `sessionWarning` this long before the idle timeout, in ms; 0 up to 2^31-1.
   * @default 60000
   * @example idleWarning: 120_000
   */
  idleWarning?: number;
  /** In a browser, count pointer, key and visibility events as activity. @default false */
  trackActivity?: boolean;
  /** Receives one line per lifecycle step; tokens never appear. @default errors only, to console.error */
  logger?: Logger;
  /** Share sign-in, refreshed tokens, session end and logout between tabs. @default true in browsers and workers, false in Node */
  crossTab?: boolean;
  /** Sender-constrained tokens (RFC 9449), from `dpop()`. @default off */
  dpop?: Dpop;
  /** The underlying fetch. @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * The app's words for the `userMessage` of every error the client hands over (thrown, or in an event): a text
   * per error code, or a function of the error (return `undefined` to keep the English default). See docs/errors.md.
   * @default English messages
   * @example messages: { ERR_NETWORK: 'Keine Verbindung zum Server. Bitte prüfen Sie Ihre Internetverbindung.' }
   */
  messages?: ErrorMessages;
}

/** The session as the app sees it. */
export interface AuthSession {
  status: SessionStatus;
  /** Expiry of the access token, local epoch ms, when known. */
  expiresAt?: number;
  /** With `oidc()`: the validated ID token's claims (OIDC Core 3.1.3.7), while signed in. */
  user?: IdTokenClaims;
}

/** The client `createAuthClient` returns. */
export interface AuthClient {
  /** A ky instance with the auth path as its fetch; HTTP failures throw the typed errors. */
  readonly http: KyInstance;
  /**
   * fetch-compatible: the same refresh and replay, resolving with the final Response for any HTTP status.
   * It rejects only where there is no response to give: `NetworkError`, `TimeoutError`, the app's own abort, or
   * `SessionExpiredError` when the session is over.
   */
  readonly fetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** Subscribe to a typed event; returns the unsubscribe function. */
  on<K extends AuthEventType>(type: K, handler: (payload: AuthEvents[K]) => void): () => void;
  /** Unsubscribe. */
  off<K extends AuthEventType>(type: K, handler: (payload: AuthEvents[K]) => void): void;
  /**
   * Store tokens from an interactive sign-in (a `TokenSet` or a raw OAuth token response), emit `login`, resume
   * held requests. Rejects with `TokenResponseError` for unusable input, keeping the current session.
   */
  login(tokens: TokenSet | OAuthTokenResponse): Promise<void>;
  /**
   * Clear tokens here and in other tabs, emit `logout`, reject held requests with `SessionExpiredError`. With `oidc()`:
   * also revoke the refresh token (RFC 7009) where the provider can, and with `{ endSession: true }` go on to the
   * provider's end-session endpoint.
   */
  logout(options?: LogoutOptions): Promise<void>;
  /**
   * With `oidc()`: start an interactive sign-in. Redirect by default; `{ popup: true }` keeps the page and resolves
   * once signed in (call it from a click handler). Rejects with `SignInError` (`popup-blocked`, `popup-closed`, ...).
   */
  signIn(options?: SignInOptions): Promise<void>;
  /**
   * With `oidc()`: on the page the provider redirects back to, finish the sign-in (in a popup: hand it to the
   * opener). Resolves `{ state }`, or `undefined` when the URL is no sign-in response, so it may run at every start.
   */
  handleRedirect(url?: string): Promise<HandleRedirectResult | undefined>;
  /** A valid access token (refreshing first if within the leeway), or `undefined` when signed out. */
  getAccessToken(): Promise<string | undefined>;
  /** Force a refresh now (joins one already running). */
  refresh(): Promise<void>;
  /** Record user activity for the idle timeout. */
  touch(): void;
  /** The session's status and expiry. */
  readonly session: AuthSession;
  /** Stop timers, channels and listeners. */
  dispose(): void;
}

function isBrowserOrWorker(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return g.document !== undefined || g.WorkerGlobalScope !== undefined;
}

/**
 * An app's own storage may hand back anything (a corrupted or older-shaped value) or throw synchronously: reads are
 * validated, so such a value means "signed out" rather than a session with no usable token (bad input gets a safe fallback),
 * and every call is made to return a promise, as the coordinator expects.
 */
function guardStorage(storage: TokenStorage): TokenStorage {
  const guarded: TokenStorage = {
    get name() {
      return storage.name;
    },
    get shared() {
      return storage.shared;
    },
    lockFallback: storage.lockFallback,
    async get() {
      const value: unknown = await storage.get();
      return isTokenSet(value) ? value : undefined;
    },
    async set(tokens) {
      await storage.set(tokens);
    },
    async clear() {
      await storage.clear();
    },
  };
  if (storage.onFallback) guarded.onFallback = (listener) => (storage.onFallback as NonNullable<TokenStorage['onFallback']>).call(storage, listener);
  return guarded;
}

/**
 * Create an auth client.
 *
 * @example
 * ```ts
 * import { createAuthClient, oauth2Refresh } from 'authfetch';
 *
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.com',
 *   refresh: oauth2Refresh({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'my-spa' }),
 * });
 * auth.on('sessionExpired', () => showSignIn());
 * const me = await auth.http.get('me').json<{ name: string }>();
 * ```
 */
export function createAuthClient(options: AuthClientOptions = {}): AuthClient {
  const timeout = timerOption('timeout', options.timeout, 30_000);
  const refreshLeeway = timerOption('refreshLeeway', options.refreshLeeway, 30, { unit: 's', allowZero: true });
  const loginTimeout = timerOption('loginTimeout', options.loginTimeout, 300_000);
  const idleWarning = timerOption('idleWarning', options.idleWarning, 60_000, { allowZero: true });
  const idleTimeout = options.idleTimeout === undefined ? undefined : timerOption('idleTimeout', options.idleTimeout, 0);
  const retry = options.retry;
  const retryObject = typeof retry === 'object' && retry !== null ? retry : undefined;
  const backoffLimit = timerOption('retry.backoffLimit', retryObject?.backoffLimit, 3000, { allowZero: true });
  const maxRetryAfter = timerOption('retry.maxRetryAfter', retryObject?.maxRetryAfter, DEFAULT_MAX_RETRY_AFTER, { allowZero: true });
  const mode: LoginRequiredMode = options.loginRequired ?? 'reject';
  if (mode !== 'reject' && mode !== 'wait') throw new TypeError("authfetch: option loginRequired must be 'reject' or 'wait'");
  const appFetch = options.fetch;
  if (appFetch === undefined ? typeof globalThis.fetch !== 'function' : typeof appFetch !== 'function') {
    throw new TypeError('authfetch: no fetch is available; pass the fetch option');
  }
  // Looked up per call, not bound now: test tools (msw) replace globalThis.fetch after the client is made.
  const underlyingFetch: typeof fetch = appFetch ?? ((input, init) => globalThis.fetch(input, init));

  const page = pageUrl();
  const base = options.baseUrl === undefined ? undefined : resolvePrefix(options.baseUrl, 'baseUrl');
  const defaultOrigins = [base, page].filter((u): u is string => u !== undefined && originOf(u) !== undefined);
  const isAuthorized = createOriginMatcher(options.authorizedOrigins ?? defaultOrigins);
  const resolveUrl = (input: string): string => resolveRequestUrl(input, base);

  const log = createLog(options.logger);
  const bus = createEventBus((message, error) => log.error(message, error));
  const localize = messageLocalizer(options.messages);
  if (localize) localizeEvents(bus, localize);
  const storage = guardStorage(options.storage ?? memoryStorage());
  const crossTab = options.crossTab ?? isBrowserOrWorker();
  const clock = new ServerClock();
  const errors = new ErrorMapper(() => coordinator.tokens !== undefined, localize);

  const gate = new LoginGate({ loginTimeout, mode, bus, log });
  // `session` changes with these events, and, without one, where the coordinator says so (onStatusChange).
  const sessionListeners = new Set<() => void>();
  const notifySession = () => {
    for (const listener of [...sessionListeners]) {
      try {
        listener();
      } catch (error) {
        log.error('authfetch: a session listener threw; the client carries on', error);
      }
    }
  };
  for (const type of ['login', 'refresh', 'logout', 'sessionExpired'] as const) bus.on(type, notifySession);
  // Requests that met a step-up challenge wait for a sign-in (here or in another tab), not for any refresh.
  const stepUpGate = new LoginGate({ loginTimeout, mode, bus, log });
  bus.on('login', () => {
    const tokens = coordinator.tokens;
    if (tokens) stepUpGate.releaseAll(tokens);
  });
  // Assigned below: the coordinator's callbacks and the idle timer refer to each other, so these come later.
  let idle: IdleTimer | undefined;
  /** Sign-outs so far, here or in another tab: `refresh()` compares it across its wait for the stored session. */
  let logouts = 0;
  let channel: ReturnType<typeof openTabChannel>;

  // Tokens for the token endpoint go through the underlying fetch; its Date header teaches the server clock too.
  const refreshFetch: typeof fetch = async (input, init) => {
    const response = await underlyingFetch(input, init);
    clock.observe(response.headers.get('date'));
    return response;
  };

  const coordinator = new RefreshCoordinator({
    storage,
    strategy: options.refresh,
    bus,
    log,
    clock,
    fetch: refreshFetch,
    timeout,
    refreshLeeway,
    retry: { limit: 2, backoffLimit, maxRetryAfter },
    crossTab,
    dpop: options.dpop,
    onSessionEnd(reason) {
      idle?.stop();
      gate.announce(reason);
    },
    onTokens(tokens) {
      gate.releaseAll(tokens);
      idle?.start();
    },
    onLogout() {
      logouts += 1;
      idle?.stop();
      gate.rejectAll(new SessionExpiredError('Signed out', { reason: 'logout' }));
      stepUpGate.rejectAll(new SessionExpiredError('Signed out', { reason: 'logout' }));
    },
    onStatusChange: notifySession,
  });

  if (idleTimeout !== undefined) {
    idle = new IdleTimer({
      idleTimeout,
      idleWarning: Math.min(idleWarning, idleTimeout),
      trackActivity: options.trackActivity ?? false,
      bus,
      log,
      onIdle: () => void coordinator.endSession('idle'),
      onLocalActivity: () => channel?.post({ type: 'activity' }),
      // Activity in any tab counts for all: the channel tells live tabs at once, this record covers a tab whose
      // notices were held up (frozen in the background) when its own deadline comes.
      sharedActivityKey: crossTab ? `authfetch:${storage.name}:activity` : undefined,
    });
  }

  channel = crossTab
    ? openTabChannel(storage.name, (notice) => {
        if (notice.type === 'activity') idle?.touch(true);
        else void coordinator.handleNotice(notice);
      })
    : undefined;
  coordinator.attachChannel(channel);

  void coordinator.ready.then(() => {
    if (coordinator.tokens) idle?.start();
  });

  // storageFallback is emitted asynchronously by the storage, so a listener attached right after creation hears it.
  const unsubscribeFallback = storage.onFallback?.((error) => {
    log.warn('authfetch: IndexedDB is unusable; tokens are kept in memory');
    bus.emit('storageFallback', { error });
  });
  // The DPoP key store falls back the same way (IndexedDB unusable: the key lives in memory, lost on reload).
  const unsubscribeDpopFallback = options.dpop?.onFallback?.((error) => {
    log.warn('authfetch: IndexedDB is unusable; the DPoP key is kept in memory');
    bus.emit('storageFallback', { error });
  });

  // A tab coming back from the background, or a machine waking up, checks expiry at once instead of trusting timers.
  const wake = () => {
    idle?.check();
    const tokens = coordinator.tokens;
    if (tokens && coordinator.isExpiring(tokens) && coordinator.canRefresh(tokens)) {
      coordinator.refresh('expiring', tokens).catch(() => undefined);
    }
  };
  const doc = (globalThis as { document?: Document }).document;
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') wake();
  };
  const win = globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
  doc?.addEventListener('visibilitychange', onVisibility);
  win.addEventListener?.('online', wake);

  const authPath = createAuthPath({
    attempt: createAttempt({ fetch: appFetch, timeout, bounding: defaultBounding(appFetch, timeout) }),
    coordinator,
    gate,
    stepUpGate,
    mode,
    isAuthorized,
    resolveUrl,
    clock,
    bus,
    log,
    errors,
    dpop: options.dpop,
    onActivity: idle ? () => idle?.touch() : () => undefined,
  });
  const signin = attachSignIn(options.refresh, {
    fetch: refreshFetch,
    timeout,
    dpop: options.dpop,
    name: storage.name,
    lock: tabLock(crossTab, storage.lockFallback),
    log,
    login: (tokens) => client.login(tokens),
    tokens: () => coordinator.tokens,
  });
  const noSignIn = (member: string) =>
    Promise.reject(new TypeError(`authfetch: ${member}() needs the oidc() refresh strategy (the refresh option)`));

  const http = createHttp(authPath.forKy as typeof fetch, retry, base, errors, (error) => coordinator.isRefreshFailure(error));

  const client: AuthClient = {
    http,
    fetch: authPath.fetch,
    on(type, handler) {
      return bus.on(type, handler);
    },
    off(type, handler) {
      bus.off(type, handler);
    },
    async login(input) {
      const tokens = normalizeTokens(input, { receivedAt: Date.now() });
      // The session changes within this call (a request started right after it never sees the old one), and storage
      // writes keep the order of the calls, also before the first read of storage finished (that read then loses).
      await coordinator.login(tokens);
    },
    async logout(logoutOptions) {
      const signOutLocally = async () => {
        await coordinator.logout();
        if (options.dpop?.rotateOnLogout) await options.dpop.rotate();
      };
      await (signin ? coordinator.ready.then(() => signin.logout(logoutOptions, signOutLocally)) : signOutLocally());
    },
    signIn(signInOptions) {
      // Not async: a popup must open synchronously within the app's click handler.
      return signin ? signin.signIn(signInOptions) : noSignIn('signIn');
    },
    handleRedirect(url) {
      return signin ? coordinator.ready.then(() => signin.handleRedirect(url)) : noSignIn('handleRedirect');
    },
    async getAccessToken() {
      await coordinator.ready;
      try {
        // Reconfirmed: a sign-out or another user's sign-in while we waited wins over what the refresh gave.
        if (coordinator.inflight) return coordinator.reconfirm(await coordinator.inflight).accessToken;
      } catch (error) {
        // The session ended or changed hands meanwhile: whatever is current now (another user's token, or none).
        if (isSessionExpiredError(error)) return coordinator.tokens?.accessToken;
        throw error;
      }
      const tokens = coordinator.tokens;
      if (!tokens) return undefined;
      if (!coordinator.isExpiring(tokens) || !coordinator.canRefresh(tokens)) return tokens.accessToken;
      try {
        return coordinator.reconfirm(await coordinator.refresh('expiring', tokens)).accessToken;
      } catch (error) {
        if (isSessionExpiredError(error)) return coordinator.tokens?.accessToken;
        // Transient: the token may still be valid for a while (we refresh ahead of expiry).
        const expiresAt = coordinator.expiresAt(tokens);
        if (coordinator.tokens === tokens && expiresAt !== undefined && expiresAt > Date.now()) return tokens.accessToken;
        throw error;
      }
    },
    async refresh() {
      // A sign-out after this call (in the same turn, or while the stored session is still being read) wins: the
      // refresh was asked for the session as it was, and must not start a new one (a cookie session would mint a
      // token and sign the user back in).
      const logoutsBefore = logouts;
      await coordinator.ready;
      if (logouts !== logoutsBefore) throw new SessionExpiredError('Signed out', { reason: 'logout' });
      if (!options.refresh) throw new TypeError('authfetch: refresh() needs a refresh strategy (the refresh option)');
      if (!coordinator.canRefresh(coordinator.tokens) && !coordinator.inflight) {
        throw new SessionExpiredError('There is no refresh token to renew the session with', { reason: 'no-refresh-token' });
      }
      await coordinator.refresh('manual');
    },
    touch() {
      idle?.touch();
    },
    get session(): AuthSession {
      const status = coordinator.status;
      const expiresAt = coordinator.expiresAt();
      const session: AuthSession = expiresAt === undefined ? { status } : { status, expiresAt };
      const user = signin?.user(coordinator.tokens);
      if (user !== undefined) session.user = user;
      return session;
    },
    dispose() {
      signin?.dispose();
      coordinator.dispose();
      gate.dispose();
      stepUpGate.dispose();
      idle?.dispose();
      channel?.close();
      unsubscribeFallback?.();
      unsubscribeDpopFallback?.();
      doc?.removeEventListener('visibilitychange', onVisibility);
      win.removeEventListener?.('online', wake);
      bus.clear();
      sessionListeners.clear();
    },
  };
  // auth.http's errors get the app's words in the mapper; these reject straight from the client.
  if (localize) localizeRejections(client, ['fetch', 'login', 'logout', 'getAccessToken', 'refresh', 'signIn', 'handleRedirect'], localize);
  // For UI bindings (authfetch/react's useSession); not enumerable, so it stays out of logs and spreads.
  const subscribeSession: SubscribeSession = (listener) => {
    sessionListeners.add(listener);
    return () => sessionListeners.delete(listener);
  };
  Object.defineProperty(client, SUBSCRIBE_SESSION, { value: subscribeSession });
  return client;
}
