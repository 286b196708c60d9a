/**
 * Attack (browser side of test/attack/fetch-inputs.test.ts): inputs a page hands to `fetch` that are neither a
 * string, a `URL` of the page's realm nor a `Request`: `location`, and a `URL` made by a same-origin iframe's
 * constructor (another realm, so `instanceof URL` is false). fetch stringifies both; `auth.fetch` failed on them with
 * an untyped TypeError. Now they are resolved and checked as the strings they turn into: the token reaches the API
 * (authorized) and never the page's own origin (not authorized here).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRecordingServer, type RecordingServer } from '../helpers/recording.js';
import { describeInBrowser, openTab } from './helpers.js';

const TOKEN = 'browser-url-like-token';

describeInBrowser('URL-like inputs in Chromium', (suite) => {
  let api: RecordingServer;

  beforeAll(async () => {
    api = await startRecordingServer('127.0.0.2');
  });
  afterAll(() => api?.close());

  it('an iframe realm URL and location are fetched as fetch would, the token only to the API', async () => {
    const tab = await openTab(suite.context, suite.server, { autoload: 0, idleTimeout: 0, storage: 'url-likes' });
    suite.tabs = [tab];
    const outcomes = await tab.page.evaluate(
      async ({ apiUrl, token }) => {
        const { createAuthClient } = window.demo.lib;
        const frame = document.createElement('iframe');
        document.body.append(frame);
        const ForeignURL = (frame.contentWindow as unknown as { URL: typeof URL }).URL;
        const foreign = new ForeignURL(`${apiUrl}/from-iframe`);
        const auth = createAuthClient({ authorizedOrigins: [apiUrl], retry: 0, crossTab: false });
        await auth.login({ accessToken: token });
        const results: (number | string)[] = [foreign instanceof URL ? 'same realm' : 'other realm'];
        for (const input of [foreign, location, { toString: () => `${apiUrl}/stringified` }]) {
          try {
            results.push((await auth.fetch(input as unknown as string)).status);
          } catch (error) {
            results.push(`${(error as Error).name}: ${(error as Error).message}`);
          }
        }
        auth.dispose();
        frame.remove();
        return results;
      },
      { apiUrl: api.url, token: TOKEN },
    );
    expect(outcomes).toEqual(['other realm', 200, 200, 200]);
    expect(api.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/from-iframe', `Bearer ${TOKEN}`],
      ['/stringified', `Bearer ${TOKEN}`],
    ]);
  });
});
