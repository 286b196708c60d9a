/**
 * One client's interactive sign-in with `oidc()`: starts a redirect or popup sign-in, finishes it on the redirect
 * URI, and signs out with revocation and RP-initiated logout. The protocol steps live in their own modules
 * (authorization-request, transaction, popup, code-exchange, revocation, end-session); this class orders them and
 * hands the tokens to the client's `login()`.
 */
import type * as oauth from 'oauth4webapi';
import { SignInError } from '../errors/index.js';
import type { SignInController, SignInHost } from './hook.js';
import { authorizationCode, createAuthorizationRequest } from './authorization-request.js';
import { exchangeCode } from './code-exchange.js';
import { endSessionUrl } from './end-session.js';
import { unknownState } from './failure.js';
import { idTokenClaims } from './id-token.js';
import { handOverToOpener, mayBePopup, SignInPopup } from './popup.js';
import type { Provider } from './provider.js';
import { revokeTokens } from './revocation.js';
import { TransactionStore, type SignInTransaction } from './transaction.js';
import type { HandleRedirectResult, IdTokenClaims, LogoutOptions, SignInOptions } from './types.js';
import type { TokenSet } from '../types.js';

/** What `oidc()` configured, beyond the provider. */
export interface SignInConfig {
  provider: Provider;
  redirectUri: string;
  scope: string;
  postLogoutRedirectUri?: string;
  extraAuthParams?: Record<string, string>;
}

/** Authorization response parameters removed from the address bar once read (RFC 9207 `iss`, OIDC `session_state`). */
const RESPONSE_PARAMS = ['code', 'state', 'iss', 'session_state', 'error', 'error_description', 'error_uri'];

function browserWindow(): Window | undefined {
  const win = (globalThis as { window?: Window }).window;
  return win !== undefined && typeof win.open === 'function' && win.location !== undefined ? win : undefined;
}

/** The sign-in controller `oidc()` attaches to a client. */
export class OidcSignIn implements SignInController {
  readonly #config: SignInConfig;
  readonly #host: SignInHost;
  readonly #transactions: TransactionStore;
  readonly #channelName: string;
  #popup: SignInPopup | undefined;

  constructor(config: SignInConfig, host: SignInHost) {
    this.#config = config;
    this.#host = host;
    // The channel the popup and its opener talk over, named after the storage; also the transactions' lock.
    this.#channelName = `authfetch:${host.name}:signin`;
    this.#transactions = new TransactionStore(this.#channelName, host.lock);
  }

  signIn(options: SignInOptions = {}): Promise<void> {
    const win = browserWindow();
    try {
      if (!win && (options.popup || !options.openUrl)) throw new TypeError('authfetch: signIn() needs a browser window (or openUrl)');
      // The popup opens synchronously, inside the app's click handler: after an await the browser would block it.
      return options.popup ? this.#signInWithPopup(SignInPopup.open(win as Window), options) : this.#signInWithRedirect(options, win);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async #signInWithRedirect(options: SignInOptions, win: Window | undefined): Promise<void> {
    const { url, transaction } = await this.#authorizationRequest(options);
    this.#transactions.save(transaction, false);
    if (options.openUrl) await options.openUrl(url.href);
    else win?.location.assign(url.href);
  }

  async #signInWithPopup(popup: SignInPopup, options: SignInOptions): Promise<void> {
    // One popup sign-in at a time: a newer one (the window is reused) ends the older one's wait.
    this.#cancelPopup('Replaced by another sign-in');
    this.#popup = popup;
    let transaction: SignInTransaction | undefined;
    try {
      const request = await this.#authorizationRequest(options);
      transaction = request.transaction;
      this.#transactions.save(transaction, true);
      const waiting = popup.waitForResponse(this.#channelName, transaction.state);
      popup.navigate(request.url);
      const params = await waiting;
      const claim = await this.#transactions.claim(transaction.state);
      if (claim.status !== 'claimed') throw unknownState();
      await this.#finish(params, claim.transaction);
    } finally {
      if (transaction) this.#transactions.discard(transaction.state);
      popup.close();
      if (this.#popup === popup) this.#popup = undefined;
    }
  }

  async #authorizationRequest(options: SignInOptions) {
    const as = await this.#metadata();
    return createAuthorizationRequest(as.authorization_endpoint as string, {
      ...options,
      clientId: this.#config.provider.client.client_id,
      redirectUri: this.#config.redirectUri,
      scope: this.#config.scope,
      extraAuthParams: this.#config.extraAuthParams,
      dpop: this.#host.dpop,
    });
  }

  #metadata(): Promise<oauth.AuthorizationServer> {
    return this.#config.provider.metadata(this.#host.fetch, AbortSignal.timeout(this.#host.timeout));
  }

