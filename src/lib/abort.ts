/**
 * Abort-aware waits: waiting on something shared (a refresh in flight, a lock, a backoff pause) ends when the
 * waiter's own signal aborts, without cancelling what is waited on for the others.
 */

/**
 * Wait for `promise` unless `signal` aborts first (the result then rejects with the signal's reason). The promise
 * itself is left running: other callers may be waiting on it too.
 *
 * @example
 * ```ts
 * const tokens = await untilAborted(refreshInFlight, request.signal);
 * ```
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * Resolve after `ms`, or at once when `signal` aborts (it never rejects: the caller checks the signal). The timer is
 * cleared either way, so it never keeps Node alive. For backoff pauses between attempts.
 *
 * @example
 * ```ts
 * await sleep(backoff, signal);
 * if (signal.aborted) return;
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    if (signal?.aborted) done();
    else signal?.addEventListener('abort', done, { once: true });
  });
}
