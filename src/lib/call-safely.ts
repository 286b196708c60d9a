/**
 * Calling an app's listeners (events, session changes) so that one that throws, or returns a promise that rejects,
 * cannot stop the others or break what emitted: mitt and a `Set` of listeners call synchronously, in order.
 */
import type { Log } from '../log.js';

/**
 * Call each of `listeners` with `payload`. One that throws, or returns a promise that rejects, is reported to
 * `log.error` as `authfetch: a <name> listener threw` (or `rejected`), and the others still run.
 */
export function callSafely<T>(listeners: Iterable<(payload: T) => unknown>, payload: T, log: Log, name: string): void {
  const report = (what: string, error: unknown) => log.error(`authfetch: a ${name} listener ${what}; the client carries on`, error);
  // Copy: a listener may unsubscribe itself (or others) while we iterate.
  for (const listener of [...listeners]) {
    try {
      // Typed as returning void, but an async listener returns a promise: its rejection is reported here, or it
      // would become an unhandled rejection, which ends a Node process.
      const result = listener(payload) as PromiseLike<unknown> | undefined;
      if (typeof result?.then === 'function') result.then(undefined, (error: unknown) => report('rejected', error));
    } catch (error) {
      report('threw', error);
    }
  }
}
