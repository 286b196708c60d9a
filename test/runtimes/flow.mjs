// @ts-check
/**
 * The one flow `npm run test:runtimes` runs in every runtime (Node, Bun, Deno, workerd, a Chromium page and module
 * worker, Firefox), in plain JavaScript that each of them runs unchanged. It is given the package (the built
 * `dist/index.js`, loaded however that runtime loads it) and two URLs: the example server (`examples/server/`), and
 * the runner's control server, which makes the example server meet each case (expire every access token, fail the
 * token endpoint, report its counters).
 *
 * Steps: sign in (the example's password grant, then `login()`), call, a forced 401 met by three requests at once
 * (one refresh, all replayed), 403, 404, a per-attempt timeout, and the end of the session (`invalid_grant`).
 * Every step is checked here, so a runtime reports which step broke and why, without tokens in the text.
 */

/**
 * @typedef {{ name: string, ok: boolean, detail?: string }} Step
 * @typedef {{ server: string, control: string }} FlowUrls
 */

/** How long one attempt may take in the timeout step (the slow route answers after SLOW_MS). */
export const TIMEOUT_MS = 1500;
const SLOW_MS = 10_000;

/**
 * Ask the runner's control server to act on the example server (plain fetch, no token).
 * @param {FlowUrls} urls
 * @param {string} action `expire`, `fault?name=...` or `stats`
 * @returns {Promise<{ refreshCalls: number }>}
 */
export async function control(urls, action) {
  const response = await fetch(`${urls.control}/${action}`, { method: action === 'stats' ? 'GET' : 'POST' });
  if (!response.ok) throw new Error(`control ${action}: ${response.status}`);
  return response.json();
}

/**
 * Sign in as the example's user with the password grant (the example server's own sign-in; an app would use its
 * provider's flow) and return the raw token response for `login()`.
 * @param {FlowUrls} urls
 */
export async function passwordSignIn(urls) {
  const response = await fetch(`${urls.server}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'wonderland', client_id: 'demo-spa' }),
  });
  if (!response.ok) throw new Error(`sign-in answered ${response.status}`);
  return response.json();
}

/**
 * The client of the example API every runtime uses: `oauth2Refresh` against its token endpoint.
 * @param {typeof import('../../dist/index.js')} lib
 * @param {FlowUrls} urls
 * @param {Partial<import('../../dist/index.js').AuthClientOptions>} [options]
 */
export function exampleClient(lib, urls, options = {}) {
  return lib.createAuthClient({
    baseUrl: `${urls.server}/api`,
    refresh: lib.oauth2Refresh({ tokenEndpoint: `${urls.server}/oauth/token`, clientId: 'demo-spa' }),
    timeout: TIMEOUT_MS,
    logger: {},
    ...options,
  });
}

/** @param {unknown} error */
function describe(error) {
  if (error && typeof error === 'object' && 'code' in error) return `${String(error.code)}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The error a promise rejects with, or a marker when it resolves.
 * @param {Promise<unknown>} promise
 */
async function caught(promise) {
  try {
    await promise;
    return { resolved: true };
  } catch (error) {
    return error;
  }
}

/**
 * Run the flow. Never throws: every step reports `ok` and, when it failed, why.
 * @param {typeof import('../../dist/index.js')} lib
 * @param {FlowUrls} urls
 * @returns {Promise<{ ok: boolean, steps: Step[], ms: number }>}
 */
export async function runFlow(lib, urls) {
  const started = Date.now();
  /** @type {Step[]} */
  const steps = [];
  /** @type {import('../../dist/index.js').AuthClient | undefined} */
  let auth;
  /**
   * @param {string} name
   * @param {() => Promise<string | undefined>} body returns a failure detail, or undefined when the step passed
   */
  const step = async (name, body) => {
    try {
      const failure = await body();
      steps.push(failure === undefined ? { name, ok: true } : { name, ok: false, detail: failure });
    } catch (error) {
      steps.push({ name, ok: false, detail: `threw ${describe(error)}` });
    }
  };

  try {
    auth = exampleClient(lib, urls);
    const client = auth;
    /** @type {{ trigger: string }[]} */
    const refreshes = [];
    /** @type {{ reason: string }[]} */
    const ended = [];
    client.on('refresh', (event) => void refreshes.push(event));
    client.on('sessionExpired', (event) => void ended.push(event));

    await step('sign in', async () => {
      await client.login(await passwordSignIn(urls));
      return client.session.status === 'active' ? undefined : `status ${client.session.status}`;
    });

    await step('call', async () => {
      const me = await client.http.get('me').json();
      return /** @type {{ name?: string }} */ (me).name === 'Alice Liddell' ? undefined : 'unexpected body';
    });

    await step('401, one refresh', async () => {
      await control(urls, 'expire');
      const before = (await control(urls, 'stats')).refreshCalls;
      const answers = await Promise.all([1, 2, 3].map(() => client.http.get('me').json()));
      const refreshCalls = (await control(urls, 'stats')).refreshCalls - before;
      if (answers.length !== 3) return 'not every request was replayed';
      if (refreshCalls !== 1) return `${refreshCalls} refresh calls`;
      return refreshes.length === 1 && refreshes[0]?.trigger === 'unauthorized' ? undefined : `refresh events ${JSON.stringify(refreshes)}`;
    });

    await step('403', async () => {
      const error = await caught(client.http.get('admin'));
      if (!lib.isForbiddenError(error)) return `got ${describe(error)}`;
      return error.requiredScope?.join(' ') === 'admin' ? undefined : 'no requiredScope';
    });

    await step('404', async () => {
      const error = await caught(client.http.get('items/999'));
      if (!lib.isNotFoundError(error)) return `got ${describe(error)}`;
      const response = await client.fetch('items/999');
      return response.status === 404 ? undefined : `auth.fetch resolved ${response.status}`;
    });

    await step('timeout', async () => {
      const at = Date.now();
      const error = await caught(client.http.get(`slow?ms=${SLOW_MS}`));
      const ms = Date.now() - at;
      if (!lib.isTimeoutError(error)) return `got ${describe(error)} after ${ms} ms`;
      return ms < SLOW_MS - 1000 ? undefined : `only after ${ms} ms`;
    });

    await step('session end', async () => {
      await control(urls, 'fault?name=reject');
      await control(urls, 'expire');
      const error = await caught(client.http.get('me'));
      await control(urls, 'fault?name=none');
      if (!lib.isSessionExpiredError(error)) return `got ${describe(error)}`;
      if (client.session.status !== 'expired') return `status ${client.session.status}`;
      return ended.length === 1 && ended[0]?.reason === 'refresh-rejected' ? undefined : `sessionExpired ${JSON.stringify(ended)}`;
    });
  } catch (error) {
    steps.push({ name: 'set-up', ok: false, detail: `threw ${describe(error)}` });
  } finally {
    auth?.dispose();
  }
  return { ok: steps.length === 7 && steps.every((s) => s.ok), steps, ms: Date.now() - started };
}

/**
 * One tab of the two-tab check: a client over IndexedDB (shared with the other tab), signed in by one tab.
 * @param {typeof import('../../dist/index.js')} lib
 * @param {FlowUrls} urls
 */
export function tabClient(lib, urls) {
  return exampleClient(lib, urls, { storage: lib.indexedDbStorage({ name: 'runtimes-tabs' }) });
}
