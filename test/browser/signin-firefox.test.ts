/**
 * oidc() sign-in in Firefox ESR (puppeteer-core over WebDriver BiDi) against oidc-provider: redirect and popup sign-in
 * with the login form filled by the test, a popup re-login that resumes held requests without a reload, a sign-in
 * reaching another tab, refresh,
 * logout with revocation and end session, step-up, the SignInError reasons, and a DPoP-bound sign-in. The same page
 * and provider as the Chromium suites (signin-env.ts). Without Firefox the suites are skipped with one line, unless
 * AUTHFETCH_REQUIRE_BROWSER=1.
 */
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { firefoxPath, hasFirefox, launchFirefox } from './firefox.js';
import { browserRequired, ensureBuilt } from './helpers.js';
import { MFA, logInAtProvider, pageReady, startSignInEnv, waitInPage, type BrowserPage, type Outcome, type PageConfig, type SignInEnv } from './signin-env.js';

const skipFirefox = !hasFirefox && !browserRequired;
if (skipFirefox && process.env.VITEST) {
  process.stderr.write(`Firefox sign-in tests skipped: no Firefox at ${firefoxPath} (apt-get install firefox-esr, or set FIREFOX_PATH)\n`);
}

/** A puppeteer page as a {@link BrowserPage}. */
function fromPuppeteer(page: Page): BrowserPage {
  const tolerateClose = (error: unknown) => {
    if (!page.isClosed()) throw error;
  };
  return {
    url: () => page.url(),
    goto: async (url) => {
      await page.goto(url);
    },
    click: (selector) => page.click(selector).catch(tolerateClose),
    type: async (selector, text) => {
      await page.locator(selector).fill(text);
    },
    waitFor: async (selector) => {
      await page.waitForSelector(selector, { timeout: 10_000 });
    },
    evaluate: <T>(fn: string) => page.evaluate(fn) as Promise<T>,
    isClosed: () => page.isClosed(),
  };
}

/** A Firefox suite: the browser and the servers for the file's `describe`, a fresh browser context per test. */
function describeFirefox(name: string, dpop: boolean, body: (suite: FirefoxSuite) => void): void {
  describe.skipIf(skipFirefox)(name, () => body(useFirefoxSuite(dpop)));
}

interface FirefoxSuite {
  readonly env: SignInEnv;
  open(overrides?: Partial<PageConfig>): Promise<BrowserPage>;
  openPopup(tab: BrowserPage): Promise<Page>;
  signInWithPopup(tab: BrowserPage, account?: string): Promise<Outcome>;
}

function useFirefoxSuite(dpop: boolean): FirefoxSuite {
  let browser: Browser;
  let env: SignInEnv;
  let context: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    [browser, env] = await Promise.all([launchFirefox(), startSignInEnv({ dpop })]);
  });
  afterAll(async () => {
    await browser?.close();
    await env?.close();
  });
  beforeEach(async () => {
    context = await browser.createBrowserContext();
    errors.length = 0;
  });
  afterEach(async (ctx) => {
    await context.close();
    if (ctx.task.result?.state !== 'fail') expect(errors).toEqual([]);
  });

  async function open(overrides: Partial<PageConfig> = {}): Promise<BrowserPage> {
    const page = await context.newPage();
    page.on('pageerror', (error) => errors.push(String(error)));
    const tab = fromPuppeteer(page);
    await tab.goto(env.pageWith(overrides));
    await pageReady(tab);
    return tab;
  }

  /** Click the popup button (a user gesture) and return the popup (a new page target of the context). */
  async function openPopup(tab: BrowserPage): Promise<Page> {
    const before = new Set(context.targets());
    const opened = context.waitForTarget((target) => target.type() === 'page' && !before.has(target), { timeout: 10_000 });
    await tab.click('#popup');
    const popup = await (await opened).page();
    if (!popup) throw new Error('the popup has no page');
    popup.on('pageerror', (error) => errors.push(String(error)));
    return popup;
  }

  async function signInWithPopup(tab: BrowserPage, account = 'alice'): Promise<Outcome> {
    const popup = await openPopup(tab);
    await logInAtProvider(fromPuppeteer(popup), env.op.issuer, account);
    return waitInPage<Outcome>(tab, 'window.t.signIn');
  }

  return {
    get env() {
      return env;
    },
    open,
    openPopup,
    signInWithPopup,
  };
}

