/**
 * `createAuthClient`: wires the auth path, ky, the refresh coordinator, the session (login wait, idle timeout),
 * the tab channel and the events together. Each of those lives in its own module; this one only connects them.
 */
import type { KyInstance, RetryOptions } from 'ky';
import mitt, { type Emitter } from 'mitt';
import { getAccessToken, refreshIfExpiring, refreshNow } from './access-token.js';
import { createAttempt, defaultBounding } from './auth-path/attempt.js';
import { createAuthPath } from './auth-path/auth-path.js';
import { pageUrl, resolvePrefix, resolveRequestUrl } from './auth-path/url.js';
import { ServerClock } from './clock.js';
import type { Dpop } from './dpop/types.js';
import {
  ErrorMapper,
  SessionExpiredError,
  localizeEvents,
  localizeRejections,
  messageLocalizer,
  type ErrorMessages,
} from './errors/index.js';
import { createEventBus, type EventBus } from './events.js';
import { guardStorage } from './guarded-storage.js';
import { IdleTimer } from './idle-timer.js';
import { createKyInstance, DEFAULT_MAX_RETRY_AFTER } from './ky-instance.js';
import { tabLock } from './lib/lock.js';
import { timerOption } from './lib/options.js';
import { isBrowserOrWorker, onWake } from './lib/runtime.js';
import { createSessionSignal, SUBSCRIBE_SESSION, type SessionSignal } from './lib/session-signal.js';
import { createLog, type Log } from './log.js';
import { LoginGate, type LoginRequiredMode } from './login-gate.js';
import { createOriginMatcher, originOf, type OriginMatcher, type OriginRule } from './origins.js';
import { openTabChannel, type TabChannel } from './refresh/channel.js';
import { RefreshCoordinator, type SessionStatus } from './refresh/coordinator.js';
import type { RefreshStrategy } from './refresh/types.js';
import { attachSignIn } from './signin/hook.js';
import type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './signin/types.js';
import { memoryStorage } from './storage/memory.js';
import { normalizeTokens, type OAuthTokenResponse } from './tokens.js';
import type { AuthEvents, AuthEventType, Logger, SessionEndReason, TokenSet, TokenStorage } from './types.js';

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

/** The options, checked (a `TypeError` naming the option) and with their defaults. */
interface ClientSettings {
  timeout: number;
  refreshLeeway: number;
  loginTimeout: number;
  idleTimeout: number | undefined;
  idleWarning: number;
  backoffLimit: number;
  maxRetryAfter: number;
  mode: LoginRequiredMode;
  /** `baseUrl`, resolved: relative paths are appended to it. */
  base: string | undefined;
  isAuthorized: OriginMatcher;
  crossTab: boolean;
  /** The underlying fetch, looked up per call (test tools such as msw replace `globalThis.fetch` after creation). */
  underlyingFetch: typeof fetch;
}

