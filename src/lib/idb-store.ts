/**
 * One idb-keyval store as the token storage and the DPoP key store both use it: the database is created on first
 * use (idb-keyval reads the global `indexedDB` when it opens, so constructing a storage stays safe in Node and during
 * server-side rendering), and every operation is bounded, because browsers can leave an open pending forever (a
 * blocked upgrade, some private modes) and idb-keyval reopens the database lazily after the browser closes a
 * connection, so not only the first call can hang.
 */
import { createStore, type UseStore } from 'idb-keyval';

/** After this long (ms) a pending IndexedDB call counts as unusable, unless `openTimeoutMs` says otherwise. */
const DEFAULT_OPEN_TIMEOUT_MS = 3000;

/**
 * The `openTimeoutMs` option of the IndexedDB stores (tokens and the DPoP key): a positive finite number, else the
 * default of 3 s after which a pending IndexedDB call counts as unusable. @internal
 */
export function openTimeoutFrom(value: number | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : DEFAULT_OPEN_TIMEOUT_MS;
}

/** An operation on the store, run by {@link idbStore}. @internal */
export type IdbOperation = <T>(operation: (store: UseStore) => Promise<T>) => Promise<T>;

/**
 * Run operations on the object store `storeName` of the database `database`: it rejects when there is no IndexedDB
 * here, when opening throws, and when an operation has not answered within `timeoutMs` (a `TimeoutError`
 * DOMException). @internal
 */
export function idbStore(database: string, storeName: string, timeoutMs: number): IdbOperation {
  let store: UseStore | undefined;
  // Async, so a synchronous throw from `indexedDB.open` (idb-keyval lets it escape from get/set; private mode, a
  // blocked context) becomes a rejection like any other failure.
  return async (operation) => {
    if (typeof globalThis.indexedDB === 'undefined') {
      throw new DOMException('IndexedDB is not available here', 'NotSupportedError');
    }
    store ??= createStore(database, storeName);
    return withTimeout(operation(store), timeoutMs);
  };
}

/** Reject when `promise` has not settled within `ms`; the timer is cleared so it never keeps Node alive. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DOMException(`IndexedDB did not answer within ${ms} ms`, 'TimeoutError')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
