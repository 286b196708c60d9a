/**
 * bench:tabs — one refresh for any number of tabs (DESIGN behaviour 2), measured in a real browser.
 *
 * For N = 1, 5 and 10 tabs of the example app in ONE Chromium context (so they share IndexedDB, BroadcastChannel and
 * Web Locks), all signed in with an access token that has already expired, every tab fires 20 requests at the same
 * moment (one BroadcastChannel message starts them all). Target for every N: exactly one refresh call at the token
 * endpoint, no refresh token presented twice, all N x 20 requests succeed. Each N runs 3 rounds in a fresh context;
 * the wall time (first request sent to last response, across all tabs) is reported as the median of the rounds.
 *
 * The token endpoint answers refreshes after 200 ms, like a real one across a network, which also makes the tabs
 * overlap (tabs share about six HTTP/1.1 connections per host, so a fast endpoint would serialize them and hide races).
 *
 * Run: `npm run bench:tabs` (builds first). Needs Chromium (/usr/bin/chromium or CHROMIUM_PATH).
 */
import type { Browser } from 'playwright-core';
import type { ExampleServer } from '../examples/server/index.mjs';
import { burstAllTimed, launchBrowser, loginWith, openTabs, startApp, waitForStatus } from '../test/browser/helpers.js';
import { Deadline, finish, median, ms, printTable, verdict, within } from './lib.js';

const TAB_COUNTS = [1, 5, 10];
const REQUESTS_PER_TAB = 20;
const ROUNDS = 3;
const REFRESH_DELAY_MS = 200;

interface Round {
  refreshCalls: number;
  reuseDetected: number;
  ok: number;
  failures: string[];
  wallMs: number;
}

async function round(browser: Browser, server: ExampleServer, tabCount: number): Promise<Round> {
  const context = await browser.newContext();
  try {
    const tabs = await openTabs(context, server, tabCount, { storage: 'bench', autoload: 0, idleTimeout: 0, loginRequired: 'reject' });
    // An access token that expired on arrival: every tab must renew before its first request.
    await loginWith(tabs[0], await server.issueTokens({ ttl: 0 }));
    await Promise.all(tabs.map((tab) => waitForStatus(tab, 'active')));
    server.resetStats();

    const outcomes = await within(burstAllTimed(tabs, REQUESTS_PER_TAB), 60_000, `the burst of ${tabCount} tab(s)`);

    return {
      refreshCalls: server.stats.refreshCalls,
      reuseDetected: server.stats.reuseDetected,
      ok: outcomes.reduce((sum, o) => sum + o.ok, 0),
      failures: outcomes.flatMap((o) => o.codes),
      wallMs: Math.max(...outcomes.map((o) => o.endedAt)) - Math.min(...outcomes.map((o) => o.startedAt)),
    };
  } finally {
    await context.close();
  }
}

async function main(): Promise<void> {
  const deadline = new Deadline(180_000, 'bench:tabs');
  const [browser, server] = await Promise.all([launchBrowser(), startApp({ refreshDelayMs: REFRESH_DELAY_MS })]);
  try {
    console.log(`bench:tabs — ${REQUESTS_PER_TAB} requests per tab at once, expired token, token endpoint delay ${REFRESH_DELAY_MS} ms, ${ROUNDS} rounds per N`);
    console.log(`  ${browser.version()} (Chromium), example server ${server.url}`);
    console.log('');
    const rows: string[][] = [['tabs', 'requests', 'refresh calls', 'reuse', 'ok', 'wall (median)', 'wall (min-max)']];
    const results: { tabs: number; rounds: Round[] }[] = [];
    for (const tabCount of TAB_COUNTS) {
      const rounds: Round[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        deadline.check(`N=${tabCount}, round ${i + 1}`);
        rounds.push(await round(browser, server, tabCount));
      }
      results.push({ tabs: tabCount, rounds });
      const walls = rounds.map((r) => r.wallMs);
      rows.push([
        String(tabCount),
        String(tabCount * REQUESTS_PER_TAB),
        rounds.map((r) => r.refreshCalls).join(' / '),
        rounds.map((r) => r.reuseDetected).join(' / '),
        rounds.map((r) => r.ok).join(' / '),
        ms(median(walls), 0),
        `${ms(Math.min(...walls), 0)} - ${ms(Math.max(...walls), 0)}`,
      ]);
    }
    printTable(rows);
    console.log('');
    for (const { tabs, rounds } of results) {
      const expected = tabs * REQUESTS_PER_TAB;
      const ok = rounds.every((r) => r.refreshCalls === 1 && r.reuseDetected === 0 && r.ok === expected);
      const failures = [...new Set(rounds.flatMap((r) => r.failures))];
      verdict(
        `N=${tabs}: one refresh for ${expected} requests`,
        ok,
        `refresh calls ${rounds.map((r) => r.refreshCalls).join(', ')}; reuse ${rounds.map((r) => r.reuseDetected).join(', ')}; ` +
          `${rounds.map((r) => r.ok).join(', ')} of ${expected} ok${failures.length > 0 ? ` (failures: ${failures.join(', ')})` : ''}; ` +
          `wall ${ms(median(rounds.map((r) => r.wallMs)), 0)}`,
      );
    }
    finish('bench:tabs');
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
