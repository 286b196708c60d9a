/**
 * The "IndexedDB gave up, now in memory" signal that the token storage and the DPoP key store both raise.
 * Its rules (README "Storage": `storageFallback` fires asynchronously, never during `createAuthClient`): each
 * listener hears the failure once, always in a later microtask, also when it subscribes after the fact; and the
 * first subscription starts a probe, so an app that only listens learns of an unusable IndexedDB before its
 * first request.
 * @internal
 */

interface Subscription {
  listener: (error: unknown) => void;
  done: boolean;
}

/** One store's fallback state and its listeners. @internal */
export class FallbackSignal {
  /** Set once, when IndexedDB is given up. */
  failure: { error: unknown } | undefined;
  #subscriptions = new Set<Subscription>();
  #probeStarted = false;

  /** @param probe touches IndexedDB once, so that a failure is found without waiting for real use */
  constructor(private readonly probe: () => void) {}

  /** Give up on IndexedDB (the first call wins) and tell every listener. Returns false if it already had. */
  fail(error: unknown): boolean {
    if (this.failure) return false;
    // idb-keyval rejects with `request.error`, which is null for an aborted transaction; keep an Error.
    this.failure = { error: error ?? new DOMException('IndexedDB aborted the transaction', 'AbortError') };
    for (const subscription of this.#subscriptions) this.#notify(subscription);
    this.#subscriptions.clear();
    return true;
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: (error: unknown) => void): () => void {
    const subscription: Subscription = { listener, done: false };
    if (this.failure) {
      this.#notify(subscription);
    } else {
      this.#subscriptions.add(subscription);
      if (!this.#probeStarted) {
        this.#probeStarted = true;
        this.probe();
      }
    }
    return () => {
      subscription.done = true;
      this.#subscriptions.delete(subscription);
    };
  }

  #notify(subscription: Subscription): void {
    const error = this.failure?.error;
    // Always a later microtask: the client subscribes inside createAuthClient, and the app must be able to
    // attach its storageFallback listener right after creating the client and still hear it.
    queueMicrotask(() => {
      if (subscription.done) return;
      subscription.done = true;
      try {
        subscription.listener(error);
      } catch {
        // A listener's bug must not become an unhandled exception inside the store; the client's emitter
        // reports its own handlers' errors.
      }
    });
  }
}
