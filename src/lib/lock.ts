/**
 * Mutual exclusion between tabs and between clients of one page, chosen once per client (after auth0-spa-js's
 * `runWithLock`): a refresh, or the first DPoP key, is made by one holder at a time. Web Locks serialize across tabs
 * where they exist (secure contexts of browsers and workers); a lock per name within this page or process is
 * always taken first, so clients of one page queue in memory, and it is all there is in Node. Pages without Web
 * Locks (plain HTTP from a LAN address) can opt in to a fallback such as `indexedDbLease()` (src/storage/lease.ts),
 * which is not in the core bundle unless imported.
 */
import { untilAborted } from './abort.js';
import { webLocks } from './runtime.js';
import { serialized } from './serial.js';

/** A lock for work that one tab (or client) at a time may do. */
export interface TabLock {
  /**
   * Run `fn` while holding the lock `name`. Waiting for the lock ends early when `signal` aborts (the promise then
   * rejects with its reason); once `fn` runs, it runs to the end.
   */
  run<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/**
 * The lock of a client: the in-page lock (a queue per name, shared with every client of this page), then, with
 * `crossTab`, a Web Lock where there is one, else `fallback` (an opt-in cross-tab lock for pages without Web Locks),
 * else nothing more. A waiter whose signal aborts leaves at once; its turn in the queue then passes without running.
 */
export function tabLock(crossTab: boolean, fallback?: TabLock): TabLock {
  return {
    run: <T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> =>
      untilAborted(
        serialized(name, async () => {
          signal?.throwIfAborted();
          // An exclusive lock (the default mode); an absent signal is no signal. Web Locks exist only in secure
          // contexts of browsers and workers.
          const locks = crossTab ? webLocks() : undefined;
          if (locks) return (await locks.request(name, { signal }, fn)) as T;
          return crossTab && fallback ? fallback.run(name, fn, signal) : fn();
        }),
        signal,
      ),
  };
}
