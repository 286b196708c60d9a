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
    const ms = Number(value) * 1000;
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Only something that starts like an HTTP-date ("Sun, 06 Nov 1994 ...", "Sunday, 06-Nov-94 ...",
  // "Sun Nov  6 ..."): Date.parse alone accepts fragments such as "1 2".
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  const serverNow = Date.parse(headers.get('date') ?? '');
  return Math.max(0, at - (Number.isNaN(serverNow) ? Date.now() : serverNow));
}