  /** Check the response (RFC 9207 `iss`, the provider's error), exchange the code, sign in. */
  async #finish(params: URLSearchParams, transaction: SignInTransaction): Promise<void> {
    const as = await this.#metadata();
    const { provider } = this.#config;
    const { fetch, timeout, dpop } = this.#host;
    const code = authorizationCode(as, params, transaction.state);
    await this.#host.login(await exchangeCode(code, transaction, { provider, as, fetch, timeout, dpop }));
  }

  async handleRedirect(input?: string): Promise<HandleRedirectResult | undefined> {
    const win = browserWindow();
    const href = input ?? win?.location.href;
    if (href === undefined) throw new TypeError('authfetch: handleRedirect() needs a URL here');
    const url = new URL(href, win?.location.href);
    const params = url.searchParams;
    const state = params.get('state');
    // Only a response on the redirect URI counts: any other page may carry `code` and `state` for its own reasons.
    const expected = new URL(this.#config.redirectUri);
    const onRedirectUri = url.origin === expected.origin && url.pathname === expected.pathname;
    if (!onRedirectUri || !state || (!params.has('code') && !params.has('error'))) return undefined;

    const claim = await this.#transactions.claim(state);
    if (claim.status === 'unknown' && win && mayBePopup(win) && (await handOverToOpener(win, this.#channelName, state, url.search))) {
      return undefined; // a popup: the page that opened it finishes the sign-in, and this window closes
    }
    // Once read, the response leaves the address bar, so a reload or a bookmark cannot replay it.
    if (win && url.href === win.location.href) cleanAddressBar(win, url);
    if (claim.status === 'unknown') throw unknownState();
    // Another tab holding the same URL exchanged the code; its sign-in reaches this tab through the shared storage.
    if (claim.status === 'claimed') await this.#finish(params, claim.transaction);
    const appState = claim.status === 'claimed' ? claim.transaction.appState : claim.appState;
    return appState === undefined ? {} : { state: appState };
  }

  async logout(options: LogoutOptions | undefined, signOutLocally: () => Promise<void>): Promise<void> {
    // A popup sign-in still open would sign the user back in right after this logout.
    this.#cancelPopup('Signed out during the sign-in');
    const tokens = this.#host.tokens();
    // Signed out here and in every tab first: a revocation that fails or hangs never keeps anyone signed in.
    await signOutLocally();
    if (tokens) {
      try {
        await revokeTokens(this.#config.provider, tokens, this.#host.fetch, AbortSignal.timeout(this.#host.timeout));
      } catch (error) {
        this.#host.log.warn('authfetch: revocation failed', error);
      }
    }
    if (options?.endSession) await this.#endSession(tokens);
  }

  async #endSession(tokens: TokenSet | undefined): Promise<void> {
    const win = browserWindow();
    const url = await this.#metadata().then(
      (as) => endSessionUrl(as, { clientId: this.#config.provider.client.client_id, idToken: tokens?.idToken, postLogoutRedirectUri: this.#config.postLogoutRedirectUri }),
      () => undefined,
    );
    // No end-session endpoint, no metadata, or no page to navigate (Node): the provider's session stays.
    if (url && win) win.location.assign(url.href);
    else this.#host.log.warn('authfetch: the provider session was not ended');
  }

  user(tokens: TokenSet | undefined): IdTokenClaims | undefined {
    return idTokenClaims(tokens?.idToken);
  }

  dispose(): void {
    this.#cancelPopup('The client was disposed');
  }

  /** End the wait of a popup sign-in still open (`popup-closed`). */
  #cancelPopup(message: string): void {
    this.#popup?.cancel(new SignInError(message, { reason: 'popup-closed' }));
  }
}

/** Remove the authorization response from the address bar (keeping the rest of the URL and the history entry). */
function cleanAddressBar(win: Window, url: URL): void {
  const clean = new URL(url.href);
  for (const name of RESPONSE_PARAMS) clean.searchParams.delete(name);
  try {
    win.history.replaceState(win.history.state, '', clean.href);
  } catch {
    // A sandboxed document may refuse; the response was claimed anyway and cannot be used twice.
  }
}
