/**
 * TanStack Query's retry policy, decided from authfetch's typed errors: a 401, 403 or 404 (or an ended session) will
 * answer the same again, so it is not retried; a network failure, a timeout, a 5xx or a 429 may pass next time.
 */
import { isAuthFetchError, isRateLimitError } from 'authfetch';

const TRANSIENT = new Set(['ERR_NETWORK', 'ERR_TIMEOUT', 'ERR_SERVER', 'ERR_RATE_LIMITED']);

/** At most two retries, and only of transient failures. */
export function shouldRetry(failureCount: number, error: unknown): boolean {
  return failureCount < 2 && isAuthFetchError(error) && TRANSIENT.has(error.code);
}

/** Exponential backoff (0.5 s, 1 s), or what the server asked for in `Retry-After` when it was a 429. */
export function retryDelay(failureCount: number, error: unknown): number {
  if (isRateLimitError(error) && error.retryAfterMs !== undefined) return Math.min(error.retryAfterMs, 30_000);
  return Math.min(500 * 2 ** failureCount, 4_000);
}
