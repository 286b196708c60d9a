/**
 * `npm run test:runtimes`: the same flow (`flow.mjs`: sign in, call, forced 401 with one refresh, 403, 404, timeout,
 * session end) against the example server in every runtime the package claims: Node, Bun, Deno, workerd through
 * miniflare at two compatibility dates (before and after 2024-11-11, when workerd began to accept
 * `cache: 'no-store'` in a fetch init), a Chromium page and module Web Worker (playwright-core), and Firefox ESR
 * (puppeteer-core over WebDriver BiDi): a page, a module worker, and two tabs that share one refresh.
 *
 * Each runtime prints one result line as it finishes; then a summary table. Exits 1 when any runtime fails. A runtime
 * that is not installed is a skip locally and a failure under `CI=true` or `AUTHFETCH_REQUIRE_BROWSER=1`.
 *
 *   npm run test:runtimes            (builds dist/ first)
 *   npm run test:runtimes -- deno    (only the runtimes whose name contains one of the words given)
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { startExampleServer, type ExampleServer, type Fault } from '../../examples/server/index.mjs';
import { hasFirefox, launchFirefox } from '../browser/firefox.js';
import { hasChromium, launchBrowser } from '../browser/helpers.js';
import { bundleFlow, type FlowBundles } from './bundle.js';

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const bin = (name: string) => path.join(repoRoot, 'node_modules/.bin', name);
const cliEntry = path.join(import.meta.dirname, 'cli-entry.mjs');

/** workerd refused `cache: 'no-store'` before this compatibility date; one date on each side of it. */
const WORKERD_DATES = ['2024-09-23', '2025-07-18'];
/** Bound on one runtime's whole run (launch included): a hang is a failure, not a stuck CI job. */
const RUNTIME_TIMEOUT_MS = 120_000;
const required = process.env.CI === 'true' || process.env.AUTHFETCH_REQUIRE_BROWSER === '1';

interface Step {
  name: string;
  ok: boolean;
  detail?: string;
}
interface FlowResult {
  ok: boolean;
  steps: Step[];
  ms: number;
}
interface FlowUrls {
  server: string;
  control: string;
}

/** One line of the summary. */
interface Outcome {
  runtime: string;
  version: string;
  status: 'pass' | 'fail' | 'missing';
  ms: number;
  detail: string;
}

/** What a runtime's runner gives back: its version and the flow's result (or the results, for several checks). */
interface RunnerResult {
  version: string;
  result: FlowResult;
}

interface Runtime {
  name: string;
  /** Why it cannot run here, or undefined when it can. */
  missing(): string | undefined;
  run(urls: FlowUrls, context: Shared): Promise<RunnerResult>;
}

/** What the runtimes share: the example server (serving the bundles) and the bundles. */
interface Shared {
  server: ExampleServer;
  bundles: FlowBundles;
}

// ---------------------------------------------------------------------------------------------------------------
// The control server: the flow's way to make the example server meet each case, from any runtime (CORS open).

function startControl(server: ExampleServer): Promise<Server> {
  const control = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Content-Type', 'application/json');
    if (url.pathname === '/expire') server.expireAll();
    else if (url.pathname === '/fault') server.setFault((url.searchParams.get('name') ?? 'none') as Fault);
    else if (url.pathname !== '/stats') {
      res.statusCode = 404;
      res.end('{}');
      return;
    }
    res.end(JSON.stringify({ refreshCalls: server.stats.refreshCalls }));
  });
  return new Promise((resolve) => control.listen(0, '127.0.0.1', () => resolve(control)));
}

// ---------------------------------------------------------------------------------------------------------------
// The runtimes

async function cli(command: string, args: string[]): Promise<FlowResult> {
  const { stdout } = await run(command, args, { cwd: repoRoot, timeout: RUNTIME_TIMEOUT_MS, maxBuffer: 4 << 20 });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as FlowResult;
}

async function versionOf(command: string, args: string[]): Promise<string> {
  const { stdout } = await run(command, args);
  return stdout.trim().split('\n')[0] ?? '';
}

