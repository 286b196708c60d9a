/**
 * The "IndexedDB gave up, now in memory" signal that the token storage and the DPoP key store both raise.
 * Its rules (README "Storage": `storageFallback` fires asynchronously, never during `createAuthClient`): each
 * listener hears the failure once, always in a later microtask, also when it subscribes after the fact; and the
 * first subscription starts a probe, so an app that only listens learns of an unusable IndexedDB before its
 * first request.
 * @internal
 */

/** One store's fallback state and its listeners. @internal */
export class FallbackSignal {
  /** Set once, when IndexedDB is given up. */
  failure: { error: unknown } | undefined;
  /** One entry per subscription (the same listener subscribed twice is two), each calling its listener at most once. */
  #pending = new Set<(error: unknown) => void>();
  /** Touches IndexedDB once, so that a failure is found without waiting for real use; dropped once started. */
  #probe: (() => void) | undefined;

  constructor(probe: () => void) {
    this.#probe = probe;
  }

  /** Give up on IndexedDB (the first call wins) and tell every listener. */
  fail(error: unknown): void {
    if (this.failure) return;
    // idb-keyval rejects with `request.error`, which is null for an aborted transaction; keep an Error.
    this.failure = { error: error ?? new DOMException('IndexedDB aborted the transaction', 'AbortError') };
    for (const notify of this.#pending) this.#tell(notify);
    this.#pending.clear();
  }

  /** Subscribe; returns the unsubscribe function. */
  subscribe(listener: (error: unknown) => void): () => void {
    let done = false;
    const notify = (error: unknown) => {
      if (done) return;
      done = true;
      try {
        listener(error);
      } catch {
        // A listener's bug must not become an unhandled exception inside the store; the client's emitter
        // reports its own handlers' errors.
      }
    };
    if (this.failure) {
      this.#tell(notify);
    } else {
      this.#pending.add(notify);
      const probe = this.#probe;
      this.#probe = undefined;
      probe?.();
    }
    return () => {
      done = true;
      this.#pending.delete(notify);
    };
  }

  #tell(notify: (error: unknown) => void): void {
    const error = this.failure?.error;
    // Always a later microtask: the client subscribes inside createAuthClient, and the app must be able to
    // attach its storageFallback listener right after creating the client and still hear it.
    queueMicrotask(() => notify(error));
  }
}
