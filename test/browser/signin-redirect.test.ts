/**
 * Redirect sign-in with oidc() in Chromium against oidc-provider: the login form filled by the test, PKCE and nonce
 * (the provider refuses a code without the verifier; the ID token carries the nonce sent), `session.user`, the address
 * bar cleaned, the app's state handed back, refresh after sign-in, logout with revocation and the provider's
 * end-session page, a sign-in reaching another tab, and one code exchanged once when two tabs hold its callback.
 */
import { expect, it } from 'vitest';
import { describeSignIn, interceptCallback } from './signin-chromium.js';
import { logInAtProvider, waitInPage, type Outcome } from './signin-env.js';

interface User {
  sub: string;
  nonce?: string;
  iss?: string;
}

describeSignIn('oidc() redirect sign-in in Chromium', {}, (suite) => {
  it('signs in with code + PKCE S256 and nonce, shows session.user, cleans the URL and returns the state', async () => {
    const { page, tab } = await suite.open();
    const authorizeRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${suite.env.op.issuer}/auth?`)) authorizeRequests.push(request.url());
    });
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer, 'alice');
    await page.waitForURL((url) => url.href.startsWith(suite.env.pageUrl));
    const redirect = await waitInPage<Outcome>(tab, 'window.t?.redirect && window.t.redirect');
    expect(redirect).toEqual({ ok: true, value: { state: 'from-redirect' } });

    const sent = new URL(authorizeRequests[0] ?? '').searchParams;
    expect(sent.get('code_challenge_method')).toBe('S256');
    const user = await tab.evaluate<User>('window.t.auth.session.user');
    expect(user).toMatchObject({ sub: 'alice', iss: suite.env.op.issuer, aud: 'browser-spa', nonce: sent.get('nonce') });
    // The code, state and iss left the address bar (and the history entry), the page path stayed.
    expect(page.url()).toBe(suite.env.pageUrl);
    expect(suite.env.op.stats.codeGrants).toBeGreaterThan(0);

    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true, data: { sub: 'alice' } });
    // The refresh token obtained at sign-in works at the discovered token endpoint.
    const refreshed = suite.env.op.stats.refreshSucceeded;
    await tab.evaluate('window.t.auth.refresh()');
    expect(suite.env.op.stats.refreshSucceeded).toBe(refreshed + 1);
    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true });
  });

  it('keeps session.user after a reload (restored from storage)', async () => {
    const { page, tab } = await suite.open();
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer, 'bob');
    await waitInPage(tab, 'window.t?.auth.session.status === "active"');
    await page.reload();
    await waitInPage(tab, 'window.t?.auth.session.user?.sub === "bob"');
  });

  it('logout revokes the refresh token, clears every tab and ends the provider session', async () => {
    const { page, tab } = await suite.open();
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer);
    await waitInPage(tab, 'window.t?.auth.session.status === "active"');
    const other = await suite.open();
    await waitInPage(other.tab, 'window.t.auth.session.status === "active"');
    const refreshToken = await tab.evaluate<string>('window.t.storage.get().then((t) => t.refreshToken)');
    expect((await suite.env.op.introspect(refreshToken)).active).toBe(true);

    await tab.evaluate('void window.t.auth.logout({ endSession: true })');
    // The provider asks to confirm (its RP-initiated logout page), then sends the browser back.
    await page.waitForURL((url) => url.href.startsWith(`${suite.env.op.issuer}/session/end`));
    await page.click('button[name=logout]');
    await page.waitForURL(`${suite.env.pageUrl}?signed-out`);
    expect((await suite.env.op.introspect(refreshToken)).active).toBe(false);
    await waitInPage(other.tab, 'window.t.auth.session.status === "signed-out" && window.t.auth.session.user === undefined');
    await waitInPage(tab, 'window.t?.auth.session.status === "signed-out"');

    // The provider's session ended too: a silent sign-in (prompt=none) now answers login_required.
    await page.goto(suite.env.pageWith({ signIn: { prompt: 'none' } }));
    await waitInPage(tab, 'window.t?.redirect');
    await tab.click('#redirect');
    await page.waitForURL((url) => url.href.startsWith(suite.env.pageUrl) && url.href.includes('state='), { timeout: 10_000 }).catch(() => undefined);
    const outcome = await waitInPage<Outcome>(tab, 'window.t?.redirect.then((r) => r.ok === false || r.value ? r : undefined)');
    expect(outcome).toMatchObject({ ok: false, code: 'ERR_SIGN_IN', reason: 'login-required', oauthError: 'login_required' });
  });

  it('a sign-in in one tab reaches the others (session.user included)', async () => {
    const first = await suite.open();
    const second = await suite.open();
    await first.tab.click('#redirect');
    await logInAtProvider(first.tab, suite.env.op.issuer, 'carol');
    await waitInPage(second.tab, 'window.t.auth.session.user?.sub === "carol"');
    const events = await second.tab.evaluate<{ type: string; source?: string }[]>('window.t.events');
    expect(events).toContainEqual(expect.objectContaining({ type: 'login', source: 'other-tab' }));
  });

  it('two tabs holding the same callback exchange its code once', async () => {
    const { page, tab } = await suite.open();
    // Stop the browser before the callback and keep its URL, as a duplicated tab or a double reload would have it.
    let callback = '';
    const release = await interceptCallback(page, suite.env.op.issuer, suite.env.pageUrl, (url) => void (callback = url));
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer, 'alice', () => callback !== '');
    expect(callback).toContain('code=');
    await release();
    const grants = suite.env.op.stats.codeGrants;
    const rejected = suite.env.op.stats.codeRejected;
    // The transaction lives in this origin's localStorage: both tabs find it, one claims it.
    const second = await suite.context.newPage();
    await Promise.all([page.goto(callback), second.goto(callback)]);
    const outcomes = await Promise.all(
      [page, second].map((p) => p.waitForFunction('window.t?.redirect').then(() => p.evaluate<Outcome>('window.t.redirect'))),
    );
    expect(outcomes).toEqual([
      { ok: true, value: { state: 'from-redirect' } },
      { ok: true, value: { state: 'from-redirect' } },
    ]);
    expect(suite.env.op.stats.codeGrants).toBe(grants + 1);
    expect(suite.env.op.stats.codeRejected).toBe(rejected);
    await second.waitForFunction('window.t.auth.session.status === "active"');
  });
});

describeSignIn('oidc() with DPoP in Chromium', { dpop: true }, (suite) => {
  it('binds the code to the key (dpop_jkt) and the tokens to it (a proof on the exchange)', async () => {
    const { page, tab } = await suite.open({ dpop: true });
    let jkt: string | null = null;
    page.on('request', (request) => {
      if (request.url().startsWith(`${suite.env.op.issuer}/auth?`)) jkt = new URL(request.url()).searchParams.get('dpop_jkt');
    });
    await tab.click('#redirect');
    await logInAtProvider(tab, suite.env.op.issuer);
    await waitInPage(tab, 'window.t?.auth.session.status === "active"');
    expect(jkt).toBe(await tab.evaluate<string>('window.t.dpop.thumbprint()'));
    const token = await tab.evaluate<{ tokenType?: string; accessToken: string }>('window.t.storage.get()');
    expect(token.tokenType?.toLowerCase()).toBe('dpop');
    const info = await suite.env.op.introspect(token.accessToken);
    expect((info.cnf as { jkt?: string }).jkt).toBe(jkt);
    await expect(tab.evaluate<Outcome>('window.t.call("me")')).resolves.toMatchObject({ ok: true, data: { tokenType: 'DPoP' } });
  });
});
