/**
 * Where the DPoP key pair lives: in this page's memory, or in IndexedDB (idb-keyval) so that it survives reloads and
 * every tab of the origin signs with the same key (RFC 9449 section 2: the key must outlive the tokens bound to it).
 * The private key is made non-extractable and stored as a CryptoKey (structured-cloneable), so script can use it but
 * never read it out. IndexedDB is allowed to be missing or broken, exactly as for the token storage
 * (`src/storage/indexeddb.ts`): the key then lives in memory and the failure is reported once through `onFallback`.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { withLock } from '../refresh/lock.js';
import { FallbackSignal } from '../storage/fallback.js';
import { withTimeout } from '../storage/indexeddb.js';
import { randomId } from './proof.js';

/**
 * A key pair as it is stored. `id` changes whenever the key does, so a tab can tell cheaply that another tab rotated
 * the key without comparing keys.
 * @internal
 */
export interface StoredKey {
  id: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** @internal */
export interface KeyStore {
  /** The current key pair, made (once, even when tabs race) if there is none. */
  get(): Promise<StoredKey>;
  /** Forget the key; the next `get` makes a new one. */
  rotate(): Promise<void>;
  /** See `Dpop.onFallback`. */
  onFallback(listener: (error: unknown) => void): () => void;
}

/**
 * The on-disk layout, which outlives any one version of this code: database `${name}-dpop`, object store `keys`,
 * key `keyPair`. A database of its own because idb-keyval keeps one store per database (PLATFORM-NOTES).
 */
const DATABASE_SUFFIX = '-dpop';
const STORE_NAME = 'keys';
const KEY = 'keyPair';

/** Make a new ES256 key pair; only the private key is non-extractable (WebCrypto always makes public keys extractable). */
export async function generateStoredKey(): Promise<StoredKey> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) {
    throw new DOMException(
      'authfetch: DPoP needs WebCrypto (crypto.subtle), which browsers offer only in secure contexts (https, localhost)',
      'NotSupportedError',
    );
  }
  const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  return { id: randomId(), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** A stored value that is not a usable key pair (corrupted, an older shape) reads as none, and is replaced. */
function asStoredKey(value: unknown): StoredKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<Record<keyof StoredKey, unknown>>;
  const isKey = (key: unknown, type: KeyType, usage: KeyUsage): key is CryptoKey => {
    if (typeof key !== 'object' || key === null) return false;
    const k = key as Partial<CryptoKey>;
    const algorithm = k.algorithm as Partial<EcKeyAlgorithm> | undefined;
    return k.type === type && algorithm?.name === 'ECDSA' && algorithm.namedCurve === 'P-256' && k.usages?.includes(usage) === true;
  };
  if (typeof v.id !== 'string' || !isKey(v.privateKey, 'private', 'sign') || !isKey(v.publicKey, 'public', 'verify')) {
    return undefined;
  }
  return { id: v.id, privateKey: v.privateKey, publicKey: v.publicKey };
}

/** The memory key store (`keyStorage: 'memory'`, and what the IndexedDB store falls back to). @internal */
export function memoryKeyStore(): KeyStore & { adopt(key: StoredKey): void } {
  let key: Promise<StoredKey> | undefined;
  return {
    get() {
      if (!key) {
        const made = generateStoredKey();
        key = made;
        // A failed generation is not remembered: the next use tries again.
        made.catch(() => {
          if (key === made) key = undefined;
        });
      }
      return key;
    },
    async rotate() {
      key = undefined;
    },
    adopt(existing) {
      key = Promise.resolve(existing);
    },
    onFallback() {
      // Memory never falls back.
      return () => undefined;
    },
  };
}

/** An IndexedDB failure, told apart from a WebCrypto one (which must reach the caller, not switch to memory). */
class IdbFailure {
  constructor(readonly error: unknown) {}
}

/** The IndexedDB key store (`keyStorage: 'indexeddb'`, the default). Opens nothing until first used. @internal */
export function indexedDbKeyStore(name: string, timeoutMs: number): KeyStore {
  // The Web Lock that serializes making (and deleting) the key across tabs; the coordinator's is `...:refresh`.
  const lockName = `authfetch:${name}:dpop-key`;
  const memory = memoryKeyStore();
  let store: UseStore | undefined;
  // Set once, when IndexedDB is given up; from then on the key lives in `memory`. Its first subscriber starts a
  // probe: an app that only listens must learn before its first request that the key will not survive a reload.
  const fallback = new FallbackSignal(() => void keyStore.get().catch(() => undefined));
  // The key this instance last read or made: what the fallback keeps, so IndexedDB breaking mid-session does not
  // change the key (and with it unbind every token).
  let lastKnown: StoredKey | undefined;
  // Concurrent callers (a burst of requests) share one read.
  let reading: Promise<StoredKey> | undefined;

  const fallBack = (error: unknown): void => {
    if (fallback.failure) return;
    if (lastKnown) memory.adopt(lastKnown);
    fallback.fail(error);
  };

  const idb = async <T>(operation: (store: UseStore) => Promise<T>): Promise<T> => {
    try {
      if (typeof globalThis.indexedDB === 'undefined') {
        throw new DOMException('IndexedDB is not available here', 'NotSupportedError');
      }
      // Created on first use: idb-keyval reads the global `indexedDB` when it opens, and a synchronous throw from
      // `indexedDB.open` escapes get/set (PLATFORM-NOTES); inside this async function it becomes a rejection.
      store ??= createStore(name + DATABASE_SUFFIX, STORE_NAME);
      // Bounded: an open can stay pending forever (a blocked upgrade, some private modes).
      return await withTimeout(operation(store), timeoutMs);
    } catch (error) {
      throw new IdbFailure(error);
    }
  };

  const load = async (): Promise<StoredKey> => {
    try {
      const found = asStoredKey(await idb((s) => get(KEY, s)));
      if (found) return (lastKnown = found);
      // None yet: make it under a lock and re-read inside it, so tabs racing to make the first key all end up with
      // the one that was stored first rather than each binding tokens to its own.
      return await withLock(lockName, true, async () => {
        const again = asStoredKey(await idb((s) => get(KEY, s)));
        if (again) return (lastKnown = again);
        const made = await generateStoredKey();
        lastKnown = made; // kept in memory if storing it fails
        await idb((s) => set(KEY, made, s));
        return made;
      });
    } catch (error) {
      if (!(error instanceof IdbFailure)) throw error;
      fallBack(error.error);
      return memory.get();
    }
  };

  const keyStore: KeyStore = {
    get() {
      if (fallback.failure) return memory.get();
      // Read on every use (one small IndexedDB get, shared by concurrent callers) rather than cached: another tab may
      // have rotated the key, and a proof made with a stale key would be refused for tokens bound to the new one.
      if (!reading) {
        const current = load();
        reading = current;
        current
          .finally(() => {
            if (reading === current) reading = undefined;
          })
          .catch(() => undefined);
      }
      return reading;
    },
    async rotate() {
      lastKnown = undefined;
      reading = undefined;
      if (!fallback.failure) {
        try {
          await withLock(lockName, true, () => idb((s) => del(KEY, s)));
          return;
        } catch (error) {
          if (!(error instanceof IdbFailure)) throw error;
          fallBack(error.error);
        }
      }
      await memory.rotate();
    },
    onFallback(listener) {
      return fallback.subscribe(listener);
    },
  };
  return keyStore;
}
