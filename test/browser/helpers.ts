/**
 * Shared by the browser tests (and `bench/tabs.ts`): find Chromium, make sure `dist/` is built, start the example
 * server with the example app, launch Chromium, open tabs of the app, and wait for what happens in them.
 *
 * The browser tests drive Debian's Chromium through playwright-core against the package's own build output
 * (`dist/index.js`), as ky runs its browser tests against its build. Without Chromium they are skipped with one line,
 * unless `AUTHFETCH_REQUIRE_BROWSER=1` (CI) makes that a failure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect } from 'vitest';
import { startExampleServer, type ExampleServer, type ExampleServerOptions } from '../../examples/server/index.mjs';
import { repoRoot, spaStaticMounts } from '../../examples/spa/mounts.mjs';
import type * as Authfetch from '../../src/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Chromium

/** Where Chromium is looked for: `CHROMIUM_PATH`, else Debian's package. */
export const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** CI sets `AUTHFETCH_REQUIRE_BROWSER=1`: a missing Chromium then fails the browser tests instead of skipping them. */
export const browserRequired = process.env.AUTHFETCH_REQUIRE_BROWSER === '1';
/** Whether Chromium is there. */
export const hasChromium = existsSync(chromiumPath);
/** Skip the browser suites: no Chromium, and nobody requires it. */
export const skipBrowser = !hasChromium && !browserRequired;

const SKIP_LINE = `browser tests skipped: no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`;

// Only under vitest: the benchmark imports these helpers too, and fails on its own without Chromium.
if (skipBrowser && process.env.VITEST) printSkipLineOnce();

/**
 * One line per test run, not one per browser test file: the files run in separate workers of one vitest process,
 * so a marker named after that process says whether another file printed it already.
 */
function printSkipLineOnce(): void {
  const runner = isMainThread ? process.ppid : process.pid;
  const marker = path.join(tmpdir(), `authfetch-browser-skip-${runner}`);
  try {
    writeFileSync(marker, '', { flag: 'wx' });
  } catch {
    return; // another file of this run printed it
  }
  process.stderr.write(`${SKIP_LINE}\n`);
}

