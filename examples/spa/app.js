// @ts-check
/**
 * The authfetch example app: a plain page (no framework) on the package's own ESM build.
 *
 * Query parameters (all optional), handy for trying things out and used by the browser tests:
 *   storage=NAME        the storage name (IndexedDB database, BroadcastChannel, Web Lock); default 'authfetch-demo'
 *   idleTimeout=MS      end the session after this long without activity; default 600000 (10 min), 0 = off
 *   idleWarning=MS      warn this long before the idle end; default 60000
 *   trackActivity=0     do not count pointer, key and visibility events as activity (default: they count)
 *   loginRequired=reject   reject requests when the session is over instead of holding them until sign-in
 *   leeway=S            refreshLeeway in seconds; default 30
 *   autoload=0          do not load the profile after sign-in or on a restored session
 *   debug=1             log the auth lifecycle to the console
 *   signin=password     sign in with the OAuth password grant (scripts and tests) instead of the identity provider
 *
 * Sign-in: with an identity provider next to the API (`npm run demo:browser` starts oidc-provider and the server
 * tells where at /identity.json), the page signs in with the authorization code flow and PKCE through `oidc()`:
 * a redirect, or a popup that keeps the page (held requests resume). Without one, or with `signin=password`, it uses
 * the password grant, which is only for scripts and tests: a real SPA never sees the user's password.
 *
 * `window.demo` exposes the client and a few helpers for the devtools console (and for the browser tests).
 */
import * as authfetch from 'authfetch';

const { createAuthClient, indexedDbStorage, indexedDbLease, oauth2Refresh, oidc, isAuthFetchError } = authfetch;

// ---------------------------------------------------------------------------------------------------------------
// Configuration

const params = new URLSearchParams(location.search);
/** @param {string} key @param {number} fallback */
const numberParam = (key, fallback) => {
  const raw = params.get(key);
  const value = raw === null || raw === '' ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : fallback;
};
const config = {
  storage: params.get('storage') || 'authfetch-demo',
  idleTimeout: numberParam('idleTimeout', 600_000),
  idleWarning: numberParam('idleWarning', 60_000),
  trackActivity: params.get('trackActivity') !== '0',
  /** @type {'wait' | 'reject'} */
  loginRequired: params.get('loginRequired') === 'reject' ? 'reject' : 'wait',
  refreshLeeway: numberParam('leeway', 30),
  autoload: params.get('autoload') !== '0',
  debug: params.get('debug') === '1',
};

// ---------------------------------------------------------------------------------------------------------------
// The client

/** The identity provider, when the server has one and the page is not asked for the password grant. */
const identity =
  params.get('signin') === 'password'
    ? undefined
    : /** @type {{ issuer: string, clientId: string } | undefined} */ (
        await fetch('/identity.json').then((response) => (response.ok ? response.json() : undefined), () => undefined)
      );

const auth = createAuthClient({
  // Relative to the page: the API lives on the page's origin, which is therefore the one authorized origin.
  baseUrl: '/api/',
  refresh: identity
    ? oidc({
        issuer: identity.issuer,
        clientId: identity.clientId,
        // This page finishes the sign-in (auth.handleRedirect() below), for redirects and popups alike.
        redirectUri: `${location.origin}/`,
        postLogoutRedirectUri: `${location.origin}/`,
        scope: 'openid profile offline_access', // profile: the user's name in session.user
        // The development provider grants offline_access (a refresh token) only with an explicit consent.
        extraAuthParams: { prompt: 'consent' },
      })
    : oauth2Refresh({ tokenEndpoint: new URL('/oauth/token', location.origin).href, clientId: 'demo-spa' }),
  // IndexedDB: the session survives a reload and every tab of this origin shares it. The lease serializes refreshes
  // across tabs also where Web Locks are missing (this page served over plain HTTP from a LAN address).
  storage: indexedDbStorage({ name: config.storage, lockFallback: indexedDbLease() }),
  loginRequired: config.loginRequired,
  idleTimeout: config.idleTimeout > 0 ? config.idleTimeout : undefined,
  idleWarning: config.idleWarning,
  trackActivity: config.trackActivity,
  refreshLeeway: config.refreshLeeway,
  logger: config.debug ? console : undefined,
});

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

