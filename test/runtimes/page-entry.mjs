// @ts-check
/**
 * The flow in a browser page, bundled with the built package by esbuild (`bundle.ts`) and loaded by `page.html`.
 * It exposes `window.runtimes` for the runner (playwright-core for Chromium, puppeteer-core for Firefox):
 * `page(urls)` runs the flow in the page, `worker(urls)` in a module Web Worker (`worker.js`), and `tab` drives one
 * tab of the two-tab check (clients over one IndexedDB storage, so one refresh serves both tabs).
 */
import * as lib from '../../dist/index.js';
import { passwordSignIn, runFlow, tabClient } from './flow.mjs';

/** @typedef {import('./flow.mjs').FlowUrls} FlowUrls */

/** @type {import('../../dist/index.js').AuthClient | undefined} */
let tab;
/** @type {{ trigger: string, source: string }[]} */
const tabRefreshes = [];

const runtimes = {
  /** @param {FlowUrls} urls */
  page: (urls) => runFlow(lib, urls),

  /** @param {FlowUrls} urls */
  worker(urls) {
    return new Promise((resolve, reject) => {
      const worker = new Worker(new URL('./worker.js', location.href), { type: 'module' });
      const timer = setTimeout(() => reject(new Error('the worker did not answer within 60 s')), 60_000);
      worker.onmessage = (event) => {
        clearTimeout(timer);
        worker.terminate();
        resolve(event.data);
      };
      worker.onerror = (event) => {
        clearTimeout(timer);
        reject(new Error(`worker error: ${event.message}`));
      };
      worker.postMessage(urls);
    });
  },

  tab: {
    /** @param {FlowUrls} urls */
    start(urls) {
      tab = tabClient(lib, urls);
      tab.on('refresh', (event) => void tabRefreshes.push(event));
    },
    /** @param {FlowUrls} urls */
    async signIn(urls) {
      await tab?.login(await passwordSignIn(urls));
    },
    status: () => tab?.session.status,
    refreshes: () => tabRefreshes,
    /** @returns {Promise<{ ok: boolean, code?: string }>} */
    async call() {
      try {
        await tab?.http.get('me').json();
        return { ok: true };
      } catch (error) {
        return { ok: false, code: lib.isAuthFetchError(error) ? error.code : String(error) };
      }
    },
  },
};

/** @type {{ runtimes?: typeof runtimes }} */ (/** @type {unknown} */ (window)).runtimes = runtimes;
