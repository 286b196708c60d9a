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
import { idbStore, type IdbOperation } from '../lib/idb-store.js';
import { randomId } from '../lib/random-id.js';
import { unref } from '../lib/runtime.js';

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

/** Make a new ES256 key pair; only the private key is non-extractable (WebCrypto always makes public keys extractable). */
export async function generateStoredKey(): Promise<StoredKey> {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!subtle) throw new DOMException('authfetch: DPoP needs crypto.subtle (https or localhost only)', 'NotSupportedError');
  const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  return { id: randomId(), privateKey: pair.privateKey, publicKey: pair.publicKey };
}

/** Whether a stored value is a P-256 ECDSA key of this type that may be used this way. */
function isKey(value: unknown, type: KeyType, usage: KeyUsage): value is CryptoKey {
  const key = value as Partial<CryptoKey> | null | undefined;
  const algorithm = key?.algorithm as Partial<EcKeyAlgorithm> | undefined;
  return key?.type === type && algorithm?.name === 'ECDSA' && algorithm.namedCurve === 'P-256' && key.usages?.includes(usage) === true;
}

/** A stored value that is not a usable key pair (corrupted, an older shape) reads as none, and is replaced. */
function asStoredKey(value: unknown): StoredKey | undefined {
  const key = value as Partial<Record<keyof StoredKey, unknown>> | undefined;
  // As stored by this module: { id, privateKey, publicKey }.
  return typeof key?.id === 'string' && isKey(key.privateKey, 'private', 'sign') && isKey(key.publicKey, 'public', 'verify')
    ? (key as StoredKey)
    : undefined;
}

