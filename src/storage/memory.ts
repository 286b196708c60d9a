/**
 * In-memory token storage: the default. Each tab (and each client) keeps its own session; the `name` still
 * names the BroadcastChannel and the Web Lock, so logout and session end reach every tab.
 */
import { copyTokenSet, isTokenSet } from '../tokens.js';
import type { TokenSet, TokenStorage } from './types.js';

/**
 * The name used when a storage is given none: it scopes the BroadcastChannel, the Web Lock and, for
 * `indexedDbStorage()`, the IndexedDB database.
 * @internal
 */
export const DEFAULT_STORAGE_NAME = 'authfetch';

/** Options of {@link memoryStorage}. */
export interface MemoryStorageOptions {
  /**
   * Scopes what tabs coordinate over: the BroadcastChannel and the Web Lock are named after it, so a logout
   * in one tab still reaches the others even though each keeps its own tokens.
   * @default 'authfetch'
   */
  name?: string;
}

/**
 * Keep the token set in this page's memory only (`shared: false`): it is gone on reload, and other tabs keep
 * their own sessions. It is the most XSS-resistant choice where a backend-for-frontend or a refresh cookie
 * can restore the session after a reload.
 *
 * Values are copied in and out: mutating the object you passed to `set()` or got from `get()` does not change
 * what is stored.
 *
 * This is the client's storage when none is given.
 *
 * @param options - `name` (default `'authfetch'`) scopes the BroadcastChannel and the Web Lock.
 * @example
 * ```ts
 * import { createAuthClient, memoryStorage } from 'authfetch';
 *
 * const auth = createAuthClient({ baseUrl: 'https://api.example.com', storage: memoryStorage({ name: 'my-app' }) });
 * ```
 */
export function memoryStorage(options: MemoryStorageOptions = {}): TokenStorage {
  let stored: TokenSet | undefined;
  return {
    name: options.name ?? DEFAULT_STORAGE_NAME,
    shared: false,
    // Validated on the way out, like every storage: a bad value set by a JS caller reads as signed out.
    get: async () => (isTokenSet(stored) ? copyTokenSet(stored) : undefined),
    set: async (tokens) => {
      stored = copyTokenSet(tokens);
    },
    clear: async () => {
      stored = undefined;
    },
  };
}
