/**
 * The DPoP (RFC 9449) surface the rest of the library codes against. The implementation (`dpop()` in
 * `src/dpop/key.ts`) is the only module that imports jose's signing code, so an app that never calls `dpop()`
 * does not ship it.
 */
import type { DpopSteps } from '../auth-path/dpop-steps.js';

/** Options of one DPoP proof. */
export interface DpopProofOptions {
  /** The access token the proof accompanies: adds `ath` (base64url SHA-256 of the token). */
  accessToken?: string;
  /** The server's `DPoP-Nonce`; when omitted, the nonce last received from the URL's origin is used. */
  nonce?: string;
}

/** A DPoP key and the proofs made with it; pass it as the `dpop` option of `createAuthClient`. */
export interface Dpop {
  /** A signed DPoP proof JWT for one request (`htu` without query or fragment; `ath` when a token is given). */
  proof(method: string, url: string, options?: DpopProofOptions): Promise<string>;
  /** The RFC 7638 JWK thumbprint of the public key: the `dpop_jkt` authorization request parameter. */
  thumbprint(): Promise<string>;
  /** The key pair; its private key is non-extractable. */
  keyPair(): Promise<CryptoKeyPair>;
  /** Remember a `DPoP-Nonce` a server sent, per origin (RFC 9449 section 8). */
  rememberNonce(url: string, nonce: string): void;
  /** The last nonce received from the URL's origin. */
  nonceFor(url: string): string | undefined;
  /** Forget the key (a new one is made on next use); `logout()` calls it when `rotateOnLogout` is set. */
  rotate(): Promise<void>;
  /** Whether `logout()` should rotate the key. */
  readonly rotateOnLogout: boolean;
  /**
   * Subscribe to the key store giving up on IndexedDB (missing, failing, or hanging) and keeping the key in memory,
   * so it will not survive a reload. Called at most once, always asynchronously, also when subscribing after it
   * happened; subscribing starts loading the key so the app learns early. `createAuthClient` forwards it as the
   * `storageFallback` event. Returns an unsubscribe function.
   */
  onFallback?(listener: (error: unknown) => void): () => void;
  /**
   * Drop the in-memory copy of the key so the next use re-reads it from storage. The client calls it when another tab
   * signs in or out: that sign-in may have been made with a key rotated there, whose notice has not arrived yet.
   * @internal
   */
  forgetCachedKey?(): void;
  /**
   * The auth path's DPoP-only steps (src/auth-path/dpop-steps.ts): members of the object `dpop()` returns, not imports
   * of the auth path, so an app without `dpop()` ships none of their code. Always set by `dpop()`.
   * @internal
   */
  attach?: DpopSteps['attach'];
  /** @internal see {@link Dpop.attach} */
  receive?: DpopSteps['receive'];
}
