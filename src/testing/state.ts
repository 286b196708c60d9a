/**
 * What the test servers share: the token book, the call counts, and the cases a test has switched on (refresh
 * failures, forbidden paths, paths that need a stronger sign-in). The controls of `createTestAuth` change it;
 * the token endpoint and protected API handlers read it per request.
 */
import { TokenBook } from './tokens.js';

/** A refresh failure a test asked for: an HTTP status, or `'network'` for no answer at all. */
export type RefreshFailure = number | 'network';

/** A rule for the paths under `path` (the path itself and everything below it). */
interface PathRule {
  path: string;
}

/** `forbid(path, scope?)`: 403 unless the token has `scope` (always 403 without one). */
export interface ForbidRule extends PathRule {
  scope: string | undefined;
}

/** `requireStepUp(path, acr)`: 401 unless the token's sign-in met one of `acrValues`. */
export interface StepUpRule extends PathRule {
  acrValues: readonly string[];
}

/** The call counts a test reads. */
export interface TestAuthCounts {
  /** Calls of the token endpoint (every grant, successful or not, failures a test asked for included). */
  readonly refresh: number;
  /** Requests that reached the protected API, whatever it answered. */
  readonly api: number;
}

/** Whether `pathname` is `path` or below it (`/admin` covers `/admin` and `/admin/users`, not `/administrator`). */
export function coversPath(path: string, pathname: string): boolean {
  const base = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
  return pathname === base || pathname.startsWith(base === '/' ? '/' : `${base}/`);
}

/** The mutable state behind one `createTestAuth()`. */
export class TestAuthState {
  readonly book = new TokenBook();
  readonly counts = { refresh: 0, api: 0 };
  /** Failures still to be served, in order: each entry answers one token endpoint call. */
  readonly refreshFailures: RefreshFailure[] = [];
  readonly forbidden: ForbidRule[] = [];
  readonly stepUps: StepUpRule[] = [];

  constructor(readonly accessTokenLifetimeMs: number) {}

  /** Back to a fresh server: nothing issued, nothing counted, no case switched on. */
  reset(): void {
    this.book.clear();
    this.counts.refresh = 0;
    this.counts.api = 0;
    this.refreshFailures.length = 0;
    this.forbidden.length = 0;
    this.stepUps.length = 0;
  }
}
