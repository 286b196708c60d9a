/**
 * The typed event emitter. mitt supplies the handler registry and its typing; emitting goes through `emitSafely`
 * because mitt calls handlers synchronously and one throwing handler would stop the rest (and, here, a refresh).
 */
import mitt, { type Emitter, type Handler } from 'mitt';
import type { AuthEvents, AuthEventType } from './types.js';

/** The client's event bus: mitt's registry plus an emit that an app's bad listener cannot break. */
export interface EventBus {
  on<K extends AuthEventType>(type: K, handler: Handler<AuthEvents[K]>): () => void;
  off<K extends AuthEventType>(type: K, handler?: Handler<AuthEvents[K]>): void;
  /**
   * Call every handler of `type`; a handler that throws, or returns a promise that rejects, is reported and the
   * others still run.
   */
  emit<K extends AuthEventType>(type: K, payload: AuthEvents[K]): void;
  /** Whether anyone listens: lets the request path skip building an event payload nobody reads. */
  has(type: AuthEventType): boolean;
  clear(): void;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Make an event bus.
 * @param report where a throwing listener is reported (the client's logger, `console.error` by default)
 */
export function createEventBus(report: (message: string, error: unknown) => void): EventBus {
  const emitter: Emitter<AuthEvents> = mitt<AuthEvents>();
  return {
    on(type, handler) {
      emitter.on(type, handler);
      return () => emitter.off(type, handler);
    },
    off(type, handler) {
      emitter.off(type, handler);
    },
    emit(type, payload) {
      const handlers = emitter.all.get(type);
      if (!handlers || handlers.length === 0) return;
      // Copy: a handler may unsubscribe itself (or others) while we iterate.
      for (const handler of [...handlers] as Handler<AuthEvents[typeof type]>[]) {
        try {
          // Typed as returning void, but an async listener returns a promise: its rejection is reported here, or it
          // would become an unhandled rejection, which ends a Node process.
          const result = (handler as (event: AuthEvents[typeof type]) => unknown)(payload);
          if (isThenable(result)) {
            result.then(undefined, (error: unknown) => report(`authfetch: a "${type}" event listener rejected; the client carries on`, error));
          }
        } catch (error) {
          report(`authfetch: a "${type}" event listener threw; the client carries on`, error);
        }
      }
    },
    has(type) {
      const handlers = emitter.all.get(type);
      return handlers !== undefined && handlers.length > 0;
    },
    clear() {
      emitter.all.clear();
    },
  };
}