const cliRuntimes: Runtime[] = [
  {
    name: 'Node',
    missing: () => undefined,
    run: async (urls) => ({ version: process.version, result: await cli(process.execPath, [cliEntry, urls.server, urls.control]) }),
  },
  {
    name: 'Bun',
    missing: () => (existsSync(bin('bun')) ? undefined : 'no node_modules/.bin/bun (npm ci installs it)'),
    run: async (urls) => ({
      version: `Bun ${await versionOf(bin('bun'), ['--version'])}`,
      result: await cli(bin('bun'), [cliEntry, urls.server, urls.control]),
    }),
  },
  {
    name: 'Deno',
    missing: () => (existsSync(bin('deno')) ? undefined : 'no node_modules/.bin/deno (npm ci installs it)'),
    run: async (urls) => ({
      version: (await versionOf(bin('deno'), ['--version'])).replace(/ \(.*/, ''),
      // Deno resolves the package's bare imports from node_modules (package.json present); network only to loopback.
      result: await cli(bin('deno'), ['run', '--allow-net=127.0.0.1', '--allow-read', '--allow-env', cliEntry, urls.server, urls.control]),
    }),
  },
];

const workerdRuntimes: Runtime[] = WORKERD_DATES.map((date) => ({
  name: `workerd (compatibility date ${date})`,
  missing: () => (existsSync(path.join(repoRoot, 'node_modules/miniflare')) ? undefined : 'miniflare is not installed'),
  async run(urls, { bundles }) {
    const { Miniflare } = await import('miniflare');
    const mf = new Miniflare({ modules: true, script: bundles.workerdScript, compatibilityDate: date });
    try {
      const query = new URLSearchParams({ server: urls.server, control: urls.control });
      const response = await mf.dispatchFetch(`http://localhost/?${query}`);
      const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules/workerd/package.json'), 'utf8')) as { version: string };
      return { version: `workerd ${pkg.version} (miniflare 3)`, result: (await response.json()) as FlowResult };
    } finally {
      await mf.dispose();
    }
  },
}));

/** The calls a browser runner makes into `window.runtimes` (page-entry.mjs). */
declare global {
  interface Window {
    runtimes: {
      page(urls: FlowUrls): Promise<FlowResult>;
      worker(urls: FlowUrls): Promise<FlowResult>;
      tab: {
        start(urls: FlowUrls): void;
        signIn(urls: FlowUrls): Promise<void>;
        status(): string | undefined;
        refreshes(): { trigger: string; source: string }[];
        call(): Promise<{ ok: boolean; code?: string }>;
      };
    };
  }
}

const chromiumRuntimes: Runtime[] = (['page', 'worker'] as const).map((where) => ({
  name: `Chromium ${where === 'page' ? 'page' : 'module worker'}`,
  missing: () => (hasChromium ? undefined : 'no Chromium (apt-get install chromium)'),
  async run(urls, { server }) {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => window.runtimes !== undefined, undefined, { timeout: 30_000 });
      const result = await page.evaluate(([w, u]) => window.runtimes[w](u), [where, urls] as const);
      return { version: `Chromium ${browser.version()}`, result: withPageErrors(result, errors) };
    } finally {
      await browser.close();
    }
  },
}));

function withPageErrors(result: FlowResult, errors: string[]): FlowResult {
  if (errors.length === 0) return result;
  return { ...result, ok: false, steps: [...result.steps, { name: 'page errors', ok: false, detail: errors.join(' | ') }] };
}

async function firefoxPage(browser: import('puppeteer-core').Browser, server: ExampleServer, errors: string[]) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => errors.push(error instanceof Error ? error.message : String(error)));
  await page.goto(`${server.url}/`);
  await page.waitForFunction(() => window.runtimes !== undefined, { timeout: 30_000, polling: 50 });
  return page;
}

const firefoxRuntimes: Runtime[] = [
  ...(['page', 'worker'] as const).map(
    (where): Runtime => ({
      name: `Firefox ESR ${where === 'page' ? 'page' : 'module worker'}`,
      missing: () => (hasFirefox ? undefined : 'no Firefox ESR (apt-get install firefox-esr)'),
      async run(urls, { server }) {
        const browser = await launchFirefox();
        try {
          const errors: string[] = [];
          const page = await firefoxPage(browser, server, errors);
          const result = await page.evaluate((w, u) => window.runtimes[w](u), where, urls);
          return { version: await firefoxVersion(browser), result: withPageErrors(result, errors) };
        } finally {
          await browser.close();
        }
      },
    }),
  ),
  {
    name: 'Firefox ESR two tabs',
    missing: () => (hasFirefox ? undefined : 'no Firefox ESR (apt-get install firefox-esr)'),
    async run(urls, { server }) {
      const browser = await launchFirefox();
      try {
        const errors: string[] = [];
        const tabs = [await firefoxPage(browser, server, errors), await firefoxPage(browser, server, errors)];
        const steps: Step[] = [];
        const started = Date.now();
        const check = async (name: string, body: () => Promise<string | undefined>) => {
          try {
            const failure = await body();
            steps.push(failure === undefined ? { name, ok: true } : { name, ok: false, detail: failure });
          } catch (error) {
            steps.push({ name, ok: false, detail: `threw ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` });
          }
        };
        await check('sign in, seen by the other tab', async () => {
          for (const tab of tabs) await tab.evaluate((u) => window.runtimes.tab.start(u), urls);
          await tabs[0]!.evaluate((u) => window.runtimes.tab.signIn(u), urls);
          // The other tab hears the sign-in (BroadcastChannel) and reads the tokens from IndexedDB.
          await tabs[1]!.waitForFunction(() => window.runtimes.tab.status() === 'active', { timeout: 10_000, polling: 50 });
          return undefined;
        });
        await check('401 in both tabs, one refresh', async () => {
          server.expireAll();
          const before = server.stats.refreshCalls;
          const hitsBefore = server.stats.requestsByPath['/api/me'] ?? 0;
          const answers = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.runtimes.tab.call())));
          const refreshCalls = server.stats.refreshCalls - before;
          if (!answers.every((answer) => answer.ok)) return `answers ${JSON.stringify(answers)}`;
          if (refreshCalls !== 1) return `${refreshCalls} refresh calls`;
          // Both tabs met the 401 (two requests each: the 401 and the replay), one refreshed and the other used its
          // tokens (told by the channel, or re-reading storage under the lock): one refresh event in each tab.
          const hits = (server.stats.requestsByPath['/api/me'] ?? 0) - hitsBefore;
          const events = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.runtimes.tab.refreshes())));
          const sources = events.map((list) => list.map((event) => event.source).join(',')).sort();
          if (hits !== 4) return `${hits} API requests for 2 calls (expected a 401 and a replay each)`;
          return sources.join(' ') === 'local other-tab' ? undefined : `refresh events by tab: ${JSON.stringify(events)}`;
        });
        const result = { ok: steps.every((s) => s.ok), steps, ms: Date.now() - started };
        return { version: await firefoxVersion(browser), result: withPageErrors(result, errors) };
      } finally {
        await browser.close();
      }
    },
  },
];

