/**
 * How the client finds the sign-in behind its refresh strategy without importing it: `oidc()` returns a strategy
 * that carries a function under {@link SIGN_IN}; the client calls it once with what sign-in needs from the client.
 * This module holds no protocol code, so an app that never imports `oidc()` ships no oauth4webapi.
 */
import type { Dpop } from '../dpop/types.js';
import type { TabLock } from '../lib/lock.js';
import type { Log } from '../log.js';
import type { TokenSet } from '../types.js';
import type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './types.js';

/** The key under which a strategy offers interactive sign-in. */
export const SIGN_IN: unique symbol = Symbol.for('authfetch.signIn');

/** What the client gives its sign-in. */
export interface SignInHost {
  /** The client's underlying fetch (no token attached). */
  fetch: typeof fetch;
  /** Bounds each call to the provider, in ms. */
  timeout: number;
  dpop?: Dpop;
  /** The storage name: scopes the stored sign-in transactions, their lock and channel. */
  name: string;
  /** The client's kind of lock (Web Locks across tabs where there are some): one tab claims a sign-in answer. */
  lock: TabLock;
  log: Log;
  /** Store the tokens of a completed sign-in (the client's `login`). */
  login(tokens: TokenSet): Promise<void>;
  /** The current token set. */
  tokens(): TokenSet | undefined;
}

/** The client-facing side of `oidc()`. */
export interface SignInController {
  /** `auth.signIn()`: must open a popup synchronously, within the caller's user gesture. */
  signIn(options?: SignInOptions): Promise<void>;
  /** `auth.handleRedirect()`. */
  handleRedirect(url?: string): Promise<HandleRedirectResult | undefined>;
  /** Sign out: `signOutLocally` clears every tab; the controller adds revocation and the end-session redirect. */
  logout(options: LogoutOptions | undefined, signOutLocally: () => Promise<void>): Promise<void>;
  /** The ID token claims of these tokens, or `undefined`. */
  user(tokens: TokenSet | undefined): IdTokenClaims | undefined;
  /** The client is disposed: a popup sign-in still waiting ends. */
  dispose(): void;
}

/** A strategy that also signs users in. */
export interface SignInCapable {
  [SIGN_IN](host: SignInHost): SignInController;
}

/** The sign-in behind a strategy, attached to this client, or `undefined` for strategies without one. */
export function attachSignIn(strategy: unknown, host: SignInHost): SignInController | undefined {
  if (typeof strategy !== 'object' || strategy === null || !(SIGN_IN in strategy)) return undefined;
  const attach = (strategy as SignInCapable)[SIGN_IN];
  return typeof attach === 'function' ? attach.call(strategy, host) : undefined;
}
