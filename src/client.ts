/**
 * `createAuthClient`: wires the auth path, ky, the refresh coordinator, the session (login wait, idle timeout),
 * the tab channel and the events together. Each of those lives in its own module; this one only connects them.
 */
import type { KyInstance, RetryOptions } from 'ky';
import { createAttempt, defaultBounding } from './auth-path/attempt.js';
import { createAuthPath } from './auth-path/auth-path.js';
import { pageUrl, resolvePrefix, resolveRequestUrl } from './auth-path/url.js';
import { ServerClock } from './clock.js';
import type { Dpop } from './dpop/types.js';
import {
  ErrorMapper,
  localizeEvents,
  localizeRejections,
  messageLocalizer,
  type ErrorMessages,
} from './errors/index.js';
import { createEventBus, type EventBus } from './events.js';
import { guardStorage } from './guarded-storage.js';
import { createIdleTimer, type IdleTimer } from './idle-timer.js';
import { createKyInstance, DEFAULT_MAX_RETRY_AFTER } from './ky-instance.js';
import { ended } from './lib/ended.js';
import { tabLock, type TabLock } from './lib/lock.js';
import { MAX_TIMER_MS, timerOption } from './lib/options.js';
import { isBrowserOrWorker, onWake } from './lib/runtime.js';
import { createSessionSignal, SUBSCRIBE_SESSION, type SessionSignal } from './lib/session-signal.js';
import { createLog, type Log } from './log.js';
import { createLoginGate, type LoginGate, type LoginRequiredMode } from './login-gate.js';
import { createOriginMatcher, originOf, type OriginRule } from './origins.js';
import { openTabChannel, type SessionNotice } from './refresh/channel.js';
import { RefreshCoordinator, type SessionStatus } from './refresh/coordinator.js';
import type { RefreshStrategy } from './refresh/types.js';
import { attachSignIn } from './signin/hook.js';
import type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './signin/types.js';
import { memoryStorage } from './storage/memory.js';
import { normalizeTokens, type OAuthTokenResponse } from './tokens.js';
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

/**
 * The session's parts, made and wired: what the client's members work with, and what the auth path is built from
 * (spread into its options: it reads its own, the coordinator, the gates and the clock).
 */
interface ClientSession {
  storage: TokenStorage;
  clock: ServerClock;
  /** Chosen once: Web Locks across tabs where they exist, else the storage's opt-in fallback, else in-page only. */
  lock: TabLock;
  /** The underlying fetch for the token endpoint and sign-in; its `Date` header teaches the server clock. */
  refreshFetch: typeof fetch;
  coordinator: RefreshCoordinator;
  gate: LoginGate;
  stepUpGate: LoginGate;
  idle: IdleTimer | undefined;
  signal: SessionSignal;
  /** Stop the coordinator, gates, idle timer, channel and platform listeners. */
  dispose(): void;
}

/**
 * Check the session's options (a `TypeError` naming the option, before anything is opened or listened to), then make
 * the coordinator, the login gates, the idle timer and the tab channel, and connect them: who reacts to a session
 * end, to new tokens, to a sign-out, to idleness. Each part's callbacks reach only parts made before it, or parts
 * that cannot call back before they exist (the coordinator reads storage asynchronously; the channel and the idle
 * timer hear nothing before the first tokens).
 */
