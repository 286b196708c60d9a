/**
 * Wait for `promise` to settle (fulfilled or rejected, the outcome is dropped), but no longer than `ms`. The timer is
 * cleared either way. For work a caller would like to see finish, such as an event whose payload reads a body,
 * without letting a slow one hold the caller.
 *
 * @example
 * ```ts
 * await settledWithin(buildAndEmitEvent(), 200);
 * return response;
 * ```
 */
export function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
