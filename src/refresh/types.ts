/** The shape every refresh strategy has, and what it is given. */
import type { Dpop } from '../dpop/types.js';
import type { TokenSet } from '../types.js';

/** What a strategy gets for one refresh attempt. */
export interface RefreshContext {
  /** The current token set (its `refreshToken` for OAuth 2), or `undefined` when signed out. */
  tokens: TokenSet | undefined;
  /** Aborted when the attempt outlives the client's `timeout` or the client is disposed: pass it to fetch. */
  signal: AbortSignal;
  /** The client's underlying fetch: no token attached, no auth path. */
  fetch: typeof fetch;
  /** The client's DPoP key, when the `dpop` option is set: token requests must carry a proof. */
  dpop?: Dpop;
}

/**
 * How tokens are renewed silently. Throw `SessionExpiredError` to say the session is over (the refresh was
 * rejected); throw `NetworkError`, `TimeoutError`, `ServerError`, `RateLimitError` (or an `HttpError` for 408/425)
 * for a transient failure that is retried; any other error is reported with `refreshError` and keeps the session
 * (an error that is not authfetch's becomes a `TokenResponseError` naming its class; a failed `ctx.fetch` a
 * `NetworkError` or `TimeoutError`).
 */
export interface RefreshStrategy {
  /** Renew the tokens. */
  refresh(context: RefreshContext): Promise<TokenSet>;
  /**
   * Whether the strategy can only work with a refresh token (OAuth 2). When it is true and there is none, a 401
   * ends the session at once (reason `no-refresh-token`) instead of calling `refresh`.
   * @default false
   */
  readonly requiresRefreshToken?: boolean;
}
