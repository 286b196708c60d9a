/**
 * `dpop()`: sender-constrained tokens (RFC 9449). One ES256 key pair per `name`, kept in IndexedDB where it can be
 * (`key-store.ts`), and a fresh signed proof per request (`proof.ts`). Nothing runs at import: the module only
 * defines functions, so bundlers drop it, jose's signing code and idb-keyval when `dpop()` is not called.
 */
import { dpopSteps } from '../auth-path/dpop-steps.js';
import { tabLock, type TabLock } from '../lib/lock.js';
import { originOf } from '../origins.js';
import { openTimeoutFrom } from '../lib/idb-store.js';
import { DEFAULT_STORAGE_NAME } from '../storage/memory.js';
import { IndexedDbKeyStore, memoryKeyStore, type KeyStore } from './key-store.js';
import { jwkThumbprint, publicJwk, signProof, type KeyMaterial } from './proof.js';
import type { Dpop, DpopProofOptions } from './types.js';

/** Options of {@link dpop}. */
export interface DpopOptions {
  /**
   * Where the key pair lives. `'indexeddb'`: it survives reloads and every tab of the origin shares it (tokens stay
   * usable after a reload); where IndexedDB is unusable the key is kept in memory and the client emits
   * `storageFallback`. `'memory'`: gone on reload, never touches IndexedDB (Node, workers without IndexedDB, or an app
   * that signs in again on every load).
   * @default 'indexeddb'
   */
  keyStorage?: 'indexeddb' | 'memory';
  /**
   * One key per name: the IndexedDB database is `${name}-dpop` and the Web Lock that makes the key once across tabs is
   * `authfetch:${name}:dpop-key`. Use the name of your token storage.
   * @default 'authfetch'
   */
  name?: string;
  /** `logout()` forgets the key, so the next sign-in binds its tokens to a new one. @default false */
  rotateOnLogout?: boolean;
  /**
   * Advanced (mostly for tests): how long, in ms, IndexedDB may take to answer before the key moves to memory.
   * @default 3000
   */
  openTimeoutMs?: number;
  /**
   * Makes the first key once across tabs where Web Locks are missing (pages over plain HTTP from a LAN address):
   * pass `indexedDbLease()`. Without it, tabs racing there for the first key may each make one (the last stored wins).
   * @default none
   */
  lockFallback?: TabLock;
}

/**
 * Make (or load) the DPoP key for sender-constrained tokens (RFC 9449) and pass it as the `dpop` option of
 * `createAuthClient`. Synchronous and cheap: nothing is opened or generated until a member is first used.
 *
 * The key is an ES256 (P-256) pair made with WebCrypto; its private key is non-extractable, so script can sign with
 * it but never read it. With `keyStorage: 'indexeddb'` it is kept as a CryptoKey in the IndexedDB database
 * `${name}-dpop` and made once even when tabs race (a Web Lock, then a re-read). It is read once and kept in memory;
 * a key rotated in another tab (or by another `dpop()` of the same name) is announced on the BroadcastChannel
 * `authfetch:${name}:dpop`, and the next use re-reads it.
 *
 * The client then sends tokens as `Authorization: DPoP <token>` with a fresh proof (`ath` bound to the token) unless
 * their `tokenType` is `Bearer`; remembers `DPoP-Nonce` per origin; retries a `use_dpop_nonce` challenge once without
 * refreshing; and `oauth2Refresh` sends proofs to the token endpoint. For the sign-in itself, send
 * `dpop_jkt: await key.thumbprint()` with the authorization request and a `key.proof('POST', tokenEndpoint)` with the
 * code exchange.
 *
 * @example
 * ```ts
 * import { createAuthClient, dpop, indexedDbStorage, oauth2Refresh } from 'authfetch';
 *
 * const key = dpop({ name: 'my-app' });
 * const auth = createAuthClient({
 *   baseUrl: 'https://api.example.com',
 *   storage: indexedDbStorage({ name: 'my-app' }),
 *   refresh: oauth2Refresh({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'my-spa' }),
 *   dpop: key,
 * });
 * ```
 */
export function dpop(options: DpopOptions = {}): Dpop {
  const keyStorage = options.keyStorage ?? 'indexeddb';
  const name = options.name ?? DEFAULT_STORAGE_NAME;
  if (keyStorage !== 'indexeddb' && keyStorage !== 'memory') throw new TypeError("authfetch: dpop keyStorage must be 'indexeddb' or 'memory'");
  if (typeof name !== 'string' || !name) throw new TypeError('authfetch: dpop name must be a non-empty string');
  const store: KeyStore =
    keyStorage === 'memory' ? memoryKeyStore() : new IndexedDbKeyStore(name, openTimeoutFrom(options.openTimeoutMs), tabLock(true, options.lockFallback));

  // RFC 9449 section 8/9: a nonce belongs to the server that issued it; the authorization server and each resource
  // server keep their own. Keyed by origin (`originOf` gives undefined for a URL without one, never a stored key).
  const nonces = new Map<string | undefined, string>();
  let material: (KeyMaterial & { thumbprint?: string }) | undefined;

  /** The key to sign with, and its public JWK, exported once per key (not per proof). */
  const current = async (): Promise<KeyMaterial & { thumbprint?: string }> => {
    const { id, privateKey, publicKey } = await store.get();
    if (material?.id === id) return material;
    return (material = { id, keyPair: { privateKey, publicKey }, jwk: await publicJwk(publicKey) });
  };

  const nonceFor = (url: string): string | undefined => nonces.get(originOf(url));

  return {
    ...dpopSteps,
    rotateOnLogout: options.rotateOnLogout ?? false,
    async proof(method: string, url: string, proofOptions: DpopProofOptions = {}): Promise<string> {
      return signProof(await current(), method, url, { accessToken: proofOptions.accessToken, nonce: proofOptions.nonce ?? nonceFor(url) });
    },
    async thumbprint(): Promise<string> {
      const key = await current();
      // RFC 7638 over the required EC members, SHA-256, base64url: the `jkt` of `cnf` and of `dpop_jkt`.
      return (key.thumbprint ??= await jwkThumbprint(key.jwk));
    },
    async keyPair(): Promise<CryptoKeyPair> {
      return (await current()).keyPair;
    },
    rememberNonce(url: string, nonce: string): void {
      const origin = originOf(url);
      if (origin !== undefined && typeof nonce === 'string' && nonce !== '') nonces.set(origin, nonce);
    },
    nonceFor,
    async rotate(): Promise<void> {
      material = undefined;
      await store.rotate();
    },
    forgetCachedKey: () => store.forget(),
    onFallback: (listener) => store.onFallback(listener),
  };
}
