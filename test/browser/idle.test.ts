/**
 * Idle sessions and waking up, in Chromium: `sessionWarning` before the idle end, the end in every tab, activity in
 * any tab counting for all, and a tab (or machine) coming back checking at once instead of trusting timers that
 * slept (DESIGN options idleTimeout, idleWarning, trackActivity; behaviour 6).
 */
import { describe, expect, it } from 'vitest';
import {
  deafTo,
  describeInBrowser,
  eventsOf,
  loginWith,
  openTab,
  openTabs,
  signIn,
  waitForEvent,
  waitForStatus,
  type Tab,
} from './helpers.js';

describeInBrowser('idle sessions and waking up in Chromium', (suite) => {

  it('warns idleWarning before the end, then ends the session in every tab', async () => {
    const idleTimeout = 1500;
    const idleWarning = 700;
    suite.tabs = await openTabs(suite.context, suite.server, 2, { storage: 'idle', autoload: 0, idleTimeout, idleWarning });
    await signIn(suite.tabs[0]);
    const login = await waitForEvent(suite.tabs[0], 'login');
    await waitForEvent(suite.tabs[1], 'login', { source: 'other-tab' });

    for (const tab of suite.tabs) {
      const warning = await waitForEvent(tab, 'sessionWarning');
      expect(warning.remainingMs).toBeGreaterThan(0);
      expect(warning.remainingMs).toBeLessThanOrEqual(idleWarning);
    }
    const ended = [];
    for (const tab of suite.tabs) {
      const expired = await waitForEvent(tab, 'sessionExpired');
      await waitForEvent(tab, 'loginRequired');
      await waitForStatus(tab, 'expired');
      const events = await eventsOf(tab);
      const order = events.map((e) => e.type).filter((t) => ['sessionWarning', 'sessionExpired', 'loginRequired'].includes(t));
      expect(order).toEqual(['sessionWarning', 'sessionExpired', 'loginRequired']);
      ended.push(expired);
    }
    // Each tab's idle deadline comes at about the same moment: the first to reach it ends the session ('idle') and
    // tells the others; a tab whose own timer fired first says 'idle' too (DESIGN: the others say 'other-tab').
    expect(ended.some((e) => e.reason === 'idle')).toBe(true);
    for (const e of ended) expect(['idle', 'other-tab']).toContain(e.reason);
    expect(Math.min(...ended.map((e) => e.at)) - login.at).toBeGreaterThanOrEqual(idleTimeout - 100);
    // The session is gone from the shared storage too: a new tab starts signed out.
    const fresh = await openTab(suite.context, suite.server, { storage: 'idle', autoload: 0, idleTimeout, idleWarning });
    suite.tabs.push(fresh);
    expect(await fresh.page.evaluate(() => window.demo.auth.getAccessToken())).toBeUndefined();
  });

  it('activity in another tab postpones the warning and the end in every tab', async () => {
    const idleTimeout = 4000;
    const idleWarning = 2500;
    suite.tabs = await openTabs(suite.context, suite.server, 2, { storage: 'busy', autoload: 0, idleTimeout, idleWarning });
    const [quiet, busy] = suite.tabs;
    await signIn(quiet);
    await waitForEvent(busy, 'login', { source: 'other-tab' });

    // The user works in the other tab (real pointer input: trackActivity) for longer than the idle timeout; without
    // it, the warning would come after 1.5 s and the end after 4 s.
    const until = Date.now() + idleTimeout + 1000;
    while (Date.now() < until) {
      await busy.page.mouse.click(600, 700);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    for (const tab of suite.tabs) {
      const types = (await eventsOf(tab)).map((e) => e.type);
      expect(types).not.toContain('sessionWarning');
      expect(types).not.toContain('sessionExpired');
      expect(await tab.page.evaluate(() => window.demo.auth.session.status)).toBe('active');
    }

    // The user stops: both tabs warn, with the banner. "Stay signed in" in one tab counts for the other as well.
    await waitForEvent(quiet, 'sessionWarning');
    await waitForEvent(busy, 'sessionWarning');
    await quiet.page.waitForSelector('#idle-warning:not([hidden])', { timeout: 15_000 });
    const stayedAt = Date.now(); // taken before the click: the end can only come later than this plus idleTimeout
    await busy.page.click('#idle-warning #stay');
    await busy.page.waitForSelector('#idle-warning', { state: 'hidden', timeout: 15_000 });
    const expired = await waitForEvent(quiet, 'sessionExpired', {}, 20_000);
    expect(expired.at - stayedAt).toBeGreaterThanOrEqual(idleTimeout - 100);
  });

  it('a tab that missed the activity notices (held up in the background) does not end the session used elsewhere', async () => {
    const idleTimeout = 2000;
    const idleWarning = 500;
    const params = { storage: 'frozen', autoload: 0, idleTimeout, idleWarning };
    const active = await openTab(suite.context, suite.server, params);
    // This tab hears every notice except "activity", as a tab whose channel messages were held up would.
    const deaf = await openTab(suite.context, suite.server, params, deafTo(['activity']));
    suite.tabs = [active, deaf];
    await signIn(active);
    await waitForEvent(deaf, 'login', { source: 'other-tab' });

    // The user works in the active tab for twice the idle timeout.
    const until = Date.now() + 2 * idleTimeout;
    while (Date.now() < until) {
      await active.page.evaluate(() => window.demo.auth.touch());
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // The deaf tab's own deadline came and went, but it found the activity record and kept the session.
    for (const tab of suite.tabs) {
      const types = (await eventsOf(tab)).map((e) => e.type);
      expect(types).not.toContain('sessionWarning');
      expect(types).not.toContain('sessionExpired');
      expect(await tab.page.evaluate(() => window.demo.auth.session.status)).toBe('active');
    }
  });

  it('a tab coming back online or to the foreground checks expiry at once and refreshes', async () => {
    // The page's clock is faked: the machine "sleeps" while no timer fires, and wakes 280 s later.
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'wake', autoload: 0, idleTimeout: 0 }, (page) => page.clock.install())];
    const [tab] = suite.tabs;
    const sleep280s = async () => {
      const now = await tab.page.evaluate(() => Date.now());
      await tab.page.clock.setSystemTime(now + 280_000);
    };
    // A 300 s token; after the sleep 20 s are left, within the 30 s leeway (a token that lived only 20 s would not
    // be: the leeway is at most half the lifetime). Nothing is scheduled: only a request or a wake-up checks.
    await loginWith(tab, await suite.server.issueTokens({ ttl: 300 }));
    await sleep280s();
    expect(suite.server.stats.refreshCalls).toBe(0);

    await tab.page.evaluate(() => window.dispatchEvent(new Event('online')));
    expect(await waitForEvent(tab, 'refresh')).toMatchObject({ source: 'local', trigger: 'expiring' });
    expect(suite.server.stats.refreshCalls).toBe(1);

    await loginWith(tab, await suite.server.issueTokens({ ttl: 300 }));
    await sleep280s();
    await tab.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange'))); // headless tabs are visible
    await tab.page.waitForFunction(() => window.demo.events.filter((e) => e.type === 'refresh').length === 2, undefined, { timeout: 15_000 });
    expect(suite.server.stats.refreshCalls).toBe(2);
    expect(suite.server.stats.reuseDetected).toBe(0);
  });

  describe('after the machine slept past the idle deadline (fake clock: timers did not fire)', () => {
    const idleTimeout = 60_000;

    async function sleptTab(trackActivity: boolean): Promise<Tab> {
      const tab = await openTab(suite.context, suite.server, { storage: 'sleep', autoload: 0, idleTimeout, idleWarning: 10_000, trackActivity: trackActivity ? 1 : 0 }, (page) =>
        page.clock.install(),
      );
      suite.tabs.push(tab);
      await signIn(tab);
      await waitForEvent(tab, 'login');
      // Five minutes pass on the wall clock while every timer of the page sleeps.
      const now = await tab.page.evaluate(() => Date.now());
      await tab.page.clock.setSystemTime(now + 5 * 60_000);
      expect(await tab.page.evaluate(() => window.demo.auth.session.status)).toBe('active');
      return tab;
    }

    it('coming back to the foreground ends the session at once', async () => {
      const tab = await sleptTab(false);
      await tab.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
      expect(await waitForEvent(tab, 'sessionExpired')).toMatchObject({ reason: 'idle' });
      await waitForStatus(tab, 'expired');
    });

    it('input arriving after the deadline does not revive the session', async () => {
      const tab = await sleptTab(true);
      await tab.page.mouse.click(600, 700); // trackActivity: this is activity, but it comes too late
      expect(await waitForEvent(tab, 'sessionExpired')).toMatchObject({ reason: 'idle' });
      await waitForStatus(tab, 'expired');
    });
  });
});
