/**
 * Mutual exclusion for refreshes. Across tabs a Web Lock (`navigator.locks`) serializes them; where there is none
 * (Node, insecure contexts) a lock per name within this page (or process) still serializes the clients that share
 * a storage name here.
 */

const pageLocks = new Map<string, Promise<unknown>>();

/** Whether Web Locks can be used here: they exist only in secure contexts of browsers and workers. */
export function hasWebLocks(): boolean {
  const locks = (globalThis as { navigator?: { locks?: { request?: unknown } } }).navigator?.locks;
  return typeof locks?.request === 'function';
}

/**
 * Run `fn` while holding the lock `name`. With `crossTab`, a Web Lock when available; always also the in-page
 * lock, so that two clients in one page serialize even without Web Locks.
 */
export async function withLock<T>(name: string, crossTab: boolean, fn: () => Promise<T>): Promise<T> {
  const previous = pageLocks.get(name) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((resolve) => (release = resolve));
  const chain = previous.then(() => mine);
  pageLocks.set(name, chain);
  try {
    await previous.catch(() => undefined);
    if (crossTab && hasWebLocks()) {
      const locks = (globalThis.navigator as Navigator).locks;
      return (await locks.request(name, { mode: 'exclusive' }, fn)) as T;
    }
    return await fn();
  } finally {
    release();
    // Drop the entry when nobody queued behind us, so the map does not grow with every name ever used.
    if (pageLocks.get(name) === chain) pageLocks.delete(name);
  }
}
