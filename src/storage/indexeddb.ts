/**
 * IndexedDB token storage (idb-keyval): tokens survive a reload and every tab of the origin shares them.
 * IndexedDB is allowed to be missing or broken (Node, SSR, private modes, blocked or quota-exceeded
 * databases, opens that never answer); the storage then keeps tokens in memory and says so once through
 * `onFallback`, and never throws at the app.
 */
import { del, get, set, type UseStore } from 'idb-keyval';
import { idbStore, openTimeoutFrom } from '../lib/idb-store.js';
import type { TabLock } from '../lib/lock.js';
import { copyTokenSet, isTokenSet } from '../tokens.js';
import { FallbackSignal } from './fallback.js';
import { DEFAULT_STORAGE_NAME, memoryStorage } from './memory.js';
import type { TokenSet, TokenStorage } from './types.js';

/**
 * The on-disk layout, which outlives any one version of this code, so it must not change lightly:
 * database `${name}-tokens`, object store `tokens`, key `tokenSet`. The suffix is there because idb-keyval keeps
 * one store per database (a second store name added to an existing database is silently never created), so the
 * DPoP key lives in its own database `${name}-dpop`; it also keeps clear of an app database called `name`.
 */
const DATABASE_SUFFIX = '-tokens';
const STORE_NAME = 'tokens';
const KEY = 'tokenSet';

/** Options of {@link indexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /**
   * Scopes everything tabs share: the IndexedDB database (`${name}-tokens`), the BroadcastChannel and the Web
   * Lock. Storages with the same name in one origin read and write the same tokens.
   * @default 'authfetch'
   */
  name?: string;
  /**
   * Advanced (mostly for tests): how long, in ms, IndexedDB may take to answer before it is considered unusable
   * and tokens move to memory. Browsers can leave an open pending forever (a blocked upgrade, some private
   * modes), and a request must never wait on that. Every operation is bounded by it, not only the first,
   * because idb-keyval reopens the database lazily after the browser closes a connection.
   * @default 3000
   */
  openTimeoutMs?: number;
  /**
   * Serializes refreshes across tabs where Web Locks are missing (pages served over plain HTTP from a LAN
   * address): pass `indexedDbLease()`. Opt-in, so that apps that never run there do not ship it.
   * @default none: without Web Locks, refreshes are serialized within the page only
   */
  lockFallback?: TabLock;
}

/**
 * Keep the token set in IndexedDB (`shared: true`): it survives reloads and every tab of the origin (and every
 * client in this page) over the same `name` reads the same tokens, which is what lets tabs share one session.
 *
 * Nothing is opened until the first `get`/`set`/`clear` (or the first `onFallback` subscription, which probes),
 * so constructing it is safe in Node and during server-side rendering.
 *
 * When IndexedDB is missing or fails (an open that throws, a request that errors, an open that hangs beyond
 * `openTimeoutMs`), the storage switches to memory for good: the value being set, or the last value it knew,
 * is carried over, `shared` becomes `false`, and `onFallback` listeners hear the error once, asynchronously
 * (also when they subscribe after it happened). `get`/`set`/`clear` never throw because of IndexedDB.
 * A stored value that is not a token set (corrupted, an older shape) reads as `undefined`.
 *
 * @param options - `name` (default `'authfetch'`) scopes the database `${name}-tokens`, the BroadcastChannel and
 *   the Web Lock; `openTimeoutMs` (default `3000`) is advanced.
 * @example
 * ```ts
 * import { createAuthClient, indexedDbStorage } from 'authfetch';
 *
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.com',
 *   storage: indexedDbStorage({ name: 'my-app' }),
 * });
 * auth.on('storageFallback', ({ error }) => console.warn('Sessions will not survive a reload', error));
 * ```
 */
export function indexedDbStorage(options: IndexedDbStorageOptions = {}): TokenStorage {
  const name = options.name ?? DEFAULT_STORAGE_NAME;
  const timeoutMs = openTimeoutFrom(options.openTimeoutMs);
  const memory = memoryStorage({ name });

  // Set once, when IndexedDB is given up; from then on every operation goes to `memory`.
  const fallback = new FallbackSignal(() => void storage.get().catch(() => undefined));
  // The last value this instance read from or wrote to IndexedDB: what the fallback starts from, so that
  // IndexedDB breaking mid-session (a closed connection that cannot reopen) does not sign the user out.
  let lastKnown: TokenSet | undefined;
  // Operations run one at a time, so the switch to memory happens between two of them and a slow failing
  // `set` cannot land after a later `clear` that already fell back.
  let queue: Promise<unknown> = Promise.resolve();

  const fallBack = async (error: unknown): Promise<void> => {
    if (fallback.failure) return;
    // Carry the last value over before anyone hears of the fallback (and reads from memory).
    if (lastKnown !== undefined) await memory.set(lastKnown);
    fallback.fail(error);
  };

  const useIndexedDb = idbStore(name + DATABASE_SUFFIX, STORE_NAME, timeoutMs);

  const run = <T>(operation: (store: UseStore) => Promise<T>, inMemory: () => Promise<T>): Promise<T> => {
    const result = queue.then(async () => {
      if (!fallback.failure) {
        try {
          return await useIndexedDb(operation);
        } catch (error) {
          await fallBack(error);
        }
      }
      // Redone in memory, so a failing `set` keeps the value it was given.
      return inMemory();
    });
    queue = result.catch(() => undefined);
    return result;
  };

  const storage: TokenStorage = {
    name,
    ...(options.lockFallback ? { lockFallback: options.lockFallback } : {}),
    get shared() {
      return fallback.failure === undefined;
    },
    get: () =>
      run(
        async (s) => {
          const value: unknown = await get(KEY, s);
          lastKnown = isTokenSet(value) ? copyTokenSet(value) : undefined;
          return lastKnown && copyTokenSet(lastKnown);
        },
        () => memory.get(),
      ),
    set(tokens) {
      const value = copyTokenSet(tokens);
      return run(
        async (s) => {
          await set(KEY, value, s);
          lastKnown = isTokenSet(value) ? value : undefined;
        },
        () => memory.set(value),
      );
    },
    clear: () =>
      run(
        async (s) => {
          await del(KEY, s);
          lastKnown = undefined;
        },
        () => memory.clear(),
      ),
    onFallback: (listener) => fallback.subscribe(listener),
  };
  return storage;
}
