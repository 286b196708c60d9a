/**
 * The IndexedDB lease: an opt-in cross-tab lock for pages without Web Locks (`indexedDbLease()`). It is acquired by
 * compare-and-set inside one IndexedDB transaction (transactions on one store are serialized across the tabs of an
 * origin) and held only while it is renewed, so a tab that dies holding it blocks the others for at most
 * `LEASE_TTL_MS`.
 */
import type { TabLock } from '../lib/lock.js';
import { randomId } from '../lib/random-id.js';
import { isBrowserOrWorker } from '../lib/runtime.js';


/**
 * The lease layout, shared by every tab (and every version of this code running in them) of an origin, so it must
 * not change lightly: database `authfetch-locks`, object store `leases`, key = the lock name, value `Lease`.
 * @internal
 */
export const LEASE_DATABASE = 'authfetch-locks';
/** The object store of `LEASE_DATABASE` that holds one `Lease` per lock name. @internal */
export const LEASE_STORE = 'leases';
/**
 * How long a lease lasts unless renewed. The holder renews it every `LEASE_RENEW_MS` while its refresh runs (a
 * refresh can legitimately outlive any fixed bound: `timeout` times the retries), so only a holder that stopped
 * running (closed, crashed, frozen) loses it. Long enough that a background tab's throttled timers (about one per
 * second in Chromium) renew it in time; short enough that a dead holder costs the others seconds, not minutes.
 * @internal
 */
export const LEASE_TTL_MS = 10_000;
const LEASE_RENEW_MS = 2_000;
/** An IndexedDB open that has not answered by then counts as unusable (the storage uses the same bound). */
const LEASE_OPEN_TIMEOUT_MS = 3_000;
/** Polling backoff while another tab holds the lease; its release is also announced, which wakes waiters at once. */
const POLL_FIRST_MS = 15;
const POLL_MAX_MS = 250;

/** What the `leases` store holds per lock name. @internal */
export interface Lease {
  /** A random id of the holding lock request. */
  owner: string;
  /** Epoch ms after which the lease is free for anyone. */
  expiresAt: number;
}

/** Only where tabs exist: Node keeps the in-page lock (even when a test installs a fake IndexedDB there). */
function canUseLease(): boolean {
  const idb = (globalThis as { indexedDB?: unknown }).indexedDB;
  return isBrowserOrWorker() && typeof idb === 'object' && idb !== null;
}

/**
 * A cross-tab lock kept in IndexedDB, for pages without Web Locks (served over plain HTTP from a LAN address: Web
 * Locks exist only in secure contexts). Opt in where such pages matter; elsewhere it costs bundle size for nothing.
 * Give it as `lockFallback` to `indexedDbStorage()` (refreshes) and `dpop()` (the first key), which then serialize
 * across tabs without Web Locks too. Where IndexedDB is unusable as well, only the in-page lock remains.
 *
 * @example
 * ```ts
 * const lease = indexedDbLease();
 * const auth = createAuthClient({
 *   storage: indexedDbStorage({ lockFallback: lease }),
 *   dpop: dpop({ lockFallback: lease }),
 * });
 * ```
 */
export function indexedDbLease(): TabLock {
  return {
    async run<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
      if (!canUseLease()) return fn();
      let held: HeldLease;
      try {
        held = await acquireLease(name, signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        // IndexedDB is unusable as well (blocked, private mode, an open that hangs): the in-page lock is all there
        // is, and the token storage has fallen back to memory for the same reason, so tabs no longer share tokens.
        return fn();
      }
      try {
        return await fn();
      } finally {
        await held.release();
      }
    },
  };
}

interface HeldLease {
  release(): Promise<void>;
}

let leaseDb: Promise<IDBDatabase> | undefined;

