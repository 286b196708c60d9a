/**
 * The React example app (examples/react/) built with Vite against dist/ and driven in Chromium: useSession and
 * useAuthEvent in a real page, TanStack Query retrying only what the typed errors call transient (a 403 or a 404
 * is asked once, a 503 three times), and the error boundary showing `userMessage` and the `action`.
 */
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startExampleServer, type ExampleServer } from '../../examples/server/index.mjs';
import { repoRoot } from '../../examples/spa/mounts.mjs';
import { ensureBuilt, launchBrowser, skipBrowser } from './helpers.js';

/** Where the app is built: ignored by git (`dist/`), replaced at every run. */
const appDist = path.join(repoRoot, 'examples/react/dist');

describe.skipIf(skipBrowser)('the React example app in Chromium', () => {
  let browser: Browser;
  let server: ExampleServer;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];

  beforeAll(async () => {
    await ensureBuilt();
    await build({ configFile: path.join(repoRoot, 'examples/react/vite.config.ts'), logLevel: 'warn' });
    [browser, server] = await Promise.all([launchBrowser(), startExampleServer({ static: { '/': appDist } })]);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  beforeEach(async () => {
    server.setFault('none');
    server.resetStats();
    context = await browser.newContext();
    page = await context.newPage();
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${server.url}/`);
  });

  afterEach(async (ctx) => {
    await context.close();
    if (ctx.task.result?.state !== 'fail') expect(pageErrors).toEqual([]);
  });

  const status = () => page.textContent('[data-testid="session-status"]');

  async function signIn(): Promise<void> {
    await page.fill('input[name="password"]', 'wonderland');
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
    await page.waitForSelector('[data-testid="session-status"]:text-is("active")');
  }

  /** Click a call's button; resolve with the result or the error boundary's message, action and code. */
  async function call(name: string): Promise<{ result?: unknown; message?: string; action?: string; code?: string }> {
    await page.click(`button[data-call="${name}"]`);
    const shown = await page.waitForSelector('[data-testid="result"], [role="alert"].error', { timeout: 20_000 });
    if ((await shown.getAttribute('data-testid')) === 'result') return { result: JSON.parse((await shown.textContent()) ?? '') };
    return {
      message: (await shown.$eval('p', (p) => p.textContent)) ?? undefined,
      action: (await shown.getAttribute('data-action')) ?? undefined,
      code: (await shown.getAttribute('data-code')) ?? undefined,
    };
  }

  it('signs in and shows the session through useSession; signs out', async () => {
    expect(await status()).toBe('signed-out');
    await page.fill('input[name="password"]', 'wrong');
    await page.click('form[aria-label="Sign in"] button[type="submit"]');
    expect(await page.textContent('form [role="status"]', { timeout: 10_000 })).toBe('Wrong user name or password.');
    await signIn();
    expect(await call('me')).toEqual({ result: expect.objectContaining({ sub: 'alice', name: 'Alice Liddell' }) });
    await page.click('button:text-is("Sign out")');
    await page.waitForSelector('[data-testid="session-status"]:text-is("signed-out")');
  });

  it('asks once for a 403 and a 404, and the boundary shows the message and the action', async () => {
    await signIn();
    const forbidden = await call('admin');
    expect(forbidden).toMatchObject({ code: 'ERR_FORBIDDEN', action: 'request-access' });
    expect(forbidden.message).toMatch(/access/i);
    expect(await page.textContent('[role="alert"].error button')).toBe('Request access');

    const missing = await call('missing');
    expect(missing).toMatchObject({ code: 'ERR_NOT_FOUND', action: 'go-back' });
    expect(server.stats.requestsByPath['/api/admin']).toBe(1);
    expect(server.stats.requestsByPath['/api/items/999']).toBe(1);
  });

  it('retries a 503 (transient) twice before the boundary offers to try again', async () => {
    await signIn();
    const unavailable = await call('unavailable');
    expect(unavailable).toMatchObject({ code: 'ERR_SERVER', action: 'retry' });
    expect(server.stats.requestsByPath['/api/status/503']).toBe(3);
  });

  it('a session that ends shows the banner (useAuthEvent) and the sign-in form, and signing in again works', async () => {
    await signIn();
    expect(await call('item')).toMatchObject({ result: expect.objectContaining({ id: 1 }) });
    server.expireAll();
    server.revokeRefreshTokens();
    // The call's 401 meets a rejected refresh: the session ends, the banner and the sign-in form replace the calls.
    await page.click('button[data-call="me"]');
    await page.waitForSelector('[data-testid="session-ended"]', { timeout: 20_000 });
    expect(await status()).toBe('expired');
    expect(await page.$('form[aria-label="Sign in"]')).not.toBeNull();
    expect(server.stats.requestsByPath['/api/me']).toBe(1); // a 401 is not retried by TanStack Query
    await signIn();
    expect(await page.$('[data-testid="session-ended"]')).toBeNull();
    expect(await call('me')).toMatchObject({ result: expect.objectContaining({ sub: 'alice' }) });
  });
});
