/**
 * Where the DPoP key pair lives: in this page's memory, or in IndexedDB (idb-keyval) so that it survives reloads and
 * every tab of the origin signs with the same key (RFC 9449 section 2: the key must outlive the tokens bound to it).
 * The private key is made non-extractable and stored as a CryptoKey (structured-cloneable), so script can use it but
 * never read it out. IndexedDB is allowed to be missing or broken, exactly as for the token storage
 * (`src/storage/indexeddb.ts`): the key then lives in memory and the failure is reported once through `onFallback`.
 *
 * The key is read from IndexedDB once and then kept in memory, so a DPoP request costs no IndexedDB read. The copy is
 * dropped whenever the key can have changed elsewhere: on `rotate()`, on a `{ type: 'rotated', id }` notice on the
 * BroadcastChannel `authfetch:<name>:dpop` (posted by every key store of the name, in any tab, after it stores or
 * deletes a key; never key material), and when the client hears another tab's login or logout (`forget()`).
 */
import { del, get, set, type UseStore } from 'idb-keyval';
import type { TabLock } from '../lib/lock.js';
import { FallbackSignal } from '../storage/fallback.js';
import { idbStore } from '../lib/idb-store.js';
import { randomId } from '../lib/random-id.js';

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
  /** Drop the in-memory copy of a shared key, so the next `get` re-reads it (the key may have changed elsewhere). */
  forget(): void;
  /** See `Dpop.onFallback`. */
  onFallback(listener: (error: unknown) => void): () => void;
}

/**
 * The on-disk layout, which outlives any one version of this code: database `${name}-dpop`, object store `keys`,
 * key `keyPair`. A database of its own because idb-keyval keeps one store per database: adding a second store name to an
 * existing database fails silently, as the upgrade never runs.
 */
const DATABASE_SUFFIX = '-dpop';
const STORE_NAME = 'keys';
const KEY = 'keyPair';

/**
 * What a key store tells the others of its name, in this page and in other tabs: the key changed. `id` is the id of
 * the key now stored, or `null` when it was deleted (rotated; the next use makes a new one). Plain data only.
 * @internal
 */
export interface KeyNotice {
  type: 'rotated';
  id: string | null;
}