/** The memory key store (`keyStorage: 'memory'`, and what the IndexedDB store falls back to). @internal */
export function memoryKeyStore(): KeyStore & { adopt(key: StoredKey): void } {
  let key: Promise<StoredKey> | undefined;
  return {
    get() {
      if (!key) {
        const made = (key = generateStoredKey());
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
    // The key lives only here: there is no other copy that could have changed.
    forget() {},
    adopt(existing) {
      key = Promise.resolve(existing);
    },
    // Memory never falls back.
    onFallback: () => () => undefined,
  };
}

/**
 * What an IndexedDB operation of the key store throws once the store has fallen back to memory: told apart from a
 * WebCrypto failure, which must reach the caller rather than switch to memory.
 */
const FELL_BACK = Symbol();

/** The IndexedDB key store (`keyStorage: 'indexeddb'`, the default). Opens nothing until first used. @internal */
export class IndexedDbKeyStore implements KeyStore {
  // The BroadcastChannel of the key's notices, `authfetch:<name>:dpop`.
  readonly #channelName: string;
  readonly #lock: TabLock;
  // Bounded like the token storage's: an open can stay pending forever (a blocked upgrade, some private modes).
  readonly #idb: IdbOperation;
  // Holds the key this instance last read or made (adopted each time), so that IndexedDB breaking mid-session does
  // not change the key (and with it unbind every token): after the fallback, the key lives here.
  readonly #memory = memoryKeyStore();
  // Set once, when IndexedDB is given up. Its first subscriber starts a probe: an app that only listens must learn
  // before its first request that the key will not survive a reload.
  readonly #fallback = new FallbackSignal(() => void this.get().catch(() => undefined));
  // The read in flight, shared by concurrent callers (a burst of requests), and then the hot path: the key as last
  // read, used without touching IndexedDB until something says it may have changed. A proof made between another
  // tab's rotation and the notice reaching this one still uses the old key; a server that bound the token to the new
  // key answers 401 (`invalid_dpop_proof` / `invalid_token`). That cannot loop: the auth path refreshes and replays
  // once (the notice has usually arrived by then, and the replay's proof is made afresh), and a replay that is
  // refused again is the final answer (`src/auth-path/after-unauthorized.ts`).
  #current: Promise<StoredKey> | undefined;
  // The id of the key `#current` holds once its read was kept.
  #currentId: string | undefined;
  // Bumped whenever `#current` is dropped: a read that started before is still returned to its callers but neither
  // kept (it may have read the key the notice announced as replaced) nor allowed to drop a newer read.
  #generation = 0;
  // `undefined`: not opened yet; `null`: no BroadcastChannel here, so no read is kept (every use reads IndexedDB,
  // the only way left to see another tab's rotation at once).
  #channel: BroadcastChannel | null | undefined;

  constructor(name: string, timeoutMs: number, lock: TabLock) {
    this.#channelName = `authfetch:${name}:dpop`;
    this.#lock = lock;
    this.#idb = idbStore(name + DATABASE_SUFFIX, STORE_NAME, timeoutMs);
  }

  get(): Promise<StoredKey> {
    return this.#fallback.failure ? this.#memory.get() : (this.#current ??= this.#read());
  }

  async rotate(): Promise<void> {
    this.forget();
    // The memory copy goes too (now, and again if deleting falls back), so that a fallback makes a new key rather
    // than bringing the old one back.
    void this.#memory.rotate();
    if (!this.#fallback.failure) {
      try {
        await this.#locked(() => this.#run((s) => del(KEY, s)));
        this.#announce(null);
        return;
      } catch (error) {
        if (error !== FELL_BACK) throw error;
      }
    }
    await this.#memory.rotate();
  }

  forget(): void {
    this.#generation++;
    this.#current = this.#currentId = undefined;
  }

  onFallback(listener: (error: unknown) => void): () => void {
    return this.#fallback.subscribe(listener);
  }

  /** Read (or make) the key; kept as `#current` unless the key may have changed meanwhile. */
  async #read(): Promise<StoredKey> {
    // Listening starts before the read, so a rotation during the read is heard and the read is not kept.
    const canKeep = this.#listen();
    const started = this.#generation;
    let key: StoredKey | undefined;
    try {
      return (key = await this.#load());
    } finally {
      if (this.#generation === started) {
        if (key && canKeep && !this.#fallback.failure) this.#currentId = key.id;
        else this.#current = undefined;
      }
    }
  }

  /** The stored key, else a new one made under the lock; the memory key once IndexedDB fails. */
  async #load(): Promise<StoredKey> {
    try {
      // None yet: make it under a lock and re-read inside it, so tabs racing to make the first key all end up with
      // the one that was stored first rather than each binding tokens to its own.
      return (await this.#stored()) ?? (await this.#locked(async () => (await this.#stored()) ?? this.#make()));
    } catch (error) {
      if (error !== FELL_BACK) throw error;
      return this.#memory.get();
    }
  }

  async #stored(): Promise<StoredKey | undefined> {
    const found = asStoredKey(await this.#run((s) => get(KEY, s)));
    if (found) this.#keep(found);
    return found;
  }

  async #make(): Promise<StoredKey> {
    const made = await generateStoredKey();
    this.#keep(made); // kept in memory if storing it fails
    await this.#run((s) => set(KEY, made, s));
    this.#announce(made.id);
    return made;
  }

  /** Adopt a key read or made into the memory store, the key a fallback goes on with; settled once it happened. */
  #keep(key: StoredKey): void {
    if (!this.#fallback.failure) this.#memory.adopt(key);
  }

  /** Under the Web Lock that serializes making (and deleting) the key across tabs; the coordinator's is `...:refresh`. */
  #locked<T>(task: () => Promise<T>): Promise<T> {
    return this.#lock.run(`${this.#channelName}-key`, task);
  }

  /** An IndexedDB operation; when it fails, the store gives up on IndexedDB (the first failure wins). */
  async #run<T>(operation: (store: UseStore) => Promise<T>): Promise<T> {
    try {
      return await this.#idb(operation);
    } catch (error) {
      this.#fallback.fail(error);
      throw FELL_BACK;
    }
  }

  /** Open the notice channel (once, lazily: `dpop()` opens nothing until used); whether notices can be heard. */
  #listen(): boolean {
    if (this.#channel === undefined) {
      // Left at null where there is no BroadcastChannel or it cannot open: read on every use instead.
      this.#channel = null;
      try {
        const channel = new BroadcastChannel(this.#channelName);
        channel.onmessage = ({ data }: MessageEvent<Partial<KeyNotice> | null>) => {
          // The announced key is the one held already (tabs racing for the first key): nothing to re-read.
          if (data?.type === 'rotated' && (data.id === null || (typeof data.id === 'string' && data.id !== this.#currentId))) this.forget();
        };
        // Node 20 has BroadcastChannel too: an open one keeps the process alive unless unref'd. There is no dispose
        // on `Dpop` (a key outlives any one client), so the channel lives as long as the page.
        unref(channel);
        this.#channel = channel;
      } catch {
        // see above
      }
    }
    return this.#channel !== null;
  }

  /** Tell the other key stores of this name (other tabs, other `dpop()` instances here) that the key changed. */
  #announce(id: string | null): void {
    this.#listen();
    try {
      this.#channel?.postMessage({ type: 'rotated', id } satisfies KeyNotice);
    } catch {
      // A closed channel: the others keep their copy until their next login/logout notice or rotation.
    }
  }
}
