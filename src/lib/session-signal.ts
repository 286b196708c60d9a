/**
 * The client's "the session may have changed" subscription. `auth.session` also changes where no event is emitted
 * (the stored session read at start, a refresh starting and settling), and UI bindings must re-read it then. The
 * key is a registry symbol, so `authfetch/react` (a bundle of its own, or another copy of the package) finds it.
 */
import { callSafely } from './call-safely.js';
import type { Log } from '../log.js';

/** The key of the subscription on a client (see the module comment). */
export const SUBSCRIBE_SESSION: unique symbol = Symbol.for('authfetch.subscribeSession');

/** Subscribe to session changes; returns the unsubscribe function. The listener takes no argument: re-read `session`. */
export type SubscribeSession = (listener: () => void) => () => void;

/** A client that offers the subscription (clients of this package do; it is not part of `AuthClient`'s type). */
export interface SessionSignalSource {
  [SUBSCRIBE_SESSION]?: SubscribeSession;
}

/** The client's side of the subscription: `notify` tells every listener, `subscribe` is what UI bindings get. */
export interface SessionSignal {
  notify(): void;
  subscribe: SubscribeSession;
  clear(): void;
}

/**
 * Make the session-change signal. A listener that throws is reported to `log.error` and the others still run: a UI
 * binding's bug must not break the client.
 */
export function createSessionSignal(log: Log): SessionSignal {
  const listeners = new Set<() => void>();
  return {
    notify: () => callSafely(listeners, undefined, log, 'session'),
    subscribe: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    clear: () => listeners.clear(),
  };
}
