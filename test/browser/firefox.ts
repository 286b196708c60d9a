/**
 * Firefox for the tests: Debian's Firefox ESR (`/usr/bin/firefox-esr`, `apt-get install firefox-esr`) driven by
 * puppeteer-core 24 over WebDriver BiDi. Playwright cannot drive a stock Firefox, and puppeteer-core 25 needs
 * Node 22. Check `hasFirefox` first: as with Chromium (`helpers.ts`), a missing Firefox should be a skip with one
 * line, and a failure under `AUTHFETCH_REQUIRE_BROWSER=1` or `CI=true` (as `npm run test:runtimes` does).
 */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Where Firefox is looked for: `FIREFOX_PATH`, else Debian's Firefox ESR. */
export const firefoxPath = process.env.FIREFOX_PATH || '/usr/bin/firefox-esr';
/** Whether Firefox is there. */
export const hasFirefox = existsSync(firefoxPath);

/**
 * Launch headless Firefox with a fresh profile (puppeteer makes and removes a temporary one). Fails with a clear
 * message when it is missing.
 */
export async function launchFirefox(): Promise<Browser> {
  if (!hasFirefox) throw new Error(`There is no Firefox at ${firefoxPath} (apt-get install firefox-esr, or set FIREFOX_PATH)`);
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: firefoxPath,
    headless: true,
    protocol: 'webDriverBiDi',
    timeout: 60_000,
    // Nothing that talks to the network by itself: the tests reach only 127.0.0.1.
    extraPrefsFirefox: {
      'app.update.enabled': false,
      'browser.safebrowsing.malware.enabled': false,
      'browser.safebrowsing.phishing.enabled': false,
      'network.captive-portal-service.enabled': false,
      'network.connectivity-service.enabled': false,
      'datareporting.policy.dataSubmissionEnabled': false,
      'toolkit.telemetry.enabled': false,
    },
  });
}
