/**
 * One URL per request and redirects in Chromium (DESIGN behaviours 5, 9, 10), where fetch itself resolves strings
 * against `document.baseURI` and a manual redirect is opaque. The page is the example app on 127.0.0.1 (the built
 * package); the API is a recording server on 127.0.0.2 (the only authorized origin) and a third origin on 127.0.0.3,
 * both answering CORS. The same rules in Node are in test/urls.test.ts and test/redirects.test.ts.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { redirectVia, startRecordingServer, type Recorded, type RecordingServer } from '../helpers/recording.js';
import { describeInBrowser, openTab, type Tab } from './helpers.js';

const TOKEN = 'browser-url-token';

describeInBrowser('URLs and redirects in Chromium', (suite) => {
  let api: RecordingServer;
  let third: RecordingServer;

  beforeAll(async () => {
    [api, third] = await Promise.all([startRecordingServer('127.0.0.2'), startRecordingServer('127.0.0.3')]);
  });
  afterAll(() => Promise.all([api?.close(), third?.close()]));
  beforeEach(() => {
    api.reset();
    third.reset();
  });

  async function tab(): Promise<Tab> {
    const opened = await openTab(suite.context, suite.server, { autoload: 0, idleTimeout: 0, storage: 'urls' });
    suite.tabs = [opened];
    return opened;
  }

  /** What reached a server (CORS preflights aside), and with which credentials. */
  const arrived = (server: RecordingServer) =>
    server.requests.map((r: Recorded) => ({ path: r.url.split('?')[0], authorization: r.headers.authorization, dpop: r.headers.dpop !== undefined }));

  /**
   * In the page: a client authorized for `apiUrl` only, signed in, that runs `inputs` through auth.fetch (each
   * outcome: a status or an error code) and reports its events and refreshes.
   */
  function runInPage(page: Tab['page'], scenario: { apiUrl: string; baseUrl?: string; base?: string; dpop?: boolean; inputs: string[] }) {
    return page.evaluate(async ({ apiUrl, baseUrl, base, dpop, inputs, token }) => {
      const { createAuthClient, customRefresh, dpop: makeDpop } = window.demo.lib;
      if (base !== undefined) {
        const element = document.createElement('base');
        element.href = base;
        document.head.append(element);
      }
      let refreshes = 0;
      const auth = createAuthClient({
        baseUrl,
        authorizedOrigins: [apiUrl],
        retry: 0,
        crossTab: false,
        dpop: dpop ? makeDpop({ keyStorage: 'memory', name: 'urls-test' }) : undefined,
        refresh: customRefresh(() => {
          refreshes += 1;
          return { accessToken: `${token}-new`, tokenType: dpop ? 'DPoP' : 'Bearer' };
        }),
      });
      const events: string[] = [];
      for (const type of ['unauthorized', 'stepUp', 'forbidden', 'sessionExpired', 'loginRequired', 'refresh'] as const) {
        auth.on(type, () => events.push(type));
      }
      await auth.login({ accessToken: token, tokenType: dpop ? 'DPoP' : 'Bearer' });
      const outcomes: (number | string)[] = [];
      for (const input of inputs) {
        try {
          outcomes.push((await auth.fetch(input)).status);
        } catch (error) {
          const { code, action } = error as { code?: string; action?: string };
          outcomes.push(`${code ?? (error as Error).name}/${action ?? ''}`);
        }
      }
      document.querySelectorAll('base').forEach((element) => element.remove());
      auth.dispose();
      return { outcomes, events, refreshes };
    }, { ...scenario, token: TOKEN });
  }

  it('resolves strings as fetch does, against <base href>, and sends the token only where the checked URL is', async () => {
    const { page } = await tab();
    const apiHostPort = `${api.host}:${api.port}`;
    const result = await runInPage(page, {
      apiUrl: api.url,
      base: `${third.url}/base/`,
      inputs: [`http:${apiHostPort}/relative-to-base`, 'path', `//${apiHostPort}/protocol-relative`, `${api.url}/absolute`],
    });
    expect(result.outcomes).toEqual([200, 200, 200, 200]);
    // "http:host:port/x" and "path" went where Chromium resolves them (the <base>), without the token.
    expect(arrived(third)).toEqual([
      { path: `/base/${apiHostPort}/relative-to-base`, authorization: undefined, dpop: false },
      { path: '/base/path', authorization: undefined, dpop: false },
    ]);
    expect(arrived(api)).toEqual([
      { path: '/protocol-relative', authorization: `Bearer ${TOKEN}`, dpop: false },
      { path: '/absolute', authorization: `Bearer ${TOKEN}`, dpop: false },
    ]);
  });

  it('odd spellings of the API origin reach the API with the token, and the token goes nowhere else', async () => {
    const { page } = await tab();
    const apiHostPort = `${api.host}:${api.port}`;
    const inputs = [
      `\\\\${apiHostPort}/backslashes`,
      `/\\${apiHostPort}/slash-backslash`,
      `HTTP://${apiHostPort}/upper`,
      `  ${api.url}/spaced  `,
      `${api.url}/t\tab`,
      `http:\\\\${apiHostPort}/scheme-backslashes`,
      `http:/${apiHostPort}/one-slash`,
    ];
    const result = await runInPage(page, { apiUrl: api.url, base: `${third.url}/base/`, inputs });
    expect(result.outcomes).toEqual(inputs.map(() => 200));
    // Chromium went where authfetch resolved (the same parser, the same base): the API got the token each time it was
    // the target, and a string that Chromium reads as relative (one slash) went to the base without it.
    expect(arrived(api).map((r) => [r.path, r.authorization])).toEqual(
      ['/backslashes', '/slash-backslash', '/upper', '/spaced', '/tab', '/scheme-backslashes'].map((path) => [path, `Bearer ${TOKEN}`]),
    );
    expect(arrived(third)).toEqual([{ path: `/${apiHostPort}/one-slash`, authorization: undefined, dpop: false }]);
  });

  it('with baseUrl, paths go to it with the token, whatever the <base>', async () => {
    const { page } = await tab();
    const result = await runInPage(page, { apiUrl: api.url, baseUrl: `${api.url}/v1`, base: `${third.url}/base/`, inputs: ['me', '/me'] });
    expect(result.outcomes).toEqual([200, 200]);
    expect(arrived(api).map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(arrived(third)).toEqual([]);
  });

  it("Bearer: a cross-origin redirect drops Authorization, and the other origin's 401 changes nothing", async () => {
    const { page } = await tab();
    const result = await runInPage(page, {
      apiUrl: api.url,
      inputs: [redirectVia(api, '/moved', `${third.url}/landing`), redirectVia(api, '/moved', `${third.url}/guarded?status=401`, 307)],
    });
    expect(result).toEqual({ outcomes: [200, 401], events: [], refreshes: 0 });
    expect(arrived(api).map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`, `Bearer ${TOKEN}`]);
    expect(arrived(third)).toEqual([
      { path: '/landing', authorization: undefined, dpop: false },
      { path: '/guarded', authorization: undefined, dpop: false },
    ]);
  });

  it('DPoP: a redirect is not followed where the browser hides its target, so no proof reaches another origin', async () => {
    const { page } = await tab();
    const result = await runInPage(page, {
      apiUrl: api.url,
      dpop: true,
      inputs: [redirectVia(api, '/moved', `${third.url}/landing`), redirectVia(api, '/same', `${api.url}/new`), `${api.url}/plain`],
    });
    expect(result).toEqual({ outcomes: ['ERR_NETWORK/contact-support', 'ERR_NETWORK/contact-support', 200], events: [], refreshes: 0 });
    expect(arrived(third)).toEqual([]);
    expect(arrived(api)).toEqual([
      { path: '/moved', authorization: `DPoP ${TOKEN}`, dpop: true },
      { path: '/same', authorization: `DPoP ${TOKEN}`, dpop: true },
      { path: '/plain', authorization: `DPoP ${TOKEN}`, dpop: true },
    ]);
  });
});
