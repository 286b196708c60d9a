/**
 * The client's "the session may have changed" subscription. `auth.session` also changes where no event is emitted
 * (the stored session read at start, a refresh starting and settling), and UI bindings must re-read it then. The
 * key is a registry symbol, so `authfetch/react` (a bundle of its own, or another copy of the package) finds it.
 */
export const SUBSCRIBE_SESSION: unique symbol = Symbol.for('authfetch.subscribeSession');

/** Subscribe to session changes; returns the unsubscribe function. The listener takes no argument: re-read `session`. */
export type SubscribeSession = (listener: () => void) => () => void;

/** A client that offers the subscription (clients of this package do; it is not part of `AuthClient`'s type). */
export interface SessionSignalSource {
  [SUBSCRIBE_SESSION]?: SubscribeSession;
}
