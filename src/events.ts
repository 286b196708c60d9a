/**
 * The typed event emitter. mitt supplies the handler registry and its typing; emitting goes through
 * {@link callSafely} because mitt calls handlers synchronously and one throwing handler would stop the rest (and,
 * here, a refresh).
 */
import mitt, { type Emitter, type Handler } from 'mitt';
import { callSafely } from './lib/call-safely.js';
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
 * Make an event bus.
 * @param log where a throwing listener is reported (the client's logger, `console.error` by default)
 */
export function createEventBus(log: Log): EventBus {
  const bus = mitt<AuthEvents>() as unknown as EventBus;
  bus.emit = (type, payload) => callSafely((bus.all.get(type) ?? []) as Handler<typeof payload>[], payload, log, `"${type}" event`);
  bus.has = (type) => !!bus.all.get(type)?.length;
  return bus;
}
