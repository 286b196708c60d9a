/**
 * Several tabs of one browser (one Chromium context: they share IndexedDB, BroadcastChannel and Web Locks) against
 * the example app and server: one refresh for all tabs, rotated refresh tokens never spent twice, sign-in and
 * logout reaching every tab, two clients in one page, and the IndexedDB lease where Web Locks are missing.
 * DESIGN behaviour 2 and "Storage and tabs".
 */
import { beforeEach, describe, expect, it } from 'vitest';
import {
  burstAll,
  deafTo,
  describeInBrowser,
  eventsOf,
  loginWith,
  openTab,
  openTabs,
  waitForEvent,
  waitForStatus,
  type Tab,
} from './helpers.js';

// The token endpoint answers refreshes after 300 ms, so that the tabs' refresh attempts overlap (tabs share about six
// HTTP/1.1 connections, which would otherwise serialize them and hide races).
describeInBrowser('tabs in Chromium', { server: { refreshDelayMs: 300 } }, (suite) => {
  /** Open `n` tabs and sign them all in with one token set, through a sign-in in the first tab. */
  async function signedInTabs(n: number, ttl: number, params: Record<string, string | number> = {}): Promise<Tab[]> {
    // loginRequired 'reject': a session that ended by mistake (a reused refresh token) fails fast instead of holding.
    suite.tabs = await openTabs(suite.context, suite.server, n, { storage: 'tabs', autoload: 0, idleTimeout: 0, loginRequired: 'reject', ...params });
    await loginWith(suite.tabs[0], await suite.server.issueTokens({ ttl }));
    await Promise.all(suite.tabs.map((tab) => waitForStatus(tab, 'active')));
    // Every other tab heard the sign-in from the first one.
    await Promise.all(suite.tabs.slice(1).map((tab) => waitForEvent(tab, 'login', { source: 'other-tab' })));
    suite.server.resetStats();
    return suite.tabs;
  }

  it('five tabs with an expired token refresh once in all, and every request succeeds', async () => {
    await signedInTabs(5, 0); // expires_in 0: every tab finds the token expiring before its first request

    const outcomes = await burstAll(suite.tabs, 20);

    expect(outcomes).toEqual(suite.tabs.map(() => ({ ok: 20, codes: [] })));
    expect(suite.server.stats.refreshCalls).toBe(1);
    expect(suite.server.stats.reuseDetected).toBe(0);
    // One tab refreshed; every other tab took its tokens (from the lock's re-read or from the notice).
    const refreshes = await Promise.all(suite.tabs.map(async (tab) => (await eventsOf(tab)).filter((e) => e.type === 'refresh')));
    expect(refreshes.flat().filter((e) => e.source === 'local')).toHaveLength(1);
    for (const events of refreshes) expect(events).toHaveLength(1);
  });

  it('five tabs whose token the server rejects (401) refresh once in all and replay', async () => {
    await signedInTabs(5, 300);
    suite.server.expireAll(); // the access token is now refused with 401 invalid_token

    const outcomes = await burstAll(suite.tabs, 20);

    expect(outcomes).toEqual(suite.tabs.map(() => ({ ok: 20, codes: [] })));
    expect(suite.server.stats.refreshCalls).toBe(1);
    expect(suite.server.stats.reuseDetected).toBe(0);
    const local = (await Promise.all(suite.tabs.map(eventsOf))).flat().filter((e) => e.type === 'refresh' && e.source === 'local');
    expect(local).toEqual([expect.objectContaining({ trigger: 'unauthorized' })]);
  });

  it('never spends a rotated refresh token twice, even when tabs refresh right after each other', async () => {
    await signedInTabs(3, 300);
    // Each refresh rotates the refresh token. The next tab refreshes at once, before the first one's notice may have
    // arrived: it must read the rotated token from storage, not use the spent one it still holds in memory.
    for (let i = 0; i < 6; i++) {
      await suite.tabs[i % 3].page.evaluate(() => window.demo.auth.refresh());
    }
    expect(suite.server.stats.refreshCalls).toBe(6);
    expect(suite.server.stats.reuseDetected).toBe(0);
    for (const tab of suite.tabs) {
      const events = await eventsOf(tab);
      expect(events.filter((e) => e.type === 'sessionExpired')).toEqual([]);
      // The other tabs' refresh events say what started the refresh (the notice carries the trigger).
      for (const e of events.filter((e) => e.type === 'refresh')) expect(e.trigger).toBe('manual');
      expect(await tab.page.evaluate(() => window.demo.auth.session.status)).toBe('active');
    }
    // And the last tokens work everywhere.
    expect(await burstAll(suite.tabs, 2)).toEqual(suite.tabs.map(() => ({ ok: 2, codes: [] })));
    expect(suite.server.stats.refreshCalls).toBe(6);
  });

  it('logout in one tab signs out the others', async () => {
    await signedInTabs(3, 300);

    await suite.tabs[0].page.evaluate(() => window.demo.auth.logout());

    for (const tab of suite.tabs.slice(1)) {
      await waitForEvent(tab, 'logout', { source: 'other-tab' });
      await waitForStatus(tab, 'signed-out');
      // The page shows the sign-in form again.
      await tab.page.waitForSelector('#signin-card:not([hidden])', { timeout: 15_000 });
    }
    expect(suite.server.stats.refreshCalls).toBe(0);
  });

  it('a tab that missed the logout notice does not bring the session back with its stale refresh token', async () => {
    const params = { storage: 'tabs', autoload: 0, idleTimeout: 0, loginRequired: 'reject' };
    const signer = await openTab(suite.context, suite.server, params);
    const deaf = await openTab(suite.context, suite.server, params, deafTo(['logout']));
    suite.tabs = [signer, deaf];
    await loginWith(signer, await suite.server.issueTokens({ ttl: 300 }));
    await waitForStatus(deaf, 'active');

    await signer.page.evaluate(() => window.demo.auth.logout());
    suite.server.resetStats();
    suite.server.expireAll();
    // The deaf tab still holds the tokens in memory. Its next request meets a 401 and wants a refresh; the shared
    // storage, read under the lock, says the session is over, so no refresh token goes out.
    expect(await deaf.page.evaluate(() => window.demo.call('me'))).toMatchObject({ ok: false, code: 'ERR_SESSION_EXPIRED' });
    expect(await waitForEvent(deaf, 'sessionExpired')).toMatchObject({ reason: 'other-tab' });
    expect(suite.server.stats.refreshCalls).toBe(0);
    expect(await signer.page.evaluate(() => window.demo.auth.getAccessToken())).toBeUndefined();
  });

  it('sign-in in one tab resumes a request held in another', async () => {
    suite.tabs = await openTabs(suite.context, suite.server, 2, { storage: 'held', autoload: 0, idleTimeout: 0 });
    const [signer, waiter] = suite.tabs;

    // Signed out, loginRequired 'wait': the request is held, and the page says so.
    await waiter.page.click('button[data-call="me"]');
    expect(await waitForEvent(waiter, 'loginRequired')).toMatchObject({ reason: 'signed-out', pending: 1 });
    await waiter.page.waitForSelector('#held:not([hidden])', { timeout: 15_000 });

    // The user signs in with the form of the other tab.
    await signer.page.fill('#password', 'wonderland');
    await signer.page.click('#signin button[type="submit"]');

    await waitForEvent(waiter, 'login', { source: 'other-tab' });
    await waiter.page.waitForSelector('#result[data-state="ok"]', { timeout: 15_000 });
    expect(await waiter.page.textContent('#result pre')).toContain('Alice Liddell');
    expect(suite.server.stats.requestsByPath['/api/me']).toBeGreaterThanOrEqual(2); // the held one went out twice: 401, then replayed
  });

  it('a refresh rejected in one tab ends the session in all, and logout in another rejects the held requests', async () => {
    await signedInTabs(3, 300, { loginRequired: 'wait' });
    suite.server.expireAll();
    suite.server.revokeRefreshTokens();

    // Tab 1's request meets the 401, its refresh is rejected: the session ends and the request is held for sign-in.
    const held = suite.tabs[1].page.evaluate(() => window.demo.call('me'));
    expect(await waitForEvent(suite.tabs[1], 'sessionExpired')).toMatchObject({ reason: 'refresh-rejected' });
    for (const tab of [suite.tabs[0], suite.tabs[2]]) {
      expect(await waitForEvent(tab, 'sessionExpired')).toMatchObject({ reason: 'other-tab' });
      await waitForEvent(tab, 'loginRequired');
      await waitForStatus(tab, 'expired');
    }
    expect(await waitForEvent(suite.tabs[1], 'loginRequired')).toMatchObject({ pending: 1 });

    // The user gives up and signs out in tab 2: the request held in tab 1 is rejected.
    await suite.tabs[2].page.evaluate(() => window.demo.auth.logout());
    expect(await held).toMatchObject({ ok: false, code: 'ERR_SESSION_EXPIRED' });
    await waitForEvent(suite.tabs[1], 'logout', { source: 'other-tab' });
    expect(suite.server.stats.refreshCalls).toBe(1);
    expect(suite.server.stats.reuseDetected).toBe(0);
  });

  it('two clients over the same storage name in one page coordinate like two tabs', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'pair', autoload: 0, idleTimeout: 0 })];
    const outcome = await suite.tabs[0].page.evaluate(async (tokens) => {
      const { auth, lib } = window.demo;
      const second = lib.createAuthClient({
        baseUrl: '/api/',
        refresh: lib.oauth2Refresh({ tokenEndpoint: new URL('/oauth/token', location.origin).href, clientId: 'demo-spa' }),
        storage: lib.indexedDbStorage({ name: 'pair' }),
      });
      const secondEvents: { type: string; source: string }[] = [];
      second.on('login', (e) => secondEvents.push({ type: 'login', source: e.source }));
      second.on('refresh', (e) => secondEvents.push({ type: 'refresh', source: e.source }));
      await second.getAccessToken(); // it has read the (empty) storage: what follows reaches it as notices
      await auth.login(tokens); // expired at once
      // The second client hears the sign-in as a notice from "another tab" and reads the tokens from IndexedDB.
      const deadline = Date.now() + 10_000;
      while (second.session.status !== 'active' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const calls = (client: typeof auth) =>
        Array.from({ length: 10 }, () => client.http.get('me').then(() => true, () => false));
      const results = await Promise.all([...calls(auth), ...calls(second)]);
      second.dispose();
      return { ok: results.filter(Boolean).length, secondEvents };
    }, await suite.server.issueTokens({ ttl: 0 }));

    expect(outcome.ok).toBe(20);
    expect(suite.server.stats.refreshCalls).toBe(1);
    expect(suite.server.stats.reuseDetected).toBe(0);
    expect(outcome.secondEvents[0]).toEqual({ type: 'login', source: 'other-tab' });
    const firstRefreshes = (await eventsOf(suite.tabs[0])).filter((e) => e.type === 'refresh');
    // Exactly one of the two clients refreshed; the other took its tokens.
    const localCount =
      firstRefreshes.filter((e) => e.source === 'local').length +
      outcome.secondEvents.filter((e) => e.type === 'refresh' && e.source === 'local').length;
    expect(localCount).toBe(1);
  });

  describe('without Web Locks (an insecure context): the IndexedDB lease', () => {
    beforeEach(async () => {
      await suite.context.close();
      suite.context = await suite.browser.newContext();
      // What a page served over plain HTTP from a LAN address sees: no navigator.locks.
      await suite.context.addInitScript(() => {
        delete (Navigator.prototype as { locks?: unknown }).locks;
      });
    });

    it('still refreshes once across five tabs', async () => {
      await signedInTabs(5, 0);
      expect(await suite.tabs[0].page.evaluate(() => 'locks' in navigator)).toBe(false);

      const outcomes = await burstAll(suite.tabs, 20);

      expect(outcomes).toEqual(suite.tabs.map(() => ({ ok: 20, codes: [] })));
      expect(suite.server.stats.refreshCalls).toBe(1);
      expect(suite.server.stats.reuseDetected).toBe(0);
    });

    it('a lease left by a tab that died holding it blocks the others only until it expires', async () => {
      await signedInTabs(2, 0);
      // A tab that crashed while refreshing left its lease behind (the layout is documented in src/storage/lease.ts).
      const leftFor = 1500;
      await suite.tabs[0].page.evaluate(async (ms) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const request = indexedDB.open('authfetch-locks', 1);
          request.onupgradeneeded = () => request.result.createObjectStore('leases');
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
        await new Promise<void>((resolve, reject) => {
          const tx = db.transaction('leases', 'readwrite');
          tx.objectStore('leases').put({ owner: 'a-dead-tab', expiresAt: Date.now() + ms }, 'authfetch:tabs:refresh');
          tx.oncomplete = () => resolve();
          tx.onerror = () => reject(tx.error);
        });
        db.close();
      }, leftFor);
      const started = Date.now();

      const outcomes = await burstAll(suite.tabs, 5);

      // The lease was honoured while it lasted, then taken over: nothing waits for the dead tab forever.
      expect(Date.now() - started).toBeGreaterThanOrEqual(leftFor - 300);
      expect(outcomes).toEqual(suite.tabs.map(() => ({ ok: 5, codes: [] })));
      expect(suite.server.stats.refreshCalls).toBe(1);
      expect(suite.server.stats.reuseDetected).toBe(0);
    });
  });
});
