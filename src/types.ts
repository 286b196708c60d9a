import type { TabLock } from './lib/lock.js';

/**
 * Vocabulary shared by several modules: the token set, storage, logger and the event map.
 * Options types live next to the function that takes them; only what crosses modules is here.
 */
import type { AuthFetchError, ForbiddenError, UnauthorizedError } from './errors/index.js';

/** The tokens of one signed-in session, normalised from an OAuth 2 token response or given by the app. */
export interface TokenSet {
  /** The access token sent to authorized origins. Never logged, never put in an event or error. */
  accessToken: string;
  /** The refresh token, when the strategy uses one (OAuth 2 refresh_token grant). */
  refreshToken?: string;
  /** The OpenID Connect ID token, kept for the app; authfetch does not send it. */
  idToken?: string;
  /** When the access token expires, in epoch milliseconds on this machine's clock (already corrected for server clock skew). */
  expiresAt?: number;
  /** Space-separated scopes granted. */
  scope?: string;
  /** `Bearer` or `DPoP` (RFC 9449); case-insensitive. */
  tokenType?: string;
}

/**
 * Where the token set lives. `memoryStorage()` and `indexedDbStorage()` implement it; an app may bring its own.
 *
 * Implementations never throw at the app for unreadable data: a stored value that is not a token set reads as
 * `undefined` (signed out).
 */
export interface TokenStorage {
  /**
   * Scopes what tabs share: the BroadcastChannel and the Web Lock are named after it.
   * Two storages with the same name in one origin coordinate their refreshes.
   */
  readonly name: string;
  /** True when other tabs (and other clients in this page) read the same tokens from this storage. */
  readonly shared: boolean;
  /** The stored token set, or `undefined` when signed out or when the stored value is unusable. */
  get(): Promise<TokenSet | undefined>;
  /** Replace the stored token set. */
  set(tokens: TokenSet): Promise<void>;
  /** Remove the stored token set. */
  clear(): Promise<void>;
  /**
   * Subscribe to the storage giving up on its backend (IndexedDB unusable) and keeping tokens in memory.
   * The listener is called at most once, always asynchronously. Returns an unsubscribe function.
   */
  onFallback?(listener: (error: unknown) => void): () => void;
  /**
   * A cross-tab lock for refreshes where Web Locks are missing (pages over plain HTTP from a LAN address), such as
   * `indexedDbLease()`. Without it, refreshes there are serialized within the page only.
   */
  readonly lockFallback?: TabLock;
}

/** A console-like sink for the auth lifecycle, one line per step. Tokens never appear in what it receives. */
export interface Logger {
  debug?(message: string, ...details: unknown[]): void;
  warn?(message: string, ...details: unknown[]): void;
  error?(message: string, ...details: unknown[]): void;
}

/** Whether an event started in this client or arrived from another tab (or client over the same storage). */
export type EventSource = 'local' | 'other-tab';

/** Why a silent refresh was started. */
export type RefreshTrigger = 'unauthorized' | 'expiring' | 'manual';

/** Why the session ended (the `sessionExpired` event). A closed union: a `switch` over it is exhaustive. */
export type SessionEndReason = 'refresh-rejected' | 'idle' | 'no-refresh-token' | 'other-tab';

/**
 * Why sign-in is needed (the `loginRequired` event): the session ended (a {@link SessionEndReason}), a request went
 * out signed out (`'signed-out'`), or the server wants a stronger sign-in (`'step-up'`, RFC 9470). Closed.
 */
export type LoginRequiredReason = SessionEndReason | 'signed-out' | 'step-up';

/** The typed event map: each key's payload. `auth.on(type, handler)` types `handler` by `type`. */
export type AuthEvents = {
  login: { expiresAt?: number; source: EventSource };
  refresh: { expiresAt?: number; trigger: RefreshTrigger; source: EventSource };
  refreshError: { error: AuthFetchError };
  sessionWarning: { remainingMs: number };
  sessionExpired: { reason: SessionEndReason; error?: AuthFetchError };
  loginRequired: {
    reason: LoginRequiredReason;
    /** Requests held at that moment. */
    pending: number;
    /** With `'step-up'`: the authentication context classes the server asked for (RFC 9470). */
    acrValues?: string[];
    /** With `'step-up'`: the most seconds since the last sign-in the server accepts (RFC 9470). */
    maxAge?: number;
  };
  logout: { source: EventSource };
  unauthorized: UnauthorizedError;
  forbidden: ForbiddenError;
  stepUp: { acrValues?: string[]; maxAge?: number; error: UnauthorizedError };
  storageFallback: { error: unknown };
};

/** The name of an authfetch event. */
export type AuthEventType = keyof AuthEvents;
