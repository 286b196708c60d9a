/**
 * The Chromium side of the sign-in browser suites: the lifecycle (build, launch, start the servers once per file; a
 * fresh browser context per test) and {@link BrowserPage} over playwright-core pages, popups included.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import { ensureBuilt, launchBrowser, skipBrowser } from './helpers.js';
import { pageReady, startSignInEnv, type BrowserPage, type PageConfig, type SignInEnv } from './signin-env.js';
import type { OidcHarnessOptions } from '../helpers/oidc.js';

/** A playwright page as a {@link BrowserPage}; a click that closes the page (the popup's last one) is not a failure. */
export function fromPlaywright(page: Page): BrowserPage {
  const tolerateClose = (error: unknown) => {
    if (!page.isClosed()) throw error;
  };
  return {
    url: () => page.url(),
    goto: async (url) => {
      await page.goto(url);
    },
    click: (selector) => page.click(selector, { timeout: 10_000 }).catch(tolerateClose),
    type: (selector, text) => page.fill(selector, text, { timeout: 10_000 }),
    waitFor: async (selector) => {
      await page.waitForSelector(selector, { timeout: 10_000 });
    },
    evaluate: (fn) => page.evaluate(fn),
    isClosed: () => page.isClosed(),
  };
}

/**
 * Intercept the provider's answer to the page: the form submissions at the provider are routed and their redirects
 * followed here (with the context's cookies), because a route never sees a request reached by a redirect. When the
 * chain arrives at `pageUrl`, `onCallback(url)` decides: a URL to send the browser to instead, or `undefined` to hold
 * the browser on a blank page (the callback kept by the test). Returns a function that removes the route.
 */
export async function interceptCallback(
  page: Page,
  issuer: string,
  pageUrl: string,
  onCallback: (url: string) => string | undefined,
): Promise<() => Promise<void>> {
  const isForm = (url: URL) => url.href.startsWith(`${issuer}/interaction/`);
  await page.route(isForm, async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    const response = await route.fetch({ maxRedirects: 0 });
    let location = new URL(response.headers()['location'] ?? '/', issuer).href;
    for (let hop = 0; hop < 5 && location.startsWith(`${issuer}/auth/`); hop++) {
      const resumed = await page.context().request.get(location, { maxRedirects: 0 });
      location = new URL(resumed.headers()['location'] ?? '/', issuer).href;
    }
    if (location.startsWith(pageUrl)) {
      const instead = onCallback(location);
      if (instead === undefined) return route.fulfill({ status: 200, contentType: 'text/plain', body: 'held' });
      location = instead;
    }
    return route.fulfill({ status: 303, headers: { location } });
  });
  return () => page.unroute(isForm);
}

/** One test's view: the context, the first tab, and the uncaught page errors (which fail the test). */
export interface ChromiumSuite {
  readonly env: SignInEnv;
  context: BrowserContext;
  errors: string[];
  /** Open the sign-in page with a configuration in a new tab and wait for its script. */
  open(overrides?: Partial<PageConfig>): Promise<{ page: Page; tab: BrowserPage }>;
}

/** `describe` a Chromium sign-in suite (skipped with helpers.ts's one line where there is no Chromium). */
export function describeSignIn(name: string, options: Pick<OidcHarnessOptions, 'dpop'>, body: (suite: ChromiumSuite) => void): void {
  describe.skipIf(skipBrowser)(name, () => {
    let browser: Browser;
    const suite = { errors: [] as string[] } as ChromiumSuite & { env: SignInEnv };
    beforeAll(async () => {
      await ensureBuilt();
      [browser, suite.env] = await Promise.all([launchBrowser(), startSignInEnv(options)]);
    });
    afterAll(async () => {
      await browser?.close();
      await suite.env?.close();
    });
    beforeEach(async () => {
      suite.context = await browser.newContext();
      suite.errors = [];
      suite.context.on('page', (page) => page.on('pageerror', (error) => suite.errors.push(error.message)));
    });
    afterEach(async (ctx) => {
      await suite.context.close();
      if (ctx.task.result?.state !== 'fail') expect(suite.errors).toEqual([]);
    });
    suite.open = async (overrides) => {
      const page = await suite.context.newPage();
      const tab = fromPlaywright(page);
      await tab.goto(suite.env.pageWith(overrides));
      await pageReady(tab);
      return { page, tab };
    };
    body(suite);
  });
}