/** Check the options when the client is created, so a wrong one fails at once and names itself. */
function readOptions(options: AuthClientOptions): ClientSettings {
  const timeout = timerOption('timeout', options.timeout, 30_000);
  const refreshLeeway = timerOption('refreshLeeway', options.refreshLeeway, 30, { unit: 's', allowZero: true });
  const loginTimeout = timerOption('loginTimeout', options.loginTimeout, 300_000);
  const idleWarning = timerOption('idleWarning', options.idleWarning, 60_000, { allowZero: true });
  const idleTimeout = options.idleTimeout === undefined ? undefined : timerOption('idleTimeout', options.idleTimeout, 0);
  const retry = typeof options.retry === 'object' && options.retry !== null ? options.retry : undefined;
  const backoffLimit = timerOption('retry.backoffLimit', retry?.backoffLimit, 3000, { allowZero: true });
  const maxRetryAfter = timerOption('retry.maxRetryAfter', retry?.maxRetryAfter, DEFAULT_MAX_RETRY_AFTER, { allowZero: true });
  const mode: LoginRequiredMode = options.loginRequired ?? 'reject';
  if (mode !== 'reject' && mode !== 'wait') throw new TypeError("authfetch: option loginRequired must be 'reject' or 'wait'");
  const appFetch = options.fetch;
  if (appFetch === undefined ? typeof globalThis.fetch !== 'function' : typeof appFetch !== 'function') {
    throw new TypeError('authfetch: no fetch is available; pass the fetch option');
  }
  const base = options.baseUrl === undefined ? undefined : resolvePrefix(options.baseUrl, 'baseUrl');
  const defaultOrigins = [base, pageUrl()].filter((url): url is string => url !== undefined && originOf(url) !== undefined);
  return {
    timeout,
    refreshLeeway,
    loginTimeout,
    idleTimeout,
    // The warning never comes before the idle period starts.
    idleWarning: idleTimeout === undefined ? idleWarning : Math.min(idleWarning, idleTimeout),
    backoffLimit,
    maxRetryAfter,
    mode,
    base,
    isAuthorized: createOriginMatcher(options.authorizedOrigins ?? defaultOrigins),
    crossTab: options.crossTab ?? isBrowserOrWorker(),
    underlyingFetch: appFetch ?? ((input, init) => globalThis.fetch(input, init)),
  };
}

/**
 * What the client's parts tell each other. Internal events (mitt, never seen by the app) instead of callbacks that
 * name each other: the coordinator, the idle timer and the tab channel are made in any order and wired in
 * {@link wireSession}.
 */
type ClientSignals = {
  /** The session ended (after `sessionExpired` was emitted, before waiting requests reject). */
  sessionEnd: SessionEndReason;
  /** Tokens arrived from a sign-in or a refresh, here or in another tab. */
  tokens: TokenSet;
  /** Signed out, here or in another tab. */
  logout: undefined;
  /** The idle deadline passed. */
  idle: undefined;
  /** The user was active in this tab. */
  localActivity: undefined;
};

/** The parts {@link wireSession} connects. */
type SessionParts = Pick<ClientSession, 'coordinator' | 'gate' | 'stepUpGate' | 'idle'> & {
  signals: Emitter<ClientSignals>;
  channel: TabChannel | undefined;
  bus: EventBus;
};

/** Connect the session's parts: who reacts to a session end, to new tokens, to a sign-out, to idleness. */
function wireSession({ signals, coordinator, gate, stepUpGate, idle, channel, bus }: SessionParts): void {
  signals.on('sessionEnd', (reason) => {
    idle?.stop();
    gate.announce(reason);
  });
  signals.on('tokens', (tokens) => {
    gate.releaseAll(tokens);
    idle?.start();
  });
  signals.on('logout', () => {
    idle?.stop();
    gate.rejectAll(new SessionExpiredError('Signed out', { reason: 'logout' }));
    stepUpGate.rejectAll(new SessionExpiredError('Signed out', { reason: 'logout' }));
  });
  signals.on('idle', () => void coordinator.endSession('idle'));
  signals.on('localActivity', () => channel?.post({ type: 'activity' }));
  // Requests that met a step-up challenge wait for a sign-in (here or in another tab), not for any refresh.
  bus.on('login', () => {
    const tokens = coordinator.tokens;
    if (tokens) stepUpGate.releaseAll(tokens);
  });
  coordinator.attachChannel(channel);
  void coordinator.ready.then(() => {
    if (coordinator.tokens) idle?.start();
  });
}

/**
 * `storageFallback` for the token storage and the DPoP key store (IndexedDB unusable: kept in memory, lost on
 * reload). The storages raise it asynchronously, so a listener attached right after creation hears it.
 */
function reportFallbacks(storage: TokenStorage, dpop: Dpop | undefined, bus: EventBus, log: Log): () => void {
  const unsubscribeTokens = storage.onFallback?.((error) => {
    log.warn('authfetch: IndexedDB is unusable; tokens are kept in memory');
    bus.emit('storageFallback', { error });
  });
  const unsubscribeKey = dpop?.onFallback?.((error) => {
    log.warn('authfetch: IndexedDB is unusable; the DPoP key is kept in memory');
    bus.emit('storageFallback', { error });
  });
  return () => {
    unsubscribeTokens?.();
    unsubscribeKey?.();
  };
}