/** The flags the brief fixes: headless, no sandbox (containers), and nothing that talks to the network by itself. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** Launch Chromium (a fresh user-data dir each time). Fails with a clear message when it is missing. */
export async function launchBrowser(): Promise<Browser> {
  if (!hasChromium) {
    const why = process.env.VITEST ? 'AUTHFETCH_REQUIRE_BROWSER=1, but there' : 'There';
    throw new Error(`${why} is no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM_PATH)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_ARGS, timeout: 60_000 });
}

// ---------------------------------------------------------------------------------------------------------------
// The build

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function distIsFresh(): boolean {
  const built = path.join(repoRoot, 'dist/index.js');
  if (!existsSync(built)) return false;
  const inputs = Math.max(
    newestMtime(path.join(repoRoot, 'src')),
    ...['tsup.config.ts', 'scripts/tidy-dts.mjs'].map((file) => statSync(path.join(repoRoot, file)).mtimeMs),
  );
  return statSync(built).mtimeMs >= inputs;
}

/**
 * The pages load `dist/index.js`, the package's real build. Build it (`tsup`, a few seconds) only when it is missing
 * or older than `src/`. Browser test files run in parallel workers, so one builds under a lock directory and the
 * others wait for it; a lock left by a killed run is taken over after two minutes.
 */
export async function ensureBuilt(): Promise<void> {
  if (distIsFresh()) return;
  const lock = path.join(repoRoot, 'node_modules/.cache/authfetch-browser-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (distIsFresh()) return;
      const age = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() - started > 180_000) throw new Error('timed out waiting for another test file to build dist/');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    if (distIsFresh()) return;
    const result = spawnSync(process.execPath, [path.join(repoRoot, 'node_modules/tsup/dist/cli-default.js')], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (result.status !== 0) {
      throw new Error(`building dist/ for the browser tests failed (npx tsup):\n${result.stdout}\n${result.stderr}`);
    }
    // The rest of `npm run build`: the consumer tests pack this dist/ and check its declarations.
    const tidy = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/tidy-dts.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (tidy.status !== 0) throw new Error(`scripts/tidy-dts.mjs failed:\n${tidy.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The example app

/** Start the example server serving the example app, on 127.0.0.1 (a secure context: Web Locks exist). */
export async function startApp(options: Omit<ExampleServerOptions, 'static'> = {}): Promise<ExampleServer> {
  const mounts = await spaStaticMounts();
  const server = await startExampleServer({ ...options, static: mounts });
  const close = server.close.bind(server);
  // The dependencies were bundled into a temporary directory for this server: remove it with the server.
  return Object.assign(server, {
    async close() {
      await close();
      rmSync(mounts['/vendor/'] as string, { recursive: true, force: true });
    },
  });
}

/** An event as the example app records it in `demo.events` (plain data, never a token). */
export interface LoggedEvent {
  type: string;
  at: number;
  source?: 'local' | 'other-tab';
  trigger?: string;
  reason?: string;
  pending?: number;
  remainingMs?: number;
  expiresAt?: number;
  code?: string;
}

/** What `demo.call()` resolves with. */
export type CallResult =
  | { ok: true; data: unknown }
  | { ok: false; code: string; status?: number; userMessage: string; action?: string };

/** `window.demo` of the example app (`examples/spa/app.js`). */
export interface DemoApi {
  auth: Authfetch.AuthClient;
  lib: typeof Authfetch;
  config: { storage: string; idleTimeout: number; idleWarning: number; loginRequired: 'wait' | 'reject' };
  events: LoggedEvent[];
  call(path: string): Promise<CallResult>;
  callAndShow(path: string): Promise<CallResult>;
  signIn(username: string, password: string): Promise<{ ok: true } | { ok: false; message: string }>;
  burst(n: number, path?: string): Promise<{ ok: number; codes: string[] }>;
  arm(n: number, path?: string): void;
  go(): void;
  armed(): Promise<{ ok: number; codes: string[]; startedAt: number; endedAt: number }> | undefined;
}

declare global {
  interface Window {
    demo: DemoApi;
  }
}

/** A tab of the example app, with the uncaught errors of its page. */
export interface Tab {
  page: Page;
  errors: string[];
}

/** Query parameters of the example app (see the top of `examples/spa/app.js`). */
export type AppParams = Record<string, string | number | boolean>;

/**
 * Open the example app in a new tab of `context` and wait until its script has run. `beforeLoad` runs on the blank
 * page first (e.g. to install Playwright's fake clock).
 */
export async function openTab(
  context: BrowserContext,
  server: ExampleServer,
  params: AppParams = {},
  beforeLoad?: (page: Page) => Promise<void>,
): Promise<Tab> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await beforeLoad?.(page);
  // These suites sign in with the password grant (demo.signIn), which the app uses with signin=password; the
  // identity-provider sign-in of the app has its own test (example-signin.test.ts).
  const query = new URLSearchParams(Object.entries({ signin: 'password', ...params }).map(([k, v]) => [k, String(v)]));
  await page.goto(`${server.url}/?${query}`, { timeout: 30_000 });
  await page.waitForFunction(() => window.demo !== undefined, undefined, { timeout: 30_000 });
  return { page, errors };
}

/**
 * A `beforeLoad` for `openTab`: the tab never hears the cross-tab notices of these types, as a tab whose channel
 * messages were held up (frozen in the background) or lost would. Every other message arrives as usual.
 */
export function deafTo(types: string[]): (page: Page) => Promise<void> {
  return async (page) => {
    await page.addInitScript((dropped: string[]) => {
      const onmessage = Object.getOwnPropertyDescriptor(BroadcastChannel.prototype, 'onmessage') as PropertyDescriptor;
      Object.defineProperty(BroadcastChannel.prototype, 'onmessage', {
        configurable: true,
        get(this: BroadcastChannel) {
          return onmessage.get?.call(this);
        },
        set(this: BroadcastChannel, handler: ((event: MessageEvent) => void) | null) {
          const filter = (event: MessageEvent) => {
            const type = (event.data as { type?: unknown } | null)?.type;
            if (typeof type === 'string' && dropped.includes(type)) return;
            handler?.call(this, event);
          };
          onmessage.set?.call(this, handler && filter);
        },
      });
    }, types);
  };
}

/** Open `n` tabs of the app at once. */
export function openTabs(context: BrowserContext, server: ExampleServer, n: number, params: AppParams = {}): Promise<Tab[]> {
  return Promise.all(Array.from({ length: n }, () => openTab(context, server, params)));
}

/** The events a tab has recorded so far. */
export function eventsOf(tab: Tab): Promise<LoggedEvent[]> {
  return tab.page.evaluate(() => window.demo.events);
}

/**
 * Wait (bounded) until the tab has recorded an event of `type` matching `fields`, and return it.
 * Polling is cheap: the events are an in-page array.
 */
export async function waitForEvent(tab: Tab, type: string, fields: Partial<LoggedEvent> = {}, timeout = 15_000): Promise<LoggedEvent> {
  const handle = await tab.page.waitForFunction(
    ([t, f]) => window.demo.events.find((e) => e.type === t && Object.entries(f).every(([k, v]) => (e as unknown as Record<string, unknown>)[k] === v)),
    [type, fields] as const,
    { timeout, polling: 50 },
  );
  return (await handle.jsonValue()) as LoggedEvent;
}

/** Wait (bounded) until the tab's session has the status. */
export async function waitForStatus(tab: Tab, status: string, timeout = 15_000): Promise<void> {
  await tab.page.waitForFunction((s) => window.demo.auth.session.status === s, status, { timeout, polling: 50 });
}

/** Sign in through the app's own sign-in code (the OAuth password grant, then `auth.login`). */
export async function signIn(tab: Tab): Promise<void> {
  const result = await tab.page.evaluate(() => window.demo.signIn('alice', 'wonderland'));
  if (!result.ok) throw new Error(`sign-in failed: ${result.message}`);
}

/** Sign in with a token response the test made (e.g. an already expired access token). */
export async function loginWith(tab: Tab, tokens: Authfetch.OAuthTokenResponse): Promise<void> {
  await tab.page.evaluate((t) => window.demo.auth.login(t), tokens);
}

/**
 * Fire `perTab` requests in every tab at the same moment: each tab arms, then one BroadcastChannel message starts
 * them all (closer together than evaluating in each tab in turn). Resolves with each tab's outcome: how many
 * succeeded and the error codes of the others.
 */
export async function burstAll(tabs: Tab[], perTab: number, path = 'me'): Promise<{ ok: number; codes: string[] }[]> {
  return (await burstAllTimed(tabs, perTab, path)).map(({ ok, codes }) => ({ ok, codes }));
}

/** `burstAll`, with when each tab's burst started and ended (epoch ms, comparable across tabs). */
export async function burstAllTimed(
  tabs: Tab[],
  perTab: number,
  path = 'me',
): Promise<{ ok: number; codes: string[]; startedAt: number; endedAt: number }[]> {
  await Promise.all(tabs.map((tab) => tab.page.evaluate(([n, p]) => window.demo.arm(n, p), [perTab, path] as const)));
  await tabs[0].page.evaluate(() => window.demo.go());
  return Promise.all(
    tabs.map(async (tab) => {
      const outcome = await tab.page.evaluate(() => window.demo.armed());
      if (!outcome) throw new Error('the tab was not armed');
      return outcome;
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// The suite lifecycle

/**
 * What a browser suite's tests work with. `browser` and `server` last for the file; `context` (and the `tabs` a test
 * opens in it) are new for every test. A test (or a nested `beforeEach`) may replace `context` and sets `tabs`.
 */
export interface BrowserSuite {
  readonly browser: Browser;
  readonly server: ExampleServer;
  context: BrowserContext;
  tabs: Tab[];
}

/** How `useBrowserSuite` starts what the suite shares. */
export interface BrowserSuiteOptions {
  /** Options of the example server (e.g. `refreshDelayMs`). */
  server?: Omit<ExampleServerOptions, 'static'>;
  /** Options of each test's browser context (e.g. a `viewport` for screenshots). */
  context?: BrowserContextOptions;
}

/**
 * Register the lifecycle every browser test file shares, inside its `describe`: build `dist/`, launch Chromium and
 * start the app once; give each test a fresh context (its own IndexedDB, so no test sees another's session), a
 * server without faults and with zeroed stats; and after each test close the context, failing a test that passed
 * if any of its tabs threw an uncaught error (an error in the app or the library must not go unnoticed).
 *
 * Returns one live object: read `suite.server`, `suite.context`, `suite.tabs` inside hooks and tests, not before.
 */
export function useBrowserSuite(options: BrowserSuiteOptions = {}): BrowserSuite {
  const suite = { tabs: [] } as unknown as { browser?: Browser; server?: ExampleServer; context?: BrowserContext; tabs: Tab[] };

  beforeAll(async () => {
    await ensureBuilt();
    [suite.browser, suite.server] = await Promise.all([launchBrowser(), startApp(options.server)]);
  });

  afterAll(async () => {
    await suite.browser?.close();
    await suite.server?.close();
  });

  beforeEach(async () => {
    suite.context = await (suite.browser as Browser).newContext(options.context);
    suite.tabs = [];
    (suite.server as ExampleServer).setFault('none');
    (suite.server as ExampleServer).resetStats();
  });

  afterEach(async (ctx) => {
    const errors = suite.tabs.flatMap((tab) => tab.errors);
    await suite.context?.close();
    if (ctx.task.result?.state !== 'fail') expect(errors).toEqual([]);
  });

  return suite as BrowserSuite;
}

/**
 * `describe` a browser suite with `useBrowserSuite` already registered, skipped (with the one line printed above)
 * where there is no Chromium and CI does not require it.
 */
export function describeInBrowser(name: string, body: (suite: BrowserSuite) => void): void;
/** The same, with options for the server and each test's browser context. */
export function describeInBrowser(name: string, options: BrowserSuiteOptions, body: (suite: BrowserSuite) => void): void;
export function describeInBrowser(
  name: string,
  optionsOrBody: BrowserSuiteOptions | ((suite: BrowserSuite) => void),
  maybeBody?: (suite: BrowserSuite) => void,
): void {
  const [options, body] = typeof optionsOrBody === 'function' ? [{}, optionsOrBody] : [optionsOrBody, maybeBody!];
  describe.skipIf(skipBrowser)(name, () => {
    body(useBrowserSuite(options));
  });
}
