/**
 * IndexedDB in Node for the storage tests: a fresh fake-indexeddb factory per test (so no test sees another's
 * databases), and the broken IndexedDBs the fallback paths must survive (DESIGN "Storage and tabs": an open that
 * throws, as Firefox private windows and sandboxed iframes do; an open that never answers, as Safari's sometimes
 * does; a put that fails on quota; a read that fails mid-session).
 */
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { afterEach, beforeEach, vi } from 'vitest';

/** The globals the storage code reads; tests swap `indexedDB` for a broken one, or remove it. */
export const fakeIdbGlobals = globalThis as { indexedDB?: unknown; IDBKeyRange?: unknown };

/** Let queued microtasks and timers of 0 ms run (fallbacks are reported asynchronously). */
export const flush = (): Promise<void> => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Give every test of the file a fresh, empty fake IndexedDB, and put back what was there (and undo `vi.spyOn`s on
 * fake-indexeddb's prototypes) after it. Call once at the top level of a test file.
 */
export function useFreshIndexedDb(): void {
  const originalIndexedDb = fakeIdbGlobals.indexedDB;
  const originalKeyRange = fakeIdbGlobals.IDBKeyRange;

  beforeEach(() => {
    fakeIdbGlobals.indexedDB = new IDBFactory();
    fakeIdbGlobals.IDBKeyRange = IDBKeyRange;
  });

  afterEach(() => {
    vi.restoreAllMocks();
    fakeIdbGlobals.indexedDB = originalIndexedDb;
    fakeIdbGlobals.IDBKeyRange = originalKeyRange;
  });
}

/** Install an IndexedDB whose `open` throws `error` synchronously (a SecurityError in a locked-down context). */
export function useThrowingIndexedDb(error: unknown): void {
  fakeIdbGlobals.indexedDB = {
    open() {
      throw error;
    },
  };
}

/** Install an IndexedDB whose `open` never answers; `opens()` says how often it was called. */
export function useHangingIndexedDb(): { opens: () => number } {
  let opens = 0;
  fakeIdbGlobals.indexedDB = {
    open() {
      opens += 1;
      return {}; // an IDBOpenDBRequest that never fires
    },
  };
  return { opens: () => opens };
}

/** Make every put on the fake IndexedDB throw `error` (a QuotaExceededError); undone by `useFreshIndexedDb`. */
export function failPuts(error: unknown): void {
  vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
    throw error;
  });
}

/** Make every read on the fake IndexedDB throw, as a database closed under the page does; undone by `useFreshIndexedDb`. */
export function failGets(): void {
  vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementation(() => {
    throw new DOMException('gone', 'InvalidStateError');
  });
}