function openLeaseDb(): Promise<IDBDatabase> {
  leaseDb ??= new Promise<IDBDatabase>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new DOMException(`IndexedDB did not answer within ${LEASE_OPEN_TIMEOUT_MS} ms`, 'TimeoutError')),
      LEASE_OPEN_TIMEOUT_MS,
    );
    const done = () => clearTimeout(timer);
    // `indexedDB.open` may throw synchronously (blocked contexts): the Promise constructor turns it into a rejection.
    const request = indexedDB.open(LEASE_DATABASE, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(LEASE_STORE)) request.result.createObjectStore(LEASE_STORE);
    };
    request.onsuccess = () => {
      done();
      const db = request.result;
      // Another tab upgrading, or the browser closing the connection: open afresh next time.
      const forget = () => {
        db.close();
        leaseDb = undefined;
      };
      db.onversionchange = forget;
      db.onclose = forget;
      resolve(db);
    };
    request.onerror = () => {
      done();
      reject(request.error ?? new DOMException('IndexedDB refused to open the lock database', 'UnknownError'));
    };
    request.onblocked = () => undefined; // version 1 never waits on an older connection
  });
  const opening = leaseDb;
  opening.catch(() => {
    if (leaseDb === opening) leaseDb = undefined;
  });
  return opening;
}

/**
 * Compare-and-set in one readwrite transaction: read the lease, and write ours when `claim` says so. Resolves with
 * whether ours was written, once the transaction has committed (so another tab's next transaction sees it).
 */
function compareAndSet(db: IDBDatabase, name: string, owner: string, claim: (lease: Lease | undefined, now: number) => boolean): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    // Relaxed durability: a lease lost in a crash is exactly a lease that must not survive one.
    const tx = db.transaction(LEASE_STORE, 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore(LEASE_STORE);
    let written = false;
    const read = store.get(name);
    read.onsuccess = () => {
      const now = Date.now();
      const lease = isLease(read.result) ? read.result : undefined;
      if (claim(lease, now)) {
        store.put({ owner, expiresAt: now + LEASE_TTL_MS } satisfies Lease, name);
        written = true;
      }
    };
    tx.oncomplete = () => resolve(written);
    tx.onerror = () => reject(tx.error ?? new DOMException('The lease transaction failed', 'UnknownError'));
    tx.onabort = () => reject(tx.error ?? new DOMException('The lease transaction was aborted', 'AbortError'));
  });
}

function removeIfOwned(db: IDBDatabase, name: string, owner: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const tx = db.transaction(LEASE_STORE, 'readwrite', { durability: 'relaxed' });
    const store = tx.objectStore(LEASE_STORE);
    const read = store.get(name);
    read.onsuccess = () => {
      if (isLease(read.result) && read.result.owner === owner) store.delete(name);
    };
    // A failed release costs the others at most the lease's remaining time.
    tx.oncomplete = tx.onerror = tx.onabort = () => resolve();
  });
}

async function acquireLease(name: string, signal: AbortSignal | undefined): Promise<HeldLease> {
  const db = await openLeaseDb();
  const owner = randomId();
  // A holder announces its release so that waiters need not wait for their next poll.
  const announce = typeof BroadcastChannel === 'function' ? new BroadcastChannel(`authfetch-lease:${name}`) : undefined;
  let wake: (() => void) | undefined;
  if (announce) announce.onmessage = () => wake?.();
  const free = (lease: Lease | undefined, now: number) => lease === undefined || lease.expiresAt <= now || lease.owner === owner;
  try {
    for (let delay = POLL_FIRST_MS; !(await compareAndSet(db, name, owner, free)); delay = Math.min(POLL_MAX_MS, delay * 2)) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        // Jitter, so that waiters woken together do not retry in lockstep.
        const timer = setTimeout(done, delay / 2 + Math.random() * delay);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        }
        wake = done;
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  } catch (error) {
    announce?.close();
    throw error;
  }
  announce?.close();

  // Renew while held; a renewal that finds the lease taken (we were frozen past its expiry) leaves it to the taker.
  const renew = setInterval(() => {
    compareAndSet(db, name, owner, (lease) => lease?.owner === owner).catch(() => undefined);
  }, LEASE_RENEW_MS);
  return {
    async release() {
      clearInterval(renew);
      await removeIfOwned(db, name, owner).catch(() => undefined);
      if (typeof BroadcastChannel === 'function') {
        const channel = new BroadcastChannel(`authfetch-lease:${name}`);
        channel.postMessage('released');
        channel.close();
      }
    },
  };
}

function isLease(value: unknown): value is Lease {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.owner === 'string' && typeof v.expiresAt === 'number';
}
