/**
 * Popup sign-in with oidc() in Chromium against oidc-provider: the page stays (same document, same state) and the
 * promise resolves once the tokens are stored; requests held by `loginRequired: 'wait'` resume after a popup re-login
 * and after a step-up (RFC 9470, `acr_values`); and every way a sign-in fails ends in its `SignInError`.
 */
import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeSignIn, fromPlaywright, interceptCallback } from './signin-chromium.js';
import { MFA, logInAtProvider, waitInPage, type Outcome } from './signin-env.js';
import type { BrowserPage } from './signin-env.js';

describeSignIn('oidc() popup sign-in in Chromium', {}, (suite) => {
  /** Click the page's popup button (a real user gesture) and return the popup. */
  async function openPopup(tab: BrowserPage): Promise<{ popup: Page; driver: BrowserPage }> {
    const opened = suite.context.waitForEvent('page');
    await tab.click('#popup');
    const popup = await opened;
    return { popup, driver: fromPlaywright(popup) };
  }

  async function signInWithPopup(tab: BrowserPage, account = 'alice'): Promise<Outcome> {
    const { driver } = await openPopup(tab);
    await logInAtProvider(driver, suite.env.op.issuer, account);
    return waitInPage<Outcome>(tab, 'window.t.signIn');
  }

  /** End the session at the provider (the grant revoked), as an admin or another device would. */
  async function revokeAtProvider(tab: BrowserPage): Promise<void> {
    const refreshToken = await tab.evaluate<string>('window.t.storage.get().then((t) => t.refreshToken)');
    const response = await fetch(suite.env.op.revocationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: refreshToken, client_id: 'browser-spa' }),
    });
    expect(response.ok).toBe(true);
  }

  it('keeps the page: resolves once signed in, the popup closes, nothing reloads', async () => {
    const { tab } = await suite.open();
    const pageId = await tab.evaluate<string>('window.t.pageId');
    await expect(signInWithPopup(tab, 'dave')).resolves.toEqual({ ok: true });
    expect(await tab.evaluate<string>('window.t.pageId')).toBe(pageId);
    expect(await tab.evaluate<string>('window.t.auth.session.user.sub')).toBe('dave');
    await expect.poll(() => suite.context.pages().length).toBe(1); // the popup closed itself
    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true, data: { sub: 'dave' } });
  });

  it("requests held by loginRequired: 'wait' replay after a popup re-login, without a reload", async () => {
    const { tab } = await suite.open({ loginRequired: 'wait' });
    await signInWithPopup(tab);
    const pageId = await tab.evaluate<string>('window.t.pageId');
    await revokeAtProvider(tab);
    // Both requests meet 401, the refresh is refused (invalid_grant): the session ends and they are held.
    await tab.evaluate('void (window.t.held = Promise.all([window.t.call("orders"), window.t.call("me")]))');
    const required = await waitInPage<{ reason: string; pending: number }>(tab, 'window.t.events.find((e) => e.type === "loginRequired")');
    expect(required.reason).toBe('refresh-rejected');
    expect(required.pending).toBeGreaterThanOrEqual(1); // held at that moment; the other may still be on its way
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    const held = await tab.evaluate<Outcome[]>('window.t.held');
    expect(held).toMatchObject([{ ok: true, data: { path: '/orders' } }, { ok: true, data: { path: '/me' } }]);
    expect(await tab.evaluate<string>('window.t.pageId')).toBe(pageId);
  });

  it('step-up: the request that needs a stronger sign-in is held and replays after signIn({ acrValues, maxAge })', async () => {
    const { tab } = await suite.open({ loginRequired: 'wait' });
    await signInWithPopup(tab);
    await tab.evaluate('void (window.t.held = window.t.call("mfa/report"))');
    const required = await waitInPage<Record<string, unknown>>(tab, 'window.t.events.find((e) => e.type === "loginRequired")');
    expect(required).toEqual({ type: 'loginRequired', reason: 'step-up', pending: 1, acrValues: [MFA], maxAge: 0 });
    const stepUp = await tab.evaluate<{ acrValues: string[]; maxAge: number }>('window.t.events.find((e) => e.type === "stepUp")');
    expect(stepUp).toMatchObject({ acrValues: [MFA], maxAge: 0, code: 'ERR_UNAUTHORIZED' });
    // The app's button: signIn({ popup: true, acrValues, maxAge }) from the event.
    await tab.evaluate(`window.t.next = { acrValues: ${JSON.stringify(stepUp.acrValues)}, maxAge: ${stepUp.maxAge} }`);
    await expect(signInWithPopup(tab)).resolves.toEqual({ ok: true });
    expect(await tab.evaluate('window.t.auth.session.user.acr')).toBe(MFA);
    await expect(tab.evaluate<Outcome>('window.t.held')).resolves.toMatchObject({ ok: true, data: { path: '/mfa/report', acr: MFA } });
  });

  it('a blocked popup rejects with popup-blocked', async () => {
    const { tab } = await suite.open();
    // What a browser's popup blocker does: window.open returns null.
    await tab.evaluate('window.open = () => null');
    await tab.click('#popup');
    const outcome = await waitInPage<Outcome>(tab, 'window.t.signIn');
    expect(outcome).toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'popup-blocked', action: 'sign-in' });
    expect((outcome as { userMessage: string }).userMessage).toMatch(/pop-ups/);
  });

  it('a popup closed before signing in rejects with popup-closed', async () => {
    const { tab } = await suite.open();
    const { popup } = await openPopup(tab);
    await popup.waitForURL((url) => url.href.startsWith(suite.env.op.issuer));
    await popup.close();
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'popup-closed' });
    expect(await tab.evaluate('window.t.auth.session.status')).toBe('signed-out');
  });

  it('a logout while the popup is open ends that sign-in: it cannot sign the user back in', async () => {
    const { tab } = await suite.open();
    const { popup } = await openPopup(tab);
    await popup.waitForURL((url) => url.href.startsWith(suite.env.op.issuer));
    await tab.evaluate('window.t.auth.logout()');
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, reason: 'popup-closed' });
    await expect.poll(() => popup.isClosed()).toBe(true);
    expect(await tab.evaluate('window.t.auth.session.status')).toBe('signed-out');
  });

  it('cancelling at the provider rejects with access-denied', async () => {
    const { tab } = await suite.open();
    const { popup } = await openPopup(tab);
    await popup.waitForSelector('a[href*="/abort"]');
    await popup.click('a[href*="/abort"]').catch(() => undefined);
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({
      ok: false,
      code: 'ERR_SIGN_IN',
      reason: 'access-denied',
      oauthError: 'access_denied',
    });
  });

  it('an error answer of the provider rejects with server-error', async () => {
    const { tab } = await suite.open();
    // The provider's login fails on its side and it answers the sign-in with error=server_error.
    await expect(signInWithPopup(tab, 'server-error')).resolves.toMatchObject({
      ok: false,
      code: 'ERR_SIGN_IN',
      reason: 'server-error',
      oauthError: 'server_error',
      action: 'retry',
    });
  });

  it('a provider error page that never answers: closing the popup rejects with popup-closed', async () => {
    const { tab } = await suite.open();
    const { popup, driver } = await openPopup(tab);
    // This account cannot be loaded: the provider shows its own error page and never redirects back.
    await logInAtProvider(driver, suite.env.op.issuer, 'broken-account', () => popup.url().includes('/auth/'));
    await popup.waitForSelector('text=oops');
    await popup.close();
    await expect(waitInPage<Outcome>(tab, 'window.t.signIn')).resolves.toMatchObject({ ok: false, reason: 'popup-closed' });
  });

  it('a response with an unknown state is refused (invalid-state), and the URL is cleaned', async () => {
    const { page, tab } = await suite.open();
    await page.goto(`${suite.env.pageUrl}?code=stolen&state=forged&iss=${encodeURIComponent(suite.env.op.issuer)}`);
    await expect(waitInPage<Outcome>(tab, 'window.t?.redirect')).resolves.toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'invalid-state' });
    expect(page.url()).toBe(suite.env.pageUrl);
  });

  it('a response naming another issuer is refused (RFC 9207) and its code is not used', async () => {
    const { page, tab } = await suite.open();
    // Rewrite the provider's redirect to the page so that its iss names another issuer (a mix-up attack).
    await interceptCallback(page, suite.env.op.issuer, suite.env.pageUrl, (url) => {
      const forged = new URL(url);
      forged.searchParams.set('iss', 'https://evil.example');
      return forged.href;
    });
    const grants = suite.env.op.stats.codeGrants;
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer);
    const outcome = await waitInPage<Outcome>(tab, 'window.t?.redirect');
    expect(outcome).toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'invalid-response' });
    expect(suite.env.op.stats.codeGrants).toBe(grants);
  });
});
