/**
 * `Retry-After` (RFC 9110 section 10.2.3) in ms: delta-seconds or an HTTP-date. A date is measured against the
 * response's own `Date` header when present, so that a skewed local clock does not stretch or shrink the wait.
 *
 * @example
 * ```ts
 * retryAfterMs(new Headers({ 'retry-after': '3' })); // 3000
 * ```
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) {
    // A run of digits long enough is Infinity: no wait to speak of.
    const ms = Number(value) * 1000;
    return ms < Infinity ? ms : undefined;
  }
  // Only something that starts like an HTTP-date ("Sun, 06 Nov 1994 ...", "Sunday, 06-Nov-94 ...",
  // "Sun Nov  6 ..."): Date.parse alone accepts fragments such as "1 2".
  const at = /^[A-Za-z]{3}/.test(value) ? Date.parse(value) : NaN;
  const serverNow = Date.parse(headers.get('date') ?? '');
  return Number.isNaN(at) ? undefined : Math.max(0, at - (Number.isNaN(serverNow) ? Date.now() : serverNow));
}

/** The headers ky reads a retry delay from, in its order (ky 1.14 `Ky.#calculateRetryDelay`). */
const KY_RETRY_HEADERS = 'retry-after ratelimit-reset x-ratelimit-retry-after x-ratelimit-reset x-rate-limit-reset'.split(' ');
/** ky reads a number at or past this (in ms) as a point in time rather than a delay: 2024-01-01T00:00:00Z. */
const KY_TIMESTAMP_THRESHOLD = 1_704_067_200_000;

/**
 * The delay ky will wait before retrying a response, read exactly as ky 1.14 reads it: the first of `Retry-After`,
 * `RateLimit-Reset`, `X-RateLimit-Retry-After`, `X-RateLimit-Reset`, `X-Rate-Limit-Reset`; seconds (`Number()`,
 * so `1e3` too), a large number as an epoch time, else an HTTP-date. `undefined` when there is no such header, `NaN`
 * when ky cannot read it: ky then waits its whole `maxRetryAfter`, which is why the caller must know.
 *
 * @example
 * ```ts
 * kyRetryDelayMs(new Headers({ 'retry-after': 'abc' })); // NaN
 * ```
 */
export function kyRetryDelayMs(headers: Headers): number | undefined {
  const value = KY_RETRY_HEADERS.map((name) => headers.get(name)).find((found) => found !== null);
  if (!value) return undefined;
  let after = Number(value) * 1000;
  if (Number.isNaN(after)) after = Date.parse(value) - Date.now();
  else if (after >= KY_TIMESTAMP_THRESHOLD) after -= Date.now();
  return after;
}
