/**
 * `useSession()`: `auth.session` as React state, through `useSyncExternalStore`. `auth.session` is a fresh object
 * at every read, while React compares snapshots by identity and re-renders (or, during render, loops) on every new
 * one; so each client gets one store that hands out the same object until the session's data really changes.
 */
import { useSyncExternalStore } from 'react';
import type { AuthClient, AuthEventType, AuthSession } from 'authfetch';
import { SUBSCRIBE_SESSION, type SessionSignalSource } from '../lib/session-signal.js';
import { useAuth } from './context.js';

/**
 * What the server renders, and what the first (hydrating) render in the browser shows: tokens live in the browser
 * (memory, IndexedDB), which a server never sees, so the only session both can agree on is "signed out". The
 * browser's real session replaces it right after hydration.
 */
const SERVER_SESSION: AuthSession = Object.freeze({ status: 'signed-out' });

/** The events after which `session` may read differently (for a client that offers no session subscription). */
const SESSION_EVENTS = ['login', 'refresh', 'refreshError', 'logout', 'sessionExpired'] as const satisfies readonly AuthEventType[];

/**
 * Structural equality of plain data (the session: strings, numbers, and the ID token's claims, parsed from JSON and
 * so free of cycles). No depth limit: answering "different" for equal data would hand React a new snapshot at every
 * read, which is the render loop this store exists to prevent.
 */
function sameData(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every(
    (key) => Object.prototype.hasOwnProperty.call(b, key) && sameData((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}

interface SessionStore {
  subscribe(onChange: () => void): () => void;
  getSnapshot(): AuthSession;
}

/** One store per client, shared by every component that reads it, so they all see the same snapshot object. */
const stores = new WeakMap<AuthClient, SessionStore>();

function storeOf(client: AuthClient): SessionStore {
  let store = stores.get(client);
  if (store) return store;
  let snapshot: AuthSession | undefined;
  store = {
    subscribe(onChange) {
      const subscribe = (client as AuthClient & SessionSignalSource)[SUBSCRIBE_SESSION];
      if (subscribe) return subscribe(onChange);
      // A client without the subscription (a hand-made stand-in): the events are the next best signal.
      const offs = SESSION_EVENTS.map((type) => client.on(type, onChange));
      return () => offs.forEach((off) => off());
    },
    getSnapshot() {
      const next = client.session;
      if (snapshot === undefined || !sameData(snapshot, next)) snapshot = next;
      return snapshot;
    },
  };
  stores.set(client, store);
  return store;
}

const serverSnapshot = () => SERVER_SESSION;

/**
 * The session of the nearest `<AuthProvider>`'s client: `{ status, expiresAt?, user? }`. The component re-renders
 * when it changes: sign-in, refresh (start and end), logout, the session's end, and all of these in other tabs.
 * The same object comes back until something changed, so it can go into dependency arrays and `memo` props.
 *
 * On the server, and in the first render of a hydrating page, it is `{ status: 'signed-out' }` (a server cannot see
 * the browser's tokens). In the browser, a stored session reads as `'signed-out'` for the moment it takes to load it.
 *
 * @example
 * ```tsx
 * function Header() {
 *   const session = useSession();
 *   return session.status === 'active' ? <UserMenu /> : <SignInButton />;
 * }
 * ```
 */
export function useSession(): AuthSession {
  const store = storeOf(useAuth());
  return useSyncExternalStore(store.subscribe, store.getSnapshot, serverSnapshot);
}
