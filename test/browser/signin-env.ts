/**
 * What the sign-in browser tests share: the sign-in test page (test/browser/signin-page/, served with the package's
 * build next to the example app), a real provider (oidc-provider, its development login form) with the page
 * registered as a public client, and a protected API that validates the provider's tokens. Browser-neutral: the
 * Chromium (playwright-core) and Firefox (puppeteer-core) suites drive the same page through {@link BrowserPage}.
 */
import path from 'node:path';
import { rmSync } from 'node:fs';
import { startExampleServer, type ExampleServer } from '../../examples/server/index.mjs';
import { repoRoot, spaStaticMounts } from '../../examples/spa/mounts.mjs';
import { startOidcProvider, type OidcHarness, type OidcHarnessOptions, type ResourceServer } from '../helpers/oidc.js';

/** The step-up acr the provider offers and the API's `/mfa` paths demand (RFC 9470). */
export const MFA = 'urn:authfetch:mfa';

/** The page's configuration (read by test/browser/signin-page/page.js). */
export interface PageConfig {
  issuer: string;
  clientId: string;
  redirectUri: string;
  postLogoutRedirectUri: string;
  api: string;
  loginRequired?: 'wait' | 'reject';
  dpop?: boolean;
  /** Options for the page's `signIn()` buttons (e.g. `{ prompt: 'consent' }`). */
  signIn?: Record<string, unknown>;
}

/** The servers of one suite. */
export interface SignInEnv {
  server: ExampleServer;
  op: OidcHarness;
  api: ResourceServer;
  /** The redirect URI: the page itself. */
  pageUrl: string;
  /** The page's URL carrying a configuration (the defaults, with `overrides`). */
  pageWith(overrides?: Partial<PageConfig>): string;
  close(): Promise<void>;
}

/** Start the page's server, then the provider (whose client registration needs the page's origin), then the API. */
export async function startSignInEnv(options: Pick<OidcHarnessOptions, 'dpop'> = {}): Promise<SignInEnv> {
  const mounts: Record<string, string> = { ...(await spaStaticMounts()), '/signin/': path.join(repoRoot, 'test/browser/signin-page') };
  const server = await startExampleServer({ static: mounts });
  const pageUrl = `${server.url}/signin/`;
  const op = await startOidcProvider({
    ...options,
    acrValues: ['urn:authfetch:pwd', MFA],
    // The login reaches the acr the sign-in asked for (in real life: a second factor).
    loginResult: (accountId, params) => ({ accountId, acr: typeof params.acr_values === 'string' ? params.acr_values : 'urn:authfetch:pwd' }),
    clients: [
      {
        client_id: 'browser-spa',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [pageUrl],
        post_logout_redirect_uris: [`${pageUrl}?signed-out`],
        id_token_signed_response_alg: 'ES256',
      },
    ],
  });
  const api = await op.startResourceServer({ stepUpAcr: MFA });
  const defaults: PageConfig = {
    issuer: op.issuer,
    clientId: 'browser-spa',
    redirectUri: pageUrl,
    postLogoutRedirectUri: `${pageUrl}?signed-out`,
    api: api.url,
    // oidc-provider grants offline_access (a refresh token) only with an explicit consent.
    signIn: { prompt: 'consent' },
  };
  return {
    server,
    op,
    api,
    pageUrl,
    pageWith: (overrides = {}) => `${pageUrl}?config=${encodeURIComponent(JSON.stringify({ ...defaults, ...overrides }))}`,
    async close() {
      await op.close();
      await server.close();
      rmSync(mounts['/vendor/'] as string, { recursive: true, force: true });
    },
  };
}

/** The few page operations the suites need, implemented for playwright-core and puppeteer-core. */
export interface BrowserPage {
  url(): string;
  goto(url: string): Promise<void>;
  click(selector: string): Promise<void>;
  type(selector: string, text: string): Promise<void>;
  /** Resolves once `selector` is in the page. */
  waitFor(selector: string): Promise<void>;
  evaluate<T>(fn: string): Promise<T>;
  isClosed(): boolean;
}

/** What `window.t.signIn` / `window.t.redirect` / `window.t.call()` settle with in the page. */
export type Outcome = { ok: true; value?: unknown; data?: unknown } | { ok: false; name?: string; code?: string; reason?: string; oauthError?: string; userMessage?: string; action?: string };

/** Wait until the page's script ran (`window.t`). */
export async function pageReady(page: BrowserPage): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await page.evaluate<boolean>('typeof window.t === "object"').catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`the sign-in page did not start at ${page.url()}`);
}

/**
 * Go through the provider's development forms in `page` as a person would: the login form (any password), then the
 * consent form where it appears, until the page leaves the provider (or, for a popup, closes, or `done()` says so).
 */
export async function logInAtProvider(page: BrowserPage, issuer: string, account = 'alice', done = () => false): Promise<void> {
  let seenProvider = false;
  let loggedIn = false;
  for (let i = 0; i < 400; i++) {
    if (page.isClosed() || done()) return;
    const url = page.url();
    if (url.startsWith(issuer)) seenProvider = true;
    else if (seenProvider) return;
    const form = url.startsWith(`${issuer}/interaction/`)
      ? await page.evaluate<string | null>('document.querySelector("input[name=prompt]")?.value ?? null').catch(() => null)
      : null;
    if (form === 'login' && !loggedIn) {
      loggedIn = true;
      await page.type('input[name=login]', account);
      await page.type('input[name=password]', 'any password');
      await page.click('button[type=submit]');
      await sleep(200);
    } else if (form === 'consent') {
      await page.click('button[autofocus]');
      await sleep(200);
    }
    await sleep(50);
  }
  throw new Error(`the provider's forms did not finish (at ${page.url()})`);
}

/** Poll the page until `expression` is truthy and return its value. */
export async function waitInPage<T>(page: BrowserPage, expression: string, timeout = 15_000): Promise<T> {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await page.evaluate<T>(expression).catch(() => undefined);
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${expression}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