/** @param {string} id */
function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from index.html`);
  return element;
}

/** @param {number} ms */
function seconds(ms) {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** @param {number | undefined} expiresAt */
function describeExpiry(expiresAt) {
  if (expiresAt === undefined) return 'unknown';
  const left = expiresAt - Date.now();
  if (left <= 0) return 'expired';
  const s = seconds(left);
  return s >= 120 ? `in ${Math.floor(s / 60)} min ${s % 60} s` : `in ${s} s`;
}

/** What a person can do, for each `action` of the typed errors. */
const ACTION_TEXT = {
  'sign-in': 'Sign in again.',
  retry: 'Try again.',
  'request-access': 'Ask for access.',
  'go-back': 'Go back.',
  'check-connection': 'Check your connection.',
  'contact-support': 'Contact support.',
  none: '',
};

// ---------------------------------------------------------------------------------------------------------------
// The event log: every authfetch event, as plain data (payloads never hold a token)

/** @typedef {{ type: string, at: number, [field: string]: unknown }} LoggedEvent */
/** @type {LoggedEvent[]} */
const events = [];

/** @param {unknown} error */
function errorCode(error) {
  return isAuthFetchError(error) ? error.code : error instanceof Error ? error.name : String(error);
}

/**
 * @param {string} type
 * @param {any} payload
 * @returns {Record<string, unknown>}
 */
function summarize(type, payload) {
  switch (type) {
    case 'login':
      return { source: payload.source, expiresAt: payload.expiresAt };
    case 'refresh':
      return { source: payload.source, trigger: payload.trigger, expiresAt: payload.expiresAt };
    case 'refreshError':
      return { code: errorCode(payload.error) };
    case 'sessionWarning':
      return { remainingMs: payload.remainingMs };
    case 'sessionExpired':
      return { reason: payload.reason, ...(payload.error ? { code: errorCode(payload.error) } : {}) };
    case 'loginRequired':
      return { reason: payload.reason, pending: payload.pending };
    case 'logout':
      return { source: payload.source };
    case 'unauthorized':
    case 'forbidden':
      return { code: payload.code, status: payload.status };
    case 'stepUp':
      return { acrValues: payload.acrValues, maxAge: payload.maxAge };
    case 'storageFallback':
      return { code: errorCode(payload.error) };
    default:
      return {};
  }
}

/** @param {LoggedEvent} entry */
function describeEvent(entry) {
  const parts = [];
  if (entry.source) parts.push(entry.source === 'other-tab' ? 'from another tab' : 'in this tab');
  if (entry.trigger) parts.push(String(entry.trigger));
  if (entry.reason) parts.push(String(entry.reason));
  if (typeof entry.pending === 'number') parts.push(`${entry.pending} held`);
  if (typeof entry.remainingMs === 'number') parts.push(`${seconds(entry.remainingMs)} s left`);
  if (typeof entry.expiresAt === 'number') parts.push(`expires ${describeExpiry(entry.expiresAt)}`);
  if (entry.code) parts.push(String(entry.code));
  return parts.join(' · ');
}

const EVENT_TYPES = /** @type {const} */ ([
  'login', 'refresh', 'refreshError', 'sessionWarning', 'sessionExpired', 'loginRequired', 'logout',
  'unauthorized', 'forbidden', 'stepUp', 'storageFallback',
]);

for (const type of EVENT_TYPES) {
  auth.on(type, (/** @type {any} */ payload) => {
    const entry = { type, at: Date.now(), ...summarize(type, payload) };
    events.push(entry);
    appendLog(entry);
    onAuthEvent(type, payload);
  });
}

/** @param {LoggedEvent} entry */
function appendLog(entry) {
  const log = $('log');
  const item = document.createElement('li');
  item.dataset.type = entry.type;
  const time = document.createElement('time');
  time.textContent = new Date(entry.at).toLocaleTimeString([], { hour12: false });
  const name = document.createElement('span');
  name.className = 'event-type';
  name.textContent = entry.type;
  const detail = document.createElement('span');
  detail.className = 'event-detail';
  detail.textContent = describeEvent(entry);
  item.append(time, name, detail);
  log.prepend(item);
  while (log.children.length > 200) log.lastElementChild?.remove();
}

// ---------------------------------------------------------------------------------------------------------------
// Reacting to events

/** When the idle warning's countdown reaches zero (local epoch ms), or undefined when no warning shows. */
let warningEndsAt;

/**
 * @param {string} type
 * @param {any} payload
 */
function onAuthEvent(type, payload) {
  switch (type) {
    case 'sessionWarning':
      warningEndsAt = Date.now() + payload.remainingMs;
      break;
    case 'login':
      hideWarning();
      setHeld(0);
      break;
    case 'logout':
    case 'sessionExpired':
      hideWarning();
      $('me-name').textContent = '?';
      if (type === 'logout') setHeld(0);
      break;
    case 'loginRequired':
      setHeld(payload.pending);
      break;
    case 'stepUp':
      // RFC 9470: offer the stronger sign-in the API asked for; in 'wait' mode the request waits for it.
      stepUp = { acrValues: payload.acrValues, maxAge: payload.maxAge };
      $('step-up').hidden = !identity;
      break;
    case 'storageFallback':
      $('fallback').hidden = false;
      break;
    default:
      break;
  }
  render();
}

function hideWarning() {
  warningEndsAt = undefined;
  render();
}

/** @param {number} pending */
function setHeld(pending) {
  const held = $('held');
  held.hidden = pending === 0;
  held.textContent =
    pending === 1 ? '1 request is waiting: sign in to continue it.' : `${pending} requests are waiting: sign in to continue them.`;
}

const STATUS_TEXT = { active: 'signed in', refreshing: 'refreshing', 'signed-out': 'signed out', expired: 'session ended' };

function render() {
  const { status, expiresAt } = auth.session;
  const signedIn = status === 'active' || status === 'refreshing';
  const pill = $('status');
  pill.dataset.status = status;
  pill.textContent = STATUS_TEXT[status];
  $('signin-card').hidden = signedIn;
  $('account-card').hidden = !signedIn;
  $('expires').textContent = signedIn ? describeExpiry(expiresAt) : '';
  // With oidc(): who signed in, from the validated ID token (session.user), before any API call.
  const user = auth.session.user;
  if (user) $('me-name').textContent = typeof user.name === 'string' ? user.name : user.sub;
  $('acr').textContent = typeof user?.acr === 'string' ? user.acr : '';
  $('user').textContent = signedIn && $('me-name').textContent !== '?' ? $('me-name').textContent ?? '' : '';

  const banner = $('idle-warning');
  const left = warningEndsAt === undefined ? 0 : warningEndsAt - Date.now();
  // The countdown ran out without the session ending: activity in another tab postponed the end.
  if (warningEndsAt !== undefined && (left <= 0 || !signedIn)) warningEndsAt = undefined;
  banner.hidden = warningEndsAt === undefined;
  $('idle-remaining').textContent = String(seconds(left));
}

// ---------------------------------------------------------------------------------------------------------------
// Calling the API

/**
 * @typedef {{ ok: true, data: unknown } | { ok: false, code: string, status?: number, userMessage: string, action?: string }} CallResult
 */

/**
 * GET a path under /api/ through `auth.http`; typed errors become a result the UI can show.
 * @param {string} path
 * @returns {Promise<CallResult>}
 */
async function call(path) {
  try {
    return { ok: true, data: await auth.http.get(path).json() };
  } catch (error) {
    if (isAuthFetchError(error)) {
      const status = /** @type {{ status?: number }} */ (error).status;
      return { ok: false, code: error.code, status, userMessage: error.userMessage, action: error.action };
    }
    return { ok: false, code: errorCode(error), userMessage: 'Something unexpected happened.' };
  }
}

/**
 * @param {string} path
 * @param {CallResult} result
 */
function showResult(path, result) {
  const box = $('result');
  box.replaceChildren();
  const title = document.createElement('p');
  title.className = 'result-title';
  if (result.ok) {
    box.dataset.state = 'ok';
    delete box.dataset.code;
    title.textContent = `GET /api/${path}`;
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(result.data, null, 2);
    box.append(title, pre);
    return;
  }
  box.dataset.state = 'error';
  box.dataset.code = result.code;
  title.textContent = `GET /api/${path}: ${result.status ?? ''} ${result.code}`.replace(/\s+/g, ' ');
  const message = document.createElement('p');
  message.className = 'user-message';
  message.textContent = result.userMessage;
  box.append(title, message);
  const hint = result.action ? ACTION_TEXT[/** @type {keyof typeof ACTION_TEXT} */ (result.action)] : '';
  if (hint) {
    const action = document.createElement('p');
    action.className = 'action';
    action.textContent = `What you can do: ${hint}`;
    box.append(action);
  }
}

/** @param {string} path */
async function callAndShow(path) {
  const box = $('result');
  box.dataset.state = 'pending';
  box.replaceChildren(Object.assign(document.createElement('p'), { className: 'result-title', textContent: `GET /api/${path}...` }));
  const result = await call(path);
  showResult(path, result);
  if (path === 'me' && result.ok) showUser(result.data);
  return result;
}

/** @param {unknown} me */
function showUser(me) {
  const name = /** @type {{ name?: unknown }} */ (me)?.name;
  $('me-name').textContent = typeof name === 'string' ? name : '?';
  render();
}

async function loadProfile() {
  const result = await call('me');
  if (result.ok) showUser(result.data);
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in: the OAuth 2 password grant against the example server, then auth.login(), which resumes held requests

/**
 * @param {string} username
 * @param {string} password
 * @returns {Promise<{ ok: true } | { ok: false, message: string }>}
 */
async function signIn(username, password) {
  let response;
  try {
    response = await fetch('/oauth/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'demo-spa', username, password }),
    });
  } catch {
    return { ok: false, message: "We can't reach the server. Please check your connection." };
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    return {
      ok: false,
      message: body.error === 'invalid_grant' ? 'Wrong user name or password.' : 'Signing in failed. Please try again.',
    };
  }
  await auth.login(body);
  return { ok: true };
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in with the identity provider (oidc()): a redirect, or a popup that keeps this page

/** The step-up the API asked for last (RFC 9470), offered by the step-up banner. */
/** @type {{ acrValues?: string[], maxAge?: number } | undefined} */
let stepUp;

/** @param {unknown} error */
function showSignInError(error) {
  const box = $('signin-error');
  box.textContent = isAuthFetchError(error) ? error.userMessage : 'Signing in failed. Please try again.';
  box.hidden = false;
}

/**
 * Sign in; called from click handlers, so a popup counts as opened by the user.
 * @param {{ popup?: boolean, acrValues?: string[], maxAge?: number }} [options]
 */
function signInWithProvider(options = {}) {
  $('signin-error').hidden = true;
  return auth.signIn({ ...options, state: location.pathname }).then(
    () => {
      if (options.popup && config.autoload) void loadProfile();
    },
    (error) => showSignInError(error),
  );
}

if (identity) {
  $('signin').hidden = true;
  $('demo-hint').hidden = true;
  $('oidc-signin').hidden = false;
  $('end-session').hidden = false;
  $('acr-row').hidden = false;
}
$('signin-redirect').addEventListener('click', () => void signInWithProvider());
$('signin-popup').addEventListener('click', () => void signInWithProvider({ popup: true }));
$('step-up-button').addEventListener('click', () => {
  $('step-up').hidden = true;
  void signInWithProvider({ popup: true, ...stepUp });
});
$('end-session').addEventListener('click', () => void auth.logout({ endSession: true }));

/** The page is also the redirect URI: finish a sign-in whose answer is in the address bar (in a popup: hand it over). */
const redirected = identity
  ? auth.handleRedirect().then(
      (result) => result,
      (error) => {
        showSignInError(error);
        return undefined;
      },
    )
  : Promise.resolve(undefined);

// ---------------------------------------------------------------------------------------------------------------
// Wiring

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const error = $('signin-error');
  error.hidden = true;
  const username = /** @type {HTMLInputElement} */ ($('username')).value;
  const password = /** @type {HTMLInputElement} */ ($('password')).value;
  const result = await signIn(username, password);
  if (!result.ok) {
    error.textContent = result.message;
    error.hidden = false;
    return;
  }
  /** @type {HTMLInputElement} */ ($('password')).value = '';
  if (config.autoload) void loadProfile();
});

for (const button of document.querySelectorAll('button[data-call]')) {
  button.addEventListener('click', () => void callAndShow(/** @type {HTMLElement} */ (button).dataset.call ?? 'me'));
}

$('refresh').addEventListener('click', () => {
  auth.refresh().catch(() => undefined); // failures arrive as refreshError / sessionExpired events
});
$('logout').addEventListener('click', () => void auth.logout());
$('stay').addEventListener('click', () => {
  auth.touch();
  hideWarning();
});
$('clear-log').addEventListener('click', () => $('log').replaceChildren());
// With trackActivity, input counts as activity: the warning no longer applies.
for (const type of ['pointerdown', 'keydown']) {
  addEventListener(type, () => {
    if (config.trackActivity && warningEndsAt !== undefined) hideWarning();
  });
}

$('storage-name').textContent = config.storage;
setInterval(render, 500);
render();

// A restored session (a reload, another tab signed in earlier, or a sign-in just finished): show who is signed in.
const ready = config.autoload
  ? redirected.then(() => auth.getAccessToken()).then(
      (token) => {
        render();
        if (token !== undefined) void loadProfile();
      },
      () => render(),
    )
  : Promise.resolve();

// ---------------------------------------------------------------------------------------------------------------
// For the devtools console and the browser tests

/** @type {Promise<{ ok: number, codes: string[], startedAt: number, endedAt: number }> | undefined} */
let armed;

/** Epoch ms with sub-millisecond precision, comparable across tabs. */
const preciseNow = () => performance.timeOrigin + performance.now();

/**
 * `n` requests at once; resolves with how many succeeded and the codes of the others.
 * @param {number} n
 * @param {string} [path]
 */
async function burst(n, path = 'me') {
  const results = await Promise.all(Array.from({ length: n }, () => call(path)));
  return { ok: results.filter((r) => r.ok).length, codes: results.flatMap((r) => (r.ok ? [] : [r.code])) };
}

Object.assign(window, {
  demo: {
    auth,
    lib: authfetch,
    config,
    events,
    ready,
    redirected,
    identity,
    call,
    callAndShow,
    signIn,
    burst,
    /**
     * Get ready to fire `n` requests when any tab calls `go()` (a BroadcastChannel reaches every tab at once);
     * `armed()` then gives the outcome, with when the burst started and ended (epoch ms).
     * @param {number} n
     * @param {string} [path]
     */
    arm(n, path) {
      const channel = new BroadcastChannel('authfetch-demo-go');
      armed = new Promise((resolve) => {
        channel.onmessage = async () => {
          channel.close();
          const startedAt = preciseNow();
          const outcome = await burst(n, path);
          resolve({ ...outcome, startedAt, endedAt: preciseNow() });
        };
      });
    },
    go() {
      const channel = new BroadcastChannel('authfetch-demo-go');
      channel.postMessage('go');
      channel.close();
    },
    armed: () => armed,
  },
});
