/**
 * Abort-aware waits: waiting on something shared (a refresh in flight, a lock) ends when the
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
  return signal
    ? new Promise<T>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      })
    : promise;
}
