/**
 * The token storage as the coordinator sees it: an app's own storage made safe to read.
 */
import { isTokenSet } from './tokens.js';
import type { TokenStorage } from './types.js';

/**
 * An app's own storage may hand back anything (a corrupted or older-shaped value) or throw synchronously: reads are
 * validated, so such a value means "signed out" rather than a session with no usable token (bad input gets a safe fallback),
 * and every call is made to return a promise, as the coordinator expects. `name` is read once (the client names its
 * channel and locks after it at creation); `shared` at each read, since a storage may change it on falling back.
 */
export function guardStorage(storage: TokenStorage): TokenStorage {
  return {
    name: storage.name,
    get shared() {
      return storage.shared;
    },
    lockFallback: storage.lockFallback,
    get: async () => {
      const value: unknown = await storage.get();
      return isTokenSet(value) ? value : undefined;
    },
    set: async (tokens) => {
      await storage.set(tokens);
    },
    clear: async () => {
      await storage.clear();
    },
    onFallback: storage.onFallback?.bind(storage),
  };
}