/** The session's parts, made and wired: what the auth path and the client's members work with. */
interface ClientSession {
  storage: TokenStorage;
  clock: ServerClock;
  /** The underlying fetch for the token endpoint and sign-in; its `Date` header teaches the server clock. */
  refreshFetch: typeof fetch;
  coordinator: RefreshCoordinator;
  gate: LoginGate;
  stepUpGate: LoginGate;
  idle: IdleTimer | undefined;
  signal: SessionSignal;
  /** Sign-outs so far, here or in another tab: `refresh()` compares it across its wait for the stored session. */
  signOuts(): number;
  /** Stop the coordinator, gates, idle timer, channel and platform listeners. */
  dispose(): void;
}

/** Make the coordinator, the login gates, the idle timer and the tab channel, and connect them. */
function createSession(options: AuthClientOptions, settings: ClientSettings, bus: EventBus, log: Log): ClientSession {
  const { timeout, mode, loginTimeout, crossTab } = settings;
  const storage = guardStorage(options.storage ?? memoryStorage());
  const clock = new ServerClock();
  // `session` changes with these events, and, without one, where the coordinator says so (onStatusChange).
  const signal = createSessionSignal((message, error) => log.error(message, error));
  for (const type of ['login', 'refresh', 'logout', 'sessionExpired'] as const) bus.on(type, signal.notify);
  const signals = mitt<ClientSignals>();
  const refreshFetch: typeof fetch = async (input, init) => {
    const response = await settings.underlyingFetch(input, init);
    // The token endpoint's (or sign-in's) clock is the issuer's: it decides what a JWT `exp` means.
    clock.observe(response.headers.get('date'), true);
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
    refreshLeeway: settings.refreshLeeway,
    retry: { limit: 2, backoffLimit: settings.backoffLimit, maxRetryAfter: settings.maxRetryAfter },
    crossTab,
    dpop: options.dpop,
    onSessionEnd: (reason) => signals.emit('sessionEnd', reason),
    onTokens: (tokens) => signals.emit('tokens', tokens),
    onLogout: () => signals.emit('logout'),
    onStatusChange: signal.notify,
  });
  const gate = new LoginGate({ loginTimeout, mode, bus, log });
  const stepUpGate = new LoginGate({ loginTimeout, mode, bus, log });
  const idle =
    settings.idleTimeout === undefined
      ? undefined
      : new IdleTimer({
          idleTimeout: settings.idleTimeout,
          idleWarning: settings.idleWarning,
          trackActivity: options.trackActivity ?? false,
          bus,
          log,
          onIdle: () => signals.emit('idle'),
          onLocalActivity: () => signals.emit('localActivity'),
          // Activity in any tab counts for all: the channel tells live tabs at once, this record covers a tab whose
          // notices were held up (frozen in the background) when its own deadline comes.
          sharedActivityKey: crossTab ? `authfetch:${storage.name}:activity` : undefined,
        });
  const channel = crossTab
    ? openTabChannel(storage.name, (notice) => {
        if (notice.type === 'activity') idle?.touch(true);
        else void coordinator.handleNotice(notice);
      })
    : undefined;
  let signOuts = 0;
  signals.on('logout', () => {
    signOuts += 1;
  });
  wireSession({ signals, coordinator, gate, stepUpGate, idle, channel, bus });
  const stopReportingFallbacks = reportFallbacks(storage, options.dpop, bus, log);
  const stopWatchingWake = onWake(() => {
    idle?.check();
    refreshIfExpiring(coordinator);
  });
  const dispose = () => {
    coordinator.dispose();
    gate.dispose();
    stepUpGate.dispose();
    idle?.dispose();
    channel?.close();
    stopReportingFallbacks();
    stopWatchingWake();
    signals.all.clear();
  };
  return { storage, clock, refreshFetch, coordinator, gate, stepUpGate, idle, signal, signOuts: () => signOuts, dispose };
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
  const settings = readOptions(options);
  const { timeout, crossTab } = settings;
  const log = createLog(options.logger);
  const bus = createEventBus((message, error) => log.error(message, error));
  const localize = messageLocalizer(options.messages);
  if (localize) localizeEvents(bus, localize);
  const session = createSession(options, settings, bus, log);
  const { coordinator, storage, idle } = session;
  const errors = new ErrorMapper(() => coordinator.tokens !== undefined, localize);
  const authPath = createAuthPath({
    attempt: createAttempt({ fetch: options.fetch, timeout, bounding: defaultBounding(options.fetch, timeout) }),
    coordinator,
    gate: session.gate,
    stepUpGate: session.stepUpGate,
    mode: settings.mode,
    isAuthorized: settings.isAuthorized,
    resolveUrl: (input) => resolveRequestUrl(input, settings.base),
    clock: session.clock,
    bus,
    log,
    errors,
    dpop: options.dpop,
    onActivity: idle ? () => idle.touch() : () => undefined,
  });
  const login = async (input: TokenSet | OAuthTokenResponse): Promise<void> => {
    // The session changes within this call (a request started right after it never sees the old one), and storage
    // writes keep the order of the calls, also before the first read of storage finished (that read then loses).
    await coordinator.login(normalizeTokens(input, { receivedAt: Date.now() }));
  };
  const signin = attachSignIn(options.refresh, {
    fetch: session.refreshFetch,
    timeout,
    dpop: options.dpop,
    name: storage.name,
    lock: tabLock(crossTab, storage.lockFallback),
    log,
    login,
    tokens: () => coordinator.tokens,
  });
  const noSignIn = (member: string) =>
    Promise.reject(new TypeError(`authfetch: ${member}() needs the oidc() refresh strategy (the refresh option)`));
  const signOutLocally = async () => {
    await coordinator.logout();
    if (options.dpop?.rotateOnLogout) await options.dpop.rotate();
  };

  const client: AuthClient = {
    http: createKyInstance(authPath.fetchForKy as typeof fetch, options.retry, settings.base, errors, (error) => coordinator.isRefreshFailure(error)),
    fetch: authPath.fetch,
    on: (type, handler) => bus.on(type, handler),
    off: (type, handler) => bus.off(type, handler),
    login,
    logout: async (logoutOptions) =>
      await (signin ? coordinator.ready.then(() => signin.logout(logoutOptions, signOutLocally)) : signOutLocally()),
    // Not async: a popup must open synchronously within the app's click handler.
    signIn: (signInOptions) => (signin ? signin.signIn(signInOptions) : noSignIn('signIn')),
    handleRedirect: (url) => (signin ? coordinator.ready.then(() => signin.handleRedirect(url)) : noSignIn('handleRedirect')),
    getAccessToken: () => getAccessToken(coordinator),
    refresh: () => refreshNow(coordinator, options.refresh !== undefined, session.signOuts),
    touch: () => idle?.touch(),
    get session(): AuthSession {
      const status = coordinator.status;
      const expiresAt = coordinator.expiresAt();
      const current: AuthSession = expiresAt === undefined ? { status } : { status, expiresAt };
      const user = signin?.user(coordinator.tokens);
      if (user !== undefined) current.user = user;
      return current;
    },
    dispose() {
      signin?.dispose();
      session.dispose();
      bus.clear();
      session.signal.clear();
    },
  };
  // auth.http's errors get the app's words in the mapper; these reject straight from the client.
  if (localize) localizeRejections(client, ['fetch', 'login', 'logout', 'getAccessToken', 'refresh', 'signIn', 'handleRedirect'], localize);
  // For UI bindings (authfetch/react's useSession); not enumerable, so it stays out of logs and spreads.
  Object.defineProperty(client, SUBSCRIBE_SESSION, { value: session.signal.subscribe });
  return client;
}
