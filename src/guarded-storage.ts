/**
 * The token storage as the coordinator sees it: an app's own storage made safe to read.
 */
import { isTokenSet } from './tokens.js';
import type { TokenStorage } from './types.js';

/**
 * An app's own storage may hand back anything (a corrupted or older-shaped value) or throw synchronously: reads are
 * validated, so such a value means "signed out" rather than a session with no usable token (bad input gets a safe fallback),
 * and every call is made to return a promise, as the coordinator expects.
 */
export function guardStorage(storage: TokenStorage): TokenStorage {
  const guarded: TokenStorage = {
    get name() {
      return storage.name;
    },
    get shared() {
      return storage.shared;
    },
    lockFallback: storage.lockFallback,
    async get() {
      const value: unknown = await storage.get();
      return isTokenSet(value) ? value : undefined;
    },
    async set(tokens) {
      await storage.set(tokens);
    },
    async clear() {
      await storage.clear();
    },
  };
  if (storage.onFallback) guarded.onFallback = (listener) => (storage.onFallback as NonNullable<TokenStorage['onFallback']>).call(storage, listener);
  return guarded;
}
