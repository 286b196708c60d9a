// @ts-check
/**
 * The page the sign-in browser tests drive (test/browser/signin.test.ts): one authfetch client with oidc(), configured
 * from `?config=` (kept in localStorage, so the redirect back and the popup use the same one). It finishes a sign-in at
 * every start (`handleRedirect()`), and its two buttons start one, so a real click (a user gesture) opens the popup.
 * Everything the tests read is on `window.t`; errors are recorded as plain data.
 */
import * as lib from 'authfetch';

const query = new URLSearchParams(location.search);
if (query.has('config')) localStorage.setItem('signin-test-config', query.get('config') ?? '');
/** @type {{ issuer: string; clientId: string; redirectUri: string; postLogoutRedirectUri?: string; api: string; loginRequired?: 'wait' | 'reject'; dpop?: boolean; signIn?: Record<string, unknown> }} */
const config = JSON.parse(localStorage.getItem('signin-test-config') ?? '{}');

/** @param {unknown} error */
const plain = (error) => {
  const e = /** @type {Record<string, unknown>} */ (error ?? {});
  return { ok: false, name: e.name, code: e.code, reason: e.reason, oauthError: e.oauthError, userMessage: e.userMessage, action: e.action, message: String(e.message) };
};

const storage = lib.indexedDbStorage({ name: 'signin-test' });
const dpop = config.dpop ? lib.dpop({ name: 'signin-test' }) : undefined;
const auth = lib.createAuthClient({
  baseUrl: config.api,
  storage,
  loginRequired: config.loginRequired ?? 'reject',
  dpop,
  refresh: lib.oidc({
    issuer: config.issuer,
    clientId: config.clientId,
    redirectUri: config.redirectUri,
    postLogoutRedirectUri: config.postLogoutRedirectUri,
  }),
});

/** @type {Record<string, unknown>[]} */
const events = [];
for (const type of /** @type {const} */ (['login', 'logout', 'refresh', 'sessionExpired', 'loginRequired', 'stepUp'])) {
  auth.on(type, (payload) => {
    const { error, ...rest } = /** @type {Record<string, unknown>} */ (payload);
    events.push({ type, ...rest, ...(error ? { code: /** @type {{ code?: string }} */ (error).code } : {}) });
  });
}

/** A request through the client, as plain data. @param {string} path */
const call = (path) =>
  auth.http
    .get(path)
    .json()
    .then((data) => ({ ok: true, data }), plain);

const t = {
  auth,
  lib,
  storage,
  dpop,
  events,
  call,
  /** Survives only as long as the page: a reload or navigation would lose it. */
  pageId: crypto.randomUUID(),
  /** @type {Promise<unknown> | undefined} */
  signIn: undefined,
  /** Options for the next click on a sign-in button, replacing `config.signIn` once (a step-up's acrValues). @type {Record<string, unknown> | undefined} */
  next: undefined,
  redirect: auth.handleRedirect().then((value) => ({ ok: true, value: value ?? null }), plain),
};
Object.assign(window, { t });

const options = () => {
  const next = t.next ?? config.signIn;
  t.next = undefined;
  return next;
};
document.getElementById('popup')?.addEventListener('click', () => {
  t.signIn = auth.signIn({ ...options(), popup: true }).then(() => ({ ok: true }), plain);
});
document.getElementById('redirect')?.addEventListener('click', () => {
  t.signIn = auth.signIn({ ...options(), state: 'from-redirect' }).then(() => ({ ok: true }), plain);
});
