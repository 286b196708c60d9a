/**
 * The sign-in vocabulary shared by `oidc()`, the client and the app: what `signIn`, `handleRedirect` and `logout` take
 * and give, and the ID token claims of `session.user`. No runtime code: the client imports it without loading
 * oauth4webapi.
 */

/**
 * The validated ID token's claims (OpenID Connect Core 1.0 section 2), exposed as `auth.session.user`. Validated at
 * sign-in (section 3.1.3.7: `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`) and again for every ID token a refresh brings.
 */
export interface IdTokenClaims {
  /** Issuer: the provider's issuer identifier. */
  iss: string;
  /** Subject: the user's stable identifier at the provider. */
  sub: string;
  /** Audience: the client id (or a list that contains it). */
  aud: string | string[];
  /** Expiry of the ID token, epoch seconds (the session may outlive it: refreshes keep the access token fresh). */
  exp: number;
  /** When the ID token was issued, epoch seconds. */
  iat: number;
  /** When the user last authenticated, epoch seconds (present when `maxAge` was asked for). */
  auth_time?: number;
  /** Authentication context class reference reached (RFC 9470 step-up compares it with `acrValues`). */
  acr?: string;
  /** Authentication methods used (RFC 8176), e.g. `['pwd', 'otp']`. */
  amr?: string[];
  /** Authorized party, when the token has several audiences. */
  azp?: string;
  /** Standard profile and email claims (OIDC Core 5.1), when the provider puts them in the ID token. */
  name?: string;
  /** The user's email address (scope `email`). */
  email?: string;
  /** Whether the provider verified `email`. */
  email_verified?: boolean;
  /** URL of the user's picture (scope `profile`). */
  picture?: string;
  /** The user's preferred user name (scope `profile`). */
  preferred_username?: string;
  /** Any other claim the provider adds. */
  [claim: string]: unknown;
}

/** Options of `auth.signIn()`. */
export interface SignInOptions {
  /**
   * Sign in in a popup and keep this page (and its held requests) alive; the promise resolves once the tokens are
   * stored. Browsers allow popups only from a user gesture: call it from a click handler, without awaiting before.
   * @default false (the page navigates to the provider and `handleRedirect()` finishes on return)
   */
  popup?: boolean;
  /**
   * Application state carried through the redirect and handed back by `handleRedirect()` (for example the route to
   * return to). It is stored locally, never sent to the provider.
   * @example { state: '/orders/42' }
   */
  state?: string;
  /**
   * RFC 9470 step-up: the authentication context classes to reach, as the `stepUp` event reported them.
   * @example { popup: true, acrValues: ['urn:example:mfa'] }
   */
  acrValues?: string | string[];
  /** RFC 9470 / OIDC Core 3.1.2.1: the most seconds since the user last authenticated (0 forces a fresh login). */
  maxAge?: number;
  /** OIDC Core 3.1.2.1 `prompt`, e.g. `'login'` or `'consent'`. */
  prompt?: string;
  /** OIDC Core 3.1.2.1 `login_hint`: prefill the user name at the provider. */
  loginHint?: string;
  /** More authorization request parameters for this sign-in (they override `extraAuthParams`). */
  extraParams?: Record<string, string>;
  /**
   * Open the authorization URL yourself instead of navigating this page (a redirect sign-in): for a webview or a
   * desktop shell, or a test that drives the provider. Outside a browser page, `signIn()` needs it.
   * @default navigate this page (`location.assign`)
   * @example { openUrl: (url) => shell.openExternal(url) }
   */
  openUrl?: (url: string) => void | Promise<void>;
}

/** What `handleRedirect()` resolves with when the URL was a sign-in response. */
export interface HandleRedirectResult {
  /** The `state` the app passed to `signIn()`, if any. */
  state?: string;
}

/** Options of `auth.logout()`. */
export interface LogoutOptions {
  /**
   * With `oidc()`: after signing out here (and revoking the refresh token), navigate to the provider's end-session
   * endpoint (OpenID Connect RP-Initiated Logout 1.0) with `id_token_hint` and `post_logout_redirect_uri`, so the
   * provider's own session ends too.
   * @default false
   */
  endSession?: boolean;
}