async function firefoxVersion(browser: import('puppeteer-core').Browser): Promise<string> {
  return (await browser.version()).replace(/^firefox\//i, 'Firefox ');
}

// ---------------------------------------------------------------------------------------------------------------
// The run

function failures(result: FlowResult): string {
  return result.steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail ?? 'failed'}`).join('; ') || 'incomplete';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function line(outcome: Outcome): string {
  const status = { pass: 'PASS', fail: 'FAIL', missing: required ? 'FAIL' : 'SKIP' }[outcome.status];
  const time = `${(outcome.ms / 1000).toFixed(1)} s`.padStart(7);
  return `${status}  ${outcome.runtime.padEnd(38)} ${time}  ${outcome.version}${outcome.detail ? `  ${outcome.detail}` : ''}`;
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).map((word) => word.toLowerCase());
  const runtimes = [...cliRuntimes, ...workerdRuntimes, ...chromiumRuntimes, ...firefoxRuntimes].filter(
    (runtime) => only.length === 0 || only.some((word) => runtime.name.toLowerCase().includes(word)),
  );
  const started = Date.now();
  const bundles = await bundleFlow();
  // A slow token endpoint makes the requests of both tabs overlap the one refresh (tabs share ~6 connections).
  const server = await startExampleServer({ refreshDelayMs: 400, static: { '/': bundles.dir } });
  const control = await startControl(server);
  const urls: FlowUrls = { server: server.url, control: `http://127.0.0.1:${(control.address() as AddressInfo).port}` };
  const outcomes: Outcome[] = [];
  try {
    for (const runtime of runtimes) {
      server.setFault('none');
      server.resetStats();
      const at = Date.now();
      const missing = runtime.missing();
      let outcome: Outcome;
      if (missing !== undefined) {
        outcome = { runtime: runtime.name, version: '-', status: 'missing', ms: 0, detail: missing };
      } else {
        try {
          const { version, result } = await withTimeout(runtime.run(urls, { server, bundles }), RUNTIME_TIMEOUT_MS, runtime.name);
          outcome = { runtime: runtime.name, version, status: result.ok ? 'pass' : 'fail', ms: Date.now() - at, detail: result.ok ? '' : failures(result) };
        } catch (error) {
          const message = error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error);
          outcome = { runtime: runtime.name, version: '?', status: 'fail', ms: Date.now() - at, detail: `could not run: ${message}` };
        }
      }
      outcomes.push(outcome);
      console.log(line(outcome));
    }
  } finally {
    control.close();
    await server.close();
    rmSync(bundles.dir, { recursive: true, force: true });
  }

  const failed = outcomes.filter((o) => o.status === 'fail' || (o.status === 'missing' && required));
  console.log(`\n| runtime | version | result | time |\n|---|---|---|---|`);
  for (const o of outcomes) {
    const result = o.status === 'pass' ? 'pass' : o.status === 'fail' ? 'FAIL' : required ? 'FAIL (missing)' : 'skipped (missing)';
    console.log(`| ${o.runtime} | ${o.version} | ${result} | ${(o.ms / 1000).toFixed(1)} s |`);
  }
  const total = ((Date.now() - started) / 1000).toFixed(1);
  const passed = outcomes.filter((o) => o.status === 'pass').length;
  const skipped = outcomes.filter((o) => o.status === 'missing' && !required);
  console.log(
    `\n${passed} of ${outcomes.length} runtimes passed in ${total} s` +
      (skipped.length ? `; skipped (not installed): ${skipped.map((o) => o.runtime).join(', ')}` : '') +
      (failed.length ? `; failed: ${failed.map((o) => o.runtime).join(', ')}` : ''),
  );
  if (outcomes.length === 0) console.log(`no runtime matches ${only.join(', ')}`);
  return failed.length === 0 && outcomes.length > 0 ? 0 : 1;
}

process.exitCode = await main();
