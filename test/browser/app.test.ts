/**
 * The example app in Chromium: the typed errors' plain-language messages in the page, IndexedDB storage across a
 * reload and its fallback to memory, and the screenshot the README shows (docs/spa.png; a test run writes it to the
 * ignored test-results/ unless AUTHFETCH_UPDATE_DOCS=1).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, it, vi } from 'vitest';
import { repoRoot } from '../../examples/spa/mounts.mjs';
import {
  describeInBrowser,
  eventsOf,
  openTab,
  waitForEvent,
  waitForStatus,
  type Tab,
} from './helpers.js';

describeInBrowser('the example app in Chromium', { context: { viewport: { width: 1100, height: 620 } } }, (suite) => {

  /** Click an API button and return what the result box shows. */
  async function press(tab: Tab, call: string): Promise<{ code: string | null; message: string | null; action: string | null }> {
    const { page } = tab;
    await page.click(`button[data-call="${call}"]`);
    await page.waitForSelector('#result[data-state="error"], #result[data-state="ok"]', { timeout: 15_000 });
    return {
      code: await page.getAttribute('#result', 'data-code'),
      message: await page.textContent('#result .user-message').catch(() => null),
      action: await page.textContent('#result .action').catch(() => null),
    };
  }

  it('shows the plain-language message of a 401, a 403 and a 404 in the page', async () => {
    // loginRequired 'reject': signed out, the protected route ends in a 401 the page must explain.
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'messages', autoload: 0, idleTimeout: 0, loginRequired: 'reject' })];
    const [tab] = suite.tabs;

    const unauthorized = await press(tab, 'me');
    expect(unauthorized.code).toBe('ERR_UNAUTHORIZED');
    expect(unauthorized.action).toBe('What you can do: Sign in again.');

    await tab.page.fill('#password', 'wonderland');
    await tab.page.click('#signin button[type="submit"]');
    await waitForStatus(tab, 'active');

    const forbidden = await press(tab, 'admin');
    expect(forbidden.code).toBe('ERR_FORBIDDEN');
    expect(forbidden.action).toBe('What you can do: Ask for access.');

    const notFound = await press(tab, 'items/42');
    expect(notFound.code).toBe('ERR_NOT_FOUND');
    expect(notFound.action).toBe('What you can do: Go back.');

    // Each is the error's own userMessage (the page adds nothing), a different one for each failure, in plain words.
    const expected = await tab.page.evaluate(async () => {
      const { auth } = window.demo;
      const messages: string[] = [];
      for (const path of ['admin', 'items/42']) {
        try {
          await auth.http.get(path);
        } catch (error) {
          messages.push((error as { userMessage: string }).userMessage);
        }
      }
      return messages;
    });
    expect([forbidden.message, notFound.message]).toEqual(expected);
    const messages = [unauthorized.message, forbidden.message, notFound.message];
    expect(new Set(messages).size).toBe(3);
    for (const message of messages) {
      expect(message).toMatch(/^[A-Z].*[.]$/);
      expect(message).not.toMatch(/\b(401|403|404|token|HTTP|ERR_)/i);
    }
  });

  it('ends an attempt that outlives timeout: TimeoutError in the page, and the server sees the connection go', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'timeout', autoload: 0, idleTimeout: 0 })];
    const [tab] = suite.tabs;
    // In a browser every attempt carries an AbortSignal of its own (src/attempt.ts): a hung request must not keep
    // one of the few connections a page may open to an origin.
    const outcome = await tab.page.evaluate(async () => {
      const { lib } = window.demo;
      const client = lib.createAuthClient({ baseUrl: '/api/', timeout: 300, crossTab: false, storage: lib.memoryStorage() });
      // Signed in (the slow route wants a token), with a token from the demo's password grant.
      const grant = await fetch('/oauth/token', {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'password', client_id: 'demo-spa', username: 'alice', password: 'wonderland' }),
      });
      await client.login(await grant.json());
      const started = performance.now();
      try {
        await client.fetch('slow?ms=20000');
        return { resolved: true };
      } catch (error) {
        const e = error as { name: string; code?: string; timeout?: number };
        return { name: e.name, code: e.code, timeout: e.timeout, ms: performance.now() - started };
      } finally {
        client.dispose();
      }
    });
    expect(outcome).toMatchObject({ name: 'TimeoutError', code: 'ERR_TIMEOUT', timeout: 300 });
    expect(suite.server.stats.requestsByPath['/api/slow']).toBe(1);
    expect((outcome as { ms: number }).ms).toBeLessThan(3000);
    await vi.waitFor(() => expect(suite.server.stats.clientAborts).toBe(1), { timeout: 5000, interval: 20 });
    suite.server.resetStats();
  });

  it('keeps the session in IndexedDB across a reload', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'reload', idleTimeout: 0 })];
    const [tab] = suite.tabs;
    await tab.page.fill('#password', 'wonderland');
    await tab.page.click('#signin button[type="submit"]');
    await tab.page.waitForFunction(() => document.querySelector('#me-name')?.textContent === 'Alice Liddell', undefined, { timeout: 15_000 });
    const tokenCalls = suite.server.stats.tokenCalls;

    await tab.page.reload();
    await tab.page.waitForFunction(() => window.demo !== undefined, undefined, { timeout: 30_000 });

    // Restored without signing in again: the page loads the profile with the stored token.
    await tab.page.waitForFunction(() => document.querySelector('#me-name')?.textContent === 'Alice Liddell', undefined, { timeout: 15_000 });
    await waitForStatus(tab, 'active');
    expect(suite.server.stats.tokenCalls).toBe(tokenCalls);
    expect((await eventsOf(tab)).map((e) => e.type)).not.toContain('storageFallback');
  });

  it('falls back to memory with storageFallback where IndexedDB throws, and still works', async () => {
    // A context where opening IndexedDB throws synchronously (as some private modes and blocked contexts do).
    await suite.context.addInitScript(() => {
      IDBFactory.prototype.open = function open(): IDBOpenDBRequest {
        throw new DOMException('IndexedDB is blocked here', 'SecurityError');
      };
    });
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'blocked', idleTimeout: 0, autoload: 0 })];
    const [tab] = suite.tabs;

    expect(await waitForEvent(tab, 'storageFallback')).toMatchObject({ code: 'SecurityError' });
    await tab.page.waitForSelector('#fallback:not([hidden])', { timeout: 15_000 });

    // Sign-in and requests still work; the tokens are in memory.
    await tab.page.fill('#password', 'wonderland');
    await tab.page.click('#signin button[type="submit"]');
    await waitForStatus(tab, 'active');
    expect(await tab.page.evaluate(() => window.demo.call('me'))).toMatchObject({ ok: true });
  });

  it('saves a screenshot of the signed-in app with an error message and the event log (docs/spa.png, shown in the README)', async () => {
    suite.tabs = [await openTab(suite.context, suite.server, { storage: 'screenshot', idleTimeout: 0 })];
    const [tab] = suite.tabs;
    const { page } = tab;
    await page.fill('#password', 'wonderland');
    await page.click('#signin button[type="submit"]');
    await page.waitForFunction(() => document.querySelector('#me-name')?.textContent === 'Alice Liddell', undefined, { timeout: 15_000 });
    await page.evaluate(() => window.demo.auth.refresh());
    await waitForEvent(tab, 'refresh');
    const forbidden = await press(tab, 'admin');
    expect(forbidden.code).toBe('ERR_FORBIDDEN');

    // What the README promises is on the picture.
    expect(await page.textContent('#status')).toBe('signed in');
    expect(await page.locator('#log li').count()).toBeGreaterThanOrEqual(3);
    await page.mouse.move(0, 0); // no hover effect on the picture
    // `npm test` leaves the work tree clean: the picture goes to the ignored test-results/ unless the docs are being
    // updated on purpose (AUTHFETCH_UPDATE_DOCS=1 npx vitest run test/browser/app.test.ts).
    const folder = process.env.AUTHFETCH_UPDATE_DOCS === '1' ? 'docs' : 'test-results';
    const file = path.join(repoRoot, folder, 'spa.png');
    mkdirSync(path.dirname(file), { recursive: true });
    const png = await page.screenshot({ path: file, fullPage: true });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
