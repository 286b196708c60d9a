/**
 * The example app signing in for real (examples/spa with examples/server/identity.mjs, as `npm run demo:browser` runs
 * them): a popup sign-in at oidc-provider shows the user from `session.user`, the payments call meets a step-up that
 * the "Verify it's you" popup satisfies (the held request then shows its answer), and "Sign out at the provider too"
 * ends the provider's session. Chromium, with the provider's development login form filled by the test.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdentityProvider, type IdentityProvider } from '../../examples/server/identity.mjs';
import type { ExampleServer } from '../../examples/server/index.mjs';
import { ensureBuilt, launchBrowser, skipBrowser, startApp } from './helpers.js';
import { fromPlaywright } from './signin-chromium.js';
import { logInAtProvider } from './signin-env.js';

describe.skipIf(skipBrowser)('the example app signs in with oidc() at its identity provider', () => {
  let browser: Browser;
  let server: ExampleServer;
  let identity: IdentityProvider;
  let context: BrowserContext;
  const errors: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    [browser, server] = await Promise.all([launchBrowser(), startApp()]);
    identity = await startIdentityProvider({ appOrigin: server.url });
    server.useIdentityProvider(identity);
    context = await browser.newContext();
    context.on('page', (page) => page.on('pageerror', (error) => errors.push(error.message)));
  });
  afterAll(async () => {
    await browser?.close();
    await identity?.close();
    await server?.close();
  });

  async function popupLogin(page: Page, button: string, account: string): Promise<void> {
    const opened = context.waitForEvent('page');
    await page.click(button);
    await logInAtProvider(fromPlaywright(await opened), identity.issuer, account);
  }

  it('signs in in a popup, steps up for payments, and ends the provider session', async () => {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('#signin-popup:visible');
    expect(await page.isVisible('#signin')).toBe(false); // no password form with an identity provider

    await popupLogin(page, '#signin-popup', 'alice');
    await page.waitForSelector('#account-card:visible');
    await expect.poll(() => page.textContent('#me-name')).toMatch(/^Alice/);
    expect(await page.textContent('#acr')).not.toBe('mfa');

    // Payments needs the mfa level: the request is held, the banner offers the stronger sign-in.
    await page.click('button[data-call="step-up"]');
    await page.waitForSelector('#step-up:visible');
    await popupLogin(page, '#step-up-button', 'alice');
    await page.waitForSelector('#result[data-state="ok"]');
    expect(await page.textContent('#result')).toContain('"acr": "mfa"');
    await expect.poll(() => page.textContent('#acr')).toBe('mfa');

    // Sign out here and at the provider: its confirmation page, then back to the app, signed out.
    await page.click('#end-session');
    await page.waitForURL((url) => url.href.startsWith(`${identity.issuer}/session/end`));
    await page.click('button[name=logout]');
    await page.waitForURL(`${server.url}/`);
    await page.waitForSelector('#signin-card:visible');
    expect(await page.getAttribute('#status', 'data-status')).toBe('signed-out');
    expect(errors).toEqual([]);
  });
});
