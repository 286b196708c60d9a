/**
 * The typed event emitter. mitt supplies the handler registry and its typing; emitting goes through
 * {@link callSafely} because mitt calls handlers synchronously and one throwing handler would stop the rest (and,
 * here, a refresh).
 */
import mitt, { type Emitter, type Handler } from 'mitt';
import type { Log } from './log.js';
import type { AuthEvents, AuthEventType } from './types.js';

/** The client's event bus: mitt's registry (`on`, `off`, `all`) plus an emit that an app's bad listener cannot break. */
export interface EventBus extends Omit<Emitter<AuthEvents>, 'emit'> {
  /**
   * Call every handler of `type`; a handler that throws, or returns a promise that rejects, is reported and the
   * others still run.
   */
  emit<K extends AuthEventType>(type: K, payload: AuthEvents[K]): void;
  /** Whether anyone listens: lets the request path skip building an event payload nobody reads. */
  has(type: AuthEventType): boolean;
}

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

/**
 * Make an event bus.
 * @param log where a throwing listener is reported (the client's logger, `console.error` by default)
 */
export function createEventBus(log: Log): EventBus {
  const bus = mitt<AuthEvents>() as unknown as EventBus;
  bus.emit = (type, payload) => callSafely((bus.all.get(type) ?? []) as Handler<typeof payload>[], payload, log, `"${type}" event`);
  bus.has = (type) => !!bus.all.get(type)?.length;
  return bus;
}
