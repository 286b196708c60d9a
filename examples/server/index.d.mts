/**
 * Types for the example API and token server (`index.mjs`), so strict TypeScript tests and benchmarks
 * import it with types.
 */
import type { Server } from 'node:http';

/** Options of {@link startExampleServer}. */
export interface ExampleServerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (a free port) */
  port?: number;
  /** Lifetime of access tokens, in seconds. @default 300 */
  accessTokenTtl?: number;
  /** Delay before the refresh_token grant and the session refresh answer (the token is spent on arrival). @default 0 */
  refreshDelayMs?: number;
  /** Access tokens as random strings remembered by the server instead of ES256 JWTs. @default false */
  opaqueTokens?: boolean;
  /** The server's clock runs this far ahead: its Date header, JWT iat/exp and its own checks. @default 0 */
  clockSkewMs?: number;
  /** Static files: URL prefix (`'/'`, `'/dist/'`) to directory. */
  static?: Record<string, string>;
  /** One console line per request. @default false */
  log?: boolean;
}

/** Live counters; the same object for the server's lifetime (`resetStats()` zeroes it in place). */
export interface ExampleServerStats {
  /** Calls of the token endpoint with `grant_type=refresh_token`, rejected and faulted ones included. */
  refreshCalls: number;
  /** Calls of the token endpoint, any grant. */
  tokenCalls: number;
  /** Requests to `/api/*` (preflights excluded). */
  apiHits: number;
  /** Spent refresh tokens presented again (each revokes its family). */
  reuseDetected: number;
  /** Calls of `POST /session/refresh`, faulted ones included. */
  sessionRefreshCalls: number;
  /** Requests whose client closed the connection while the server was still waiting to answer (a slow route). */
  clientAborts: number;
  /** Requests per path (no query), every route, preflights excluded. */
  requestsByPath: Record<string, number>;
  /** The `Authorization` header each path last received (`undefined`: none). */
  lastAuthorization: Record<string, string | undefined>;
}

/** Named faults for the token endpoint and the session refresh endpoint. */
export type FaultName =
  | 'none'
  /** Never answers (close() still ends the connection). */
  | 'hang'
  /** 503 `{"error":"temporarily_unavailable"}`, `Retry-After: 1`. */
  | 'status-503'
  /** 429 `{"error":"slow_down"}`, `Retry-After: 1`. */
  | 'status-429'
  /** 500 `{"error":"server_error"}`. */
  | 'status-500'
  /** 200 with an HTML page. */
  | 'html'
  /** 200 with a JSON array. */
  | 'not-json-object'
  /** 200 with a JSON object lacking `access_token`. */
  | 'no-access-token'
  /** Token endpoint: 400 `{"error":"invalid_grant"}`; session refresh: 401 `{"error":"session_expired"}`. */
  | 'reject'
  /** Destroys the socket without answering. */
  | 'reset';

/** A custom answer; `times` limits it to the next N calls. */
export interface CustomFault {
  status: number;
  /** Default: a JSON `server_error` body. Content type is guessed (JSON or text) unless given in `headers`. */
  body?: string;
  headers?: Record<string, string>;
  times?: number;
}

export type Fault = FaultName | CustomFault;

/** An RFC 6749 section 5.1 token response, as the token endpoint sends it. */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: 'Bearer';
  /** Seconds. */
  expires_in: number;
  refresh_token: string;
  scope: string;
}

/** What {@link ExampleServer.issueTokens} signs in. */
export interface IssueTokensOptions {
  /** @default 'alice' */
  sub?: string;
  /** @default DEFAULT_SCOPE ('openid profile api') */
  scope?: string;
  /** Access token lifetime in seconds; zero or negative gives an already expired token. @default accessTokenTtl */
  ttl?: number;
  /** Authentication context class; `'mfa'` passes `/api/step-up`. @default 'pwd' */
  acr?: string;
}

export interface ExampleServer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly stats: ExampleServerStats;
  /** The underlying Node server. */
  readonly server: Server;
  /** Zero every counter in place. */
  resetStats(): void;
  /**
   * Inject a fault into `POST /oauth/token` (any grant) and `POST /session/refresh`.
   * `times` (here or in a custom fault): only the next N calls, then back to normal. `'none'` clears.
   */
  setFault(fault: Fault, options?: { times?: number }): void;
  /** A raw token response with a fresh refresh token (a new family), as if the user just signed in. */
  issueTokens(options?: IssueTokensOptions): Promise<OAuthTokenResponse>;
  /** Every access token issued so far answers 401 `invalid_token` ("expired"); refresh tokens still work. */
  expireAll(): void;
  /** Revoke every refresh token and every cookie session: the next refresh is rejected. */
  revokeRefreshTokens(): void;
  /** Accept the identity provider's access tokens too (by introspection), and serve `GET /identity.json` for the app. */
  useIdentityProvider(identity: { issuer: string; clientId: string; introspect(token: string): Promise<Record<string, unknown>> }): void;
  /** Stop listening and end all connections (hanging requests, idle keep-alive). Safe to call twice. */
  close(): Promise<void>;
}

/** The demo's client id; the token endpoint answers 401 `invalid_client` without it. */
export declare const CLIENT_ID: 'demo-spa';
/** The demo's users (`alice` / `wonderland`; `otp: '123456'` makes an `acr: 'mfa'` sign-in). */
export declare const USERS: { readonly alice: { password: string; name: string; otp: string } };
/** Scopes granted when a sign-in asks for none. */
export declare const DEFAULT_SCOPE: string;

/**
 * Start the example API and token server on `host:port` (default a free port on 127.0.0.1).
 *
 * @example
 * const server = await startExampleServer({ accessTokenTtl: 60 });
 * const tokens = await server.issueTokens();
 * await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
 * await server.close();
 */
export declare function startExampleServer(options?: ExampleServerOptions): Promise<ExampleServer>;