function isKeyNotice(value: unknown): value is KeyNotice {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.type === 'rotated' && (typeof v.id === 'string' || v.id === null);
}

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
    forget() {
      // The key lives only here: there is no other copy that could have changed.
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
export function indexedDbKeyStore(name: string, timeoutMs: number, lock: TabLock): KeyStore {
  // The Web Lock that serializes making (and deleting) the key across tabs; the coordinator's is `...:refresh`.
  const lockName = `authfetch:${name}:dpop-key`;
  const memory = memoryKeyStore();
  // Bounded like the token storage's: an open can stay pending forever (a blocked upgrade, some private modes).
  const useIndexedDb = idbStore(name + DATABASE_SUFFIX, STORE_NAME, timeoutMs);
  // Set once, when IndexedDB is given up; from then on the key lives in `memory`. Its first subscriber starts a
  // probe: an app that only listens must learn before its first request that the key will not survive a reload.
  const fallback = new FallbackSignal(() => void keyStore.get().catch(() => undefined));
  // The key this instance last read or made: what the fallback keeps, so IndexedDB breaking mid-session does not
  // change the key (and with it unbind every token).
  let lastKnown: StoredKey | undefined;
  // Concurrent callers (a burst of requests) share one read.
  let reading: Promise<StoredKey> | undefined;
  // The hot path: the key as last read, used without touching IndexedDB until something says it may have changed.
  // A proof made between another tab's rotation and the notice reaching this one still uses the old key; a server
  // that bound the token to the new key answers 401 (`invalid_dpop_proof` / `invalid_token`). That cannot loop: the
  // auth path refreshes and replays once (the notice has usually arrived by then, and the replay's proof is made
  // afresh), and a replay that is refused again is the final answer (`src/auth-path/after-unauthorized.ts`, `finalUnauthorized`).
  let cached: StoredKey | undefined;
  // Bumped whenever the cache is dropped: a read that started before is still returned to its callers but not cached,
  // since it may have read the key the notice announced as replaced.
  let generation = 0;
  // `undefined`: not opened yet; `null`: no BroadcastChannel here, so nothing is cached (every use reads IndexedDB,
  // the only way left to see another tab's rotation at once).
  let channel: BroadcastChannel | null | undefined;

  const fallBack = (error: unknown): void => {
    if (fallback.failure) return;
    if (lastKnown) memory.adopt(lastKnown);
    fallback.fail(error);
  };

  const idb = async <T>(operation: (store: UseStore) => Promise<T>): Promise<T> => {
    try {
      return await useIndexedDb(operation);
    } catch (error) {
      throw new IdbFailure(error);
    }
  };

  const forget = (): void => {
    generation++;
    cached = undefined;
    reading = undefined;
  };

  /** Open the notice channel (once, lazily: `dpop()` opens nothing until used); whether notices can be heard. */
  const listen = (): boolean => {
    if (channel === undefined) {
      channel = null;
      if (typeof BroadcastChannel === 'function') {
        try {
          const opened = new BroadcastChannel(`authfetch:${name}:dpop`);
          opened.onmessage = (event: MessageEvent<unknown>) => {
            // The announced key is the one held already (tabs racing for the first key): nothing to re-read.
            if (isKeyNotice(event.data) && (event.data.id === null || event.data.id !== cached?.id)) forget();
          };
          // Node 20 has BroadcastChannel too: an open one keeps the process alive unless unref'd. There is no dispose
          // on `Dpop` (a key outlives any one client), so the channel lives as long as the page.
          (opened as unknown as { unref?: () => void }).unref?.();
          channel = opened;
        } catch {
          // Left at null: read on every use instead.
        }
      }
    }
    return channel !== null;
  };

  /** Tell the other key stores of this name (other tabs, other `dpop()` instances here) that the key changed. */
  const announce = (id: string | null): void => {
    listen();
    try {
      channel?.postMessage({ type: 'rotated', id } satisfies KeyNotice);
    } catch {
      // A closed channel: the others keep their copy until their next login/logout notice or rotation.
    }
  };

  const load = async (): Promise<StoredKey> => {
    try {
      const found = asStoredKey(await idb((s) => get(KEY, s)));
      if (found) return (lastKnown = found);
      // None yet: make it under a lock and re-read inside it, so tabs racing to make the first key all end up with
      // the one that was stored first rather than each binding tokens to its own.
      return await lock.run(lockName, async () => {
        const again = asStoredKey(await idb((s) => get(KEY, s)));
        if (again) return (lastKnown = again);
        const made = await generateStoredKey();
        lastKnown = made; // kept in memory if storing it fails
        await idb((s) => set(KEY, made, s));
        announce(made.id);
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
      if (cached) return Promise.resolve(cached);
      if (!reading) {
        // Listening starts before the read, so a rotation during the read is heard and the read is not cached.
        const canCache = listen();
        const started = generation;
        const current = load();
        reading = current;
        current
          .then(
            (key) => {
              if (canCache && generation === started && !fallback.failure) cached = key;
            },
            () => undefined,
          )
          .finally(() => {
            if (reading === current) reading = undefined;
          });
      }
      return reading;
    },
    async rotate() {
      lastKnown = undefined;
      forget();
      if (!fallback.failure) {
        try {
          await lock.run(lockName, () => idb((s) => del(KEY, s)));
          announce(null);
          return;
        } catch (error) {
          if (!(error instanceof IdbFailure)) throw error;
          fallBack(error.error);
        }
      }
      await memory.rotate();
    },
    forget,
    onFallback(listener) {
      return fallback.subscribe(listener);
    },
  };
  return keyStore;
}