function createSession(options: AuthClientOptions, timeout: number, mode: LoginRequiredMode, crossTab: boolean, bus: EventBus, log: Log): ClientSession {
  const refreshLeeway = timerOption(options, 'refreshLeeway', 30, true, MAX_TIMER_MS / 1000);
  const loginTimeout = timerOption(options, 'loginTimeout', 300_000);
  const idleWarning = timerOption(options, 'idleWarning', 60_000, true);
  const idleTimeout = timerOption(options, 'idleTimeout', undefined);
  // A number is the retry limit: its fields read as undefined, as they do without the option.
  const backoffLimit = timerOption(options.retry, 'retry.backoffLimit', 3000, true);
  const maxRetryAfter = timerOption(options.retry, 'retry.maxRetryAfter', DEFAULT_MAX_RETRY_AFTER, true);
  const { dpop, fetch: appFetch } = options;
  const storage = guardStorage(options.storage ?? memoryStorage());
  const clock = new ServerClock();
  const lock = tabLock(crossTab, storage.lockFallback);
  // `session` changes with these events, and, without one, where the coordinator says so (onStatusChange).
  const signal = createSessionSignal(log);
  for (const type of ['login', 'refresh', 'logout', 'sessionExpired'] as const) bus.on(type, signal.notify);
  // The underlying fetch is looked up per call: test tools such as msw replace `globalThis.fetch` after creation.
  const refreshFetch: typeof fetch = async (input, init) => {
    const response = await (appFetch ?? globalThis.fetch)(input, init);
    // The token endpoint's (or sign-in's) clock is the issuer's: it decides what a JWT `exp` means.
    clock.observe(response.headers.get('date'), true);
    return response;
  };
  const gate = createLoginGate(loginTimeout, mode, bus, log);
  // Requests that met a step-up challenge wait for a sign-in (here or in another tab), not for any refresh.
  const stepUpGate = createLoginGate(loginTimeout, mode, bus, log);
  const channel = crossTab
    ? openTabChannel(storage.name, (notice) => (notice.type === 'activity' ? idle?.touch(true) : void coordinator.handleNotice(notice as SessionNotice)))
    : undefined;
  const idle =
    idleTimeout === undefined
      ? undefined
      : createIdleTimer(
          idleTimeout,
          // The warning never comes before the idle period starts.
          Math.min(idleWarning, idleTimeout),
          options.trackActivity,
          bus,
          log,
          () => void coordinator.endSession('idle'),
          () => channel?.post({ type: 'activity' }),
          // Activity in any tab counts for all: the channel tells live tabs at once, this record covers a tab whose
          // notices were held up (frozen in the background) when its own deadline comes.
          crossTab ? `authfetch:${storage.name}:activity` : undefined,
        );
  const coordinator = new RefreshCoordinator({
    storage, strategy: options.refresh, bus, log, clock, fetch: refreshFetch, timeout, refreshLeeway, lock, dpop, backoffLimit, maxRetryAfter,
    // Right after `sessionExpired` was emitted, before the requests waiting on the session reject.
    onSessionEnd: (reason) => { idle?.stop(); gate.announce(reason); },
    // From a sign-in or a refresh, here or in another tab.
    onTokens: (tokens) => { gate.releaseAll(tokens); idle?.start(); },
    onLogout: () => { idle?.stop(); gate.rejectAll(ended('logout')); stepUpGate.rejectAll(ended('logout')); },
    onStatusChange: signal.notify,
  });
  bus.on('login', () => coordinator.tokens && stepUpGate.releaseAll(coordinator.tokens));
  coordinator.attachChannel(channel);
  void coordinator.ready.then(() => coordinator.tokens && idle?.start());
  const stops = [() => coordinator.dispose(), gate.dispose, stepUpGate.dispose, idle?.dispose, () => channel?.close()];
  // `storageFallback` for the token storage and the DPoP key store (IndexedDB unusable: kept in memory, lost on
  // reload). The storages raise it asynchronously, so a listener attached right after creation hears it.
  for (const [source, what] of [[storage, 'tokens are'], [dpop, 'the DPoP key is']] as const) {
    stops.push(
      source?.onFallback?.((error) => {
        log.warn(`authfetch: IndexedDB is unusable; ${what} kept in memory`);
        bus.emit('storageFallback', { error });
      }),
    );
  }
  // The page woke up (a tab back from the background, a machine back from sleep): refresh at once if the token is
  // expiring, instead of trusting timers that slept. A failure is reported by the coordinator (`refreshError`).
  stops.push(onWake(() => { idle?.check(); coordinator.tokenFor().catch(() => undefined); }));
  const dispose = () => {
    for (const stop of stops) stop?.();
  };
  return { storage, clock, lock, refreshFetch, coordinator, gate, stepUpGate, idle, signal, dispose };
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
  const { refresh, dpop, fetch: appFetch } = options;
  // The options are checked when the client is created, so a wrong one fails at once and names itself.
  const timeout = timerOption(options, 'timeout', 30_000);
  const mode = options.loginRequired ?? 'reject';
  if (mode !== 'reject' && mode !== 'wait') throw new TypeError("authfetch: option loginRequired must be 'reject' or 'wait'");
  if (typeof (appFetch === undefined ? globalThis.fetch : appFetch) !== 'function') throw new TypeError('authfetch: no fetch is available; pass the fetch option');
  // The auth path's DPoP steps are members of the object dpop() returns (src/auth-path/dpop-steps.ts): an object
  // without them would fail every response later, so it fails here.
  if (dpop && !dpop.receive) throw new TypeError('authfetch: option dpop must come from dpop()');
  const base = options.baseUrl === undefined ? undefined : resolvePrefix(options.baseUrl, 'baseUrl');
  const defaultOrigins = [base, pageUrl()].filter((url) => url !== undefined && originOf(url) !== undefined) as string[];
  const isAuthorized = createOriginMatcher(options.authorizedOrigins ?? defaultOrigins);
  const crossTab = options.crossTab ?? isBrowserOrWorker();
  const log = createLog(options.logger);
  const bus = createEventBus(log);
  const localize = messageLocalizer(options.messages);
  if (localize) localizeEvents(bus, localize);
  const session = createSession(options, timeout, mode, crossTab, bus, log);
  const { coordinator, storage, idle, signal } = session;
  const errors = new ErrorMapper(() => coordinator.tokens !== undefined, localize);
  const authPath = createAuthPath({
    ...session, mode, isAuthorized, bus, log, errors, dpop,
    attempt: createAttempt({ fetch: appFetch, timeout, bounding: defaultBounding(appFetch, timeout) }),
    resolveUrl: (input) => resolveRequestUrl(input, base),
    onActivity: () => idle?.touch(),
  });
  const login = async (input: TokenSet | OAuthTokenResponse): Promise<void> => {
    // The session changes within this call (a request started right after it never sees the old one), and storage
    // writes keep the order of the calls, also before the first read of storage finished (that read then loses).
    await coordinator.login(normalizeTokens(input));
  };
  const signin = attachSignIn(refresh, { fetch: session.refreshFetch, timeout, dpop, name: storage.name, lock: session.lock, log, login, tokens: () => coordinator.tokens });
  const noSignIn = (member: string) => Promise.reject(new TypeError(`authfetch: ${member}() needs refresh: oidc()`));
  const signOutLocally = async () => {
    await coordinator.logout();
    if (dpop?.rotateOnLogout) await dpop.rotate();
  };

  const client: AuthClient = {
    http: createKyInstance(authPath.fetchForKy as typeof fetch, options.retry, base, errors, (error) => coordinator.isRefreshFailure(error)),
    fetch: authPath.fetch,
    on: (type, handler) => (bus.on(type, handler), () => bus.off(type, handler)),
    off: bus.off,
    login,
    logout: async (logoutOptions) =>
      await (signin ? coordinator.ready.then(() => signin.logout(logoutOptions, signOutLocally)) : signOutLocally()),
    // Not async: a popup must open synchronously within the app's click handler.
    signIn: (signInOptions) => (signin ? signin.signIn(signInOptions) : noSignIn('signIn')),
    handleRedirect: (url) => (signin ? coordinator.ready.then(() => signin.handleRedirect(url)) : noSignIn('handleRedirect')),
    // The coordinator's token policy: after a transient refresh failure the token is still given while it has not
    // expired; after the session ended or changed hands, whatever is current now.
    getAccessToken: async () => {
      if (!coordinator.isReady) await coordinator.ready;
      const current = coordinator.readyTokens;
      if (current) return current.accessToken;
      await coordinator.tokenFor();
      // Read now, not what the policy picked an await ago: a sign-in or sign-out in between is the newer answer.
      return coordinator.tokens?.accessToken;
    },
    refresh: () => coordinator.refreshNow(),
    touch: () => idle?.touch(),
    get session(): AuthSession {
      const current: AuthSession = { status: coordinator.status };
      const expiresAt = coordinator.expiresAt();
      const user = signin?.user(coordinator.tokens);
      if (expiresAt !== undefined) current.expiresAt = expiresAt;
      if (user !== undefined) current.user = user;
      return current;
    },
    dispose() {
      signin?.dispose();
      session.dispose();
      bus.all.clear();
      signal.clear();
    },
  };
  // auth.http's errors get the app's words in the mapper; these reject straight from the client.
  if (localize) localizeRejections(client, ['fetch', 'login', 'logout', 'getAccessToken', 'refresh', 'signIn', 'handleRedirect'], localize);
  // For UI bindings (authfetch/react's useSession); not enumerable, so it stays out of logs and spreads.
  Object.defineProperty(client, SUBSCRIBE_SESSION, { value: signal.subscribe });
  return client;
}
