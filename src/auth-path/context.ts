/**
 * What the auth path is built from (the client's parts), and the per-client context every step of a request reads.
 * One plain object handed from step to step, as ofetch hands its `FetchContext`: no step keeps state of its own.
 */
import type { ServerClock } from '../clock.js';
import type { Dpop } from '../dpop/types.js';
import type { ErrorMapper } from '../errors/index.js';
import type { EventBus } from '../events.js';
import type { Log } from '../log.js';
import type { LoginGate, LoginRequiredMode } from '../login-gate.js';
import type { OriginMatcher } from '../origins.js';
import type { RefreshCoordinator } from '../refresh/coordinator.js';
import type { Attempt } from './attempt.js';

/** What the auth path is built from. */
export interface AuthPathOptions {
  /** Sends one network attempt, bounded by the per-attempt timeout (src/auth-path/attempt.ts). */
  attempt: Attempt;
  coordinator: RefreshCoordinator;
  /** Holds requests until the user signs in again (`loginRequired: 'wait'`). */
  gate: LoginGate;
  /** Holds requests that met a step-up challenge until the stronger sign-in (`login()`), in `'wait'` mode (RFC 9470). */
  stepUpGate: LoginGate;
  mode: LoginRequiredMode;
  isAuthorized: OriginMatcher;
  /** Turns a relative path into an absolute URL (baseUrl, or the page). */
  resolveUrl(input: string): string;
  clock: ServerClock;
  bus: EventBus;
  log: Log;
  errors: ErrorMapper;
  dpop?: Dpop;
  /** A request to an authorized origin counts as activity for the idle timeout. */
  onActivity(): void;
}

/** The auth path's context: its options, and the `Authorization` value built for the last token seen. */
export interface AuthPathContext extends AuthPathOptions {
  /** The token {@link AuthPathContext.bearerHeader} was built for. */
  bearerToken?: string;
  /** `Bearer <bearerToken>`, kept: a header string per request is measurable garbage (bench/overhead.ts). */
  bearerHeader?: string;
}