describeFirefox('oidc() sign-in in Firefox ESR', false, (suite) => {
  const { open, openPopup, signInWithPopup } = suite;
  it('redirect sign-in: session.user, the state back, the URL cleaned, the API called', async () => {
    const tab = await open();
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer, 'erin');
    await expect(waitInPage<Outcome>(tab, 'window.t?.redirect')).resolves.toEqual({ ok: true, value: { state: 'from-redirect' } });
    expect(tab.url()).toBe(suite.env.pageUrl);
    expect(await tab.evaluate('window.t.auth.session.user.sub')).toBe('erin');
    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true, data: { sub: 'erin' } });
  });

  it('popup sign-in keeps the page, and held requests replay after a popup re-login', async () => {
    const tab = await open({ loginRequired: 'wait' });
    const pageId = await tab.evaluate<string>('window.t.pageId');
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    // The provider ends the grant: the next request's refresh is refused and the request is held.
    const refreshToken = await tab.evaluate<string>('window.t.storage.get().then((t) => t.refreshToken)');
    await fetch(suite.env.op.revocationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: 'browser-spa' }),
    });
    await tab.evaluate('void (window.t.held = window.t.call("orders"))');
    await waitInPage(tab, 'window.t.events.some((e) => e.type === "loginRequired")');
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    await expect(tab.evaluate<Outcome>('window.t.held')).resolves.toMatchObject({ ok: true, data: { path: '/orders' } });
    expect(await tab.evaluate<string>('window.t.pageId')).toBe(pageId);
  });

  it('a sign-in in one tab reaches the other (session.user included)', async () => {
    const first = await open();
    const second = await open();
    await expect(signInWithPopup(first, 'frank')).resolves.toEqual({ ok: true });
    await waitInPage(second, 'window.t.auth.session.user?.sub === "frank"');
    const events = await second.evaluate<{ type: string; source?: string }[]>('window.t.events');
    expect(events).toContainEqual(expect.objectContaining({ type: 'login', source: 'other-tab' }));
  });

  it('a popup closed before signing in rejects with popup-closed', async () => {
    const tab = await open();
    const popup = await openPopup(tab);
    await waitInPage(fromPuppeteer(popup), `location.href.startsWith(${JSON.stringify(suite.env.op.issuer)})`);
    await popup.close();
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'popup-closed' });
  });

  it('refresh after sign-in, then logout revokes the refresh token and ends the provider session', async () => {
    const tab = await open();
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    const refreshed = suite.env.op.stats.refreshSucceeded;
    await tab.evaluate('window.t.auth.refresh()');
    expect(suite.env.op.stats.refreshSucceeded).toBe(refreshed + 1);
    const refreshToken = await tab.evaluate<string>('window.t.storage.get().then((t) => t.refreshToken)');
    await tab.evaluate('void window.t.auth.logout({ endSession: true })');
    await waitInPage(tab, `location.href.startsWith(${JSON.stringify(`${suite.env.op.issuer}/session/end`)})`);
    await tab.click('button[name=logout]');
    await waitInPage(tab, `location.href === ${JSON.stringify(`${suite.env.pageUrl}?signed-out`)} && window.t?.auth.session.status === "signed-out"`);
    expect((await suite.env.op.introspect(refreshToken)).active).toBe(false);
  });

  it('step-up: the held request replays after signIn({ popup: true, acrValues, maxAge })', async () => {
    const tab = await open({ loginRequired: 'wait' });
    await signInWithPopup(tab);
    await tab.evaluate('void (window.t.held = window.t.call("mfa/report"))');
    const required = await waitInPage<Record<string, unknown>>(tab, 'window.t.events.find((e) => e.type === "loginRequired")');
    expect(required).toMatchObject({ reason: 'step-up', acrValues: [MFA], maxAge: 0 });
    await tab.evaluate(`window.t.next = { acrValues: [${JSON.stringify(MFA)}], maxAge: 0 }`);
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    await expect(tab.evaluate<Outcome>('window.t.held')).resolves.toMatchObject({ ok: true, data: { acr: MFA } });
  });

  it('a blocked popup, a cancelled sign-in, an error answer and an unknown state each end in their SignInError', async () => {
    const tab = await open();
    await tab.evaluate('window.t.open = window.open; window.open = () => null');
    await tab.click('#popup');
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, reason: 'popup-blocked' });
    await tab.evaluate('window.open = window.t.open; window.t.signIn = undefined');

    const popup = await openPopup(tab);
    await popup.waitForSelector('a[href*="/abort"]');
    await popup.click('a[href*="/abort"]').catch(() => undefined);
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, reason: 'access-denied', oauthError: 'access_denied' });
    await tab.evaluate('window.t.signIn = undefined');

    await expect(signInWithPopup(tab, 'server-error')).resolves.toMatchObject({ ok: false, reason: 'server-error', action: 'retry' });

    await tab.goto(`${suite.env.pageUrl}?code=stolen&state=forged`);
    await expect(waitInPage<Outcome>(tab, 'window.t?.redirect')).resolves.toMatchObject({ ok: false, reason: 'invalid-state' });
  });
});

describeFirefox('oidc() sign-in with DPoP in Firefox ESR', true, (suite) => {
  it('binds the code (dpop_jkt) and the tokens to the page\'s key (a proof on the exchange)', async () => {
    const tab = await suite.open({ dpop: true });
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer);
    await waitInPage(tab, 'window.t?.auth.session.status === "active"');
    const token = await tab.evaluate<{ tokenType?: string; accessToken: string }>('window.t.storage.get()');
    expect(token.tokenType?.toLowerCase()).toBe('dpop');
    const info = await suite.env.op.introspect(token.accessToken);
    expect((info.cnf as { jkt?: string }).jkt).toBe(await tab.evaluate<string>('window.t.dpop.thumbprint()'));
    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true, data: { tokenType: 'DPoP' } });
  });

});
