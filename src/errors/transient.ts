/**
 * The one answer to "may the same call succeed if made again later?", used by the refresh retries, by `auth.http`'s
 * retry decision for failures of the auth path, and by the refresh strategies when they type a token endpoint's
 * answer.
 */
import { authFetchCode } from './guards.js';
import { isTransientStatus } from './http.js';
import { readProperty } from '../lib/read-property.js';

/**
 * Whether `error` is a failure that a later attempt of the same call may not meet: no response (`NetworkError`),
 * except an answer that could not be parsed (action `contact-support`), no response in time (`TimeoutError`), 5xx (`ServerError`), 429 (`RateLimitError`), and 408 / 425 (`HttpError`).
 * Everything else (a refusal, an unusable answer, a session that ended, anything not authfetch's) is not.
 *
 * @example
 * ```ts
 * if (isTransient(error)) scheduleRetry();
 * ```
 */
export function isTransient(error: unknown): boolean {
  const code = authFetchCode(error);
  // An answer that could not be parsed is typed NetworkError (there is no Response to give) but is no connection
  // problem: its action says so, and a retry would meet the same answer.
  if (code === 'ERR_NETWORK') return readProperty(error, 'action') !== 'contact-support';
  if (code !== 'ERR_HTTP') return code === 'ERR_TIMEOUT' || code === 'ERR_SERVER' || code === 'ERR_RATE_LIMITED';
  const status = readProperty(error, 'status');
  return typeof status === 'number' && isTransientStatus(status);
}
