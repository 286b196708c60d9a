// @ts-check
/**
 * The example server's routes: OAuth token endpoint, cookie session (backend-for-frontend style), the API
 * the SDK calls, and static files. `handle()` is the whole request listener.
 */
import { STATUS_CODES } from 'node:http';
import {
  answerPreflight, applyCors, mediaType, parseCookies, readBody, send, sendJson, sendProblem, sendTokenJson,
} from './http.mjs';
import { applyFault } from './faults.mjs';
import { serveStatic } from './static.mjs';
import { DEFAULT_SCOPE, KNOWN_SCOPES } from './tokens.mjs';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('./tokens.mjs').Grant} Grant */

/** The demo's one client (a public SPA client: no secret). */
export const CLIENT_ID = 'demo-spa';

/** The demo's users. `otp` upgrades a sign-in to `acr: 'mfa'` (for the step-up route). */
export const USERS = {
  alice: { password: 'wonderland', name: 'Alice Liddell', otp: '123456' },
};

const ITEMS = new Map([
  [1, { id: 1, name: 'Teapot' }],
  [2, { id: 2, name: 'Pocket watch' }],
  [3, { id: 3, name: 'Looking-glass' }],
]);

const REALM = 'realm="example"';
const PROBLEM_BASE = 'https://authfetch.example/problems/';
const MAX_SLOW_MS = 120_000;

/**
 * @typedef {object} Stats
 * @property {number} refreshCalls
 * @property {number} tokenCalls
 * @property {number} apiHits
 * @property {number} reuseDetected
 * @property {number} sessionRefreshCalls
 * @property {number} clientAborts
 * @property {Record<string, number>} requestsByPath
 * @property {Record<string, string | undefined>} lastAuthorization
 */

/**
 * @typedef {object} Context
 * @property {{ accessTokenTtl: number, refreshDelayMs: number, log: boolean }} options
 * @property {() => number} now the server's clock (skewed)
 * @property {import('./tokens.mjs').TokenService} tokens
 * @property {Stats} stats
 * @property {ReturnType<typeof import('./faults.mjs').createFaultController>} faults
 * @property {(ms: number, res?: ServerResponse) => Promise<boolean>} delay resolves false when the client went away or the server closes
 * @property {import('./static.mjs').Mount[]} mounts
 * @property {import('./identity.mjs').IdentityProvider} [identity] the example identity provider, whose tokens the API accepts too
 */

/**
 * The request listener.
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
export async function handle(ctx, req, res) {
  const started = Date.now();
  const rawUrl = req.url ?? '/';
  // Prefixing keeps `//host/x` a path instead of a network-path reference.
  const url = rawUrl.startsWith('/') ? new URL(`http://localhost${rawUrl}`) : new URL(rawUrl, 'http://localhost');
  const path = url.pathname;

  // The Date header follows the server's own (possibly skewed) clock, as the SDK reads it to correct expiry.
  res.setHeader('Date', new Date(ctx.now()).toUTCString());
  applyCors(req, res);
  if (ctx.options.log) {
    res.on('close', () => {
      const status = res.headersSent ? res.statusCode : 'no response';
      console.log(`[example-server] ${req.method} ${path} -> ${status} (${Date.now() - started} ms)`);
    });
  }

  if (req.method === 'OPTIONS') {
    answerPreflight(req, res);
    return;
  }

  const { stats } = ctx;
  stats.requestsByPath[path] = (stats.requestsByPath[path] ?? 0) + 1;
  stats.lastAuthorization[path] = req.headers.authorization;

  try {
    if (path === '/oauth/token') return await tokenEndpoint(ctx, req, res);
    if (path === '/session/login') return await sessionLogin(ctx, req, res);
    if (path === '/session/refresh') return await sessionRefresh(ctx, req, res);
    if (path === '/session/logout') return sessionLogout(ctx, req, res);
    if (path === '/.well-known/jwks.json') return sendJson(res, 200, ctx.tokens.jwks, { 'Cache-Control': 'max-age=60' });
    if (path === '/.well-known/oauth-authorization-server') return metadata(req, res);
    // Where the example app finds its identity provider (404 without one: the app then signs in with the password grant).
    if (path === '/identity.json') {
      return ctx.identity ? sendJson(res, 200, { issuer: ctx.identity.issuer, clientId: ctx.identity.clientId }) : sendJson(res, 404, { error: 'not_found' });
    }
    if (path === '/public/ping') return sendJson(res, 200, { ok: true, time: new Date(ctx.now()).toISOString() });
    if (path === '/public/redirect') return redirect(url, res);
    if (path === '/api' || path.startsWith('/api/')) {
      stats.apiHits++;
      return await api(ctx, req, res, url);
    }
    if (await serveStatic(ctx.mounts, path, req, res)) return;
    sendJson(res, 404, { error: 'not_found', path });
  } catch (error) {
    const status = /** @type {{ status?: number }} */ (error)?.status;
    if (status === 413) {
      sendProblem(res, 413, { title: 'Content Too Large', detail: 'The request body is too large' });
    } else if (!res.headersSent && !res.destroyed) {
      if (ctx.options.log) console.error('[example-server]', error);
      sendProblem(res, 500, { title: 'Internal Server Error', detail: String(/** @type {Error} */ (error)?.message ?? error) });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// OAuth 2 token endpoint (RFC 6749 sections 4.3, 5, 6)

/**
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
async function tokenEndpoint(ctx, req, res) {
  if (req.method !== 'POST') {
    return sendTokenJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
  }
  ctx.stats.tokenCalls++;
  const raw = await readBody(req);
  const form = new URLSearchParams(raw.toString('utf8'));
  const grantType = form.get('grant_type');
  if (grantType === 'refresh_token') ctx.stats.refreshCalls++;

  const fault = ctx.faults.take();
  if (fault) return applyFault(fault, req, res, 'token');

  if (mediaType(req) !== 'application/x-www-form-urlencoded') {
    return sendTokenJson(res, 400, {
      error: 'invalid_request',
      error_description: 'the token endpoint takes application/x-www-form-urlencoded',
    });
  }
  const clientId = form.get('client_id') ?? basicClientId(req.headers.authorization);
  if (clientId !== CLIENT_ID) {
    return sendTokenJson(res, 401, { error: 'invalid_client', error_description: 'unknown client' });
  }

  if (grantType === 'password') {
    const username = form.get('username') ?? '';
    const user = Object.hasOwn(USERS, username) ? USERS[/** @type {keyof typeof USERS} */ (username)] : undefined;
    if (!user || form.get('password') !== user.password) {
      return sendTokenJson(res, 400, { error: 'invalid_grant', error_description: 'wrong username or password' });
    }
    const scope = pickScope(form.get('scope'));
    if (scope === undefined) return sendTokenJson(res, 400, { error: 'invalid_scope', error_description: 'unknown scope' });
    const acr = form.get('otp') === user.otp ? 'mfa' : 'pwd';
    return sendTokenJson(res, 200, await tokenResponse(ctx, { sub: username, scope, acr }));
  }

  if (grantType === 'refresh_token') {
    const token = form.get('refresh_token');
    if (!token) {
      return sendTokenJson(res, 400, { error: 'invalid_request', error_description: 'refresh_token is required' });
    }
    // The token is spent on arrival, as a real server spends it in its transaction: a client that gives up
    // during refreshDelayMs and sends the same token again is a reuse.
    const result = ctx.tokens.rotateRefreshToken(token, form.get('scope') ?? undefined);
    if (!result.ok && result.reuse) ctx.stats.reuseDetected++;
    if (!(await ctx.delay(ctx.options.refreshDelayMs, res))) return;
    if (!result.ok) return sendTokenJson(res, 400, { error: result.error, error_description: result.description });
    return sendTokenJson(res, 200, await tokenResponse(ctx, result.grant, { refreshToken: result.refreshToken }));
  }

  if (!grantType) return sendTokenJson(res, 400, { error: 'invalid_request', error_description: 'grant_type is required' });
  return sendTokenJson(res, 400, { error: 'unsupported_grant_type' });
}

/**
 * An RFC 6749 section 5.1 token response; a sign-in starts a new refresh token family.
 * @param {Context} ctx
 * @param {Grant} grant
 * @param {{ refreshToken?: string, ttl?: number }} [options]
 */
export async function tokenResponse(ctx, grant, options = {}) {
  const refreshToken = options.refreshToken ?? ctx.tokens.newRefreshToken(grant);
  const { token, expiresIn } = await ctx.tokens.issueAccessToken(grant, options.ttl ?? ctx.options.accessTokenTtl);
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: expiresIn,
    refresh_token: refreshToken,
    scope: grant.scope,
  };
}

/**
 * The requested scope if every part is known, the default when none is asked for, else undefined.
 * @param {string | null} requested
 */
function pickScope(requested) {
  const asked = (requested ?? '').split(' ').filter(Boolean);
  if (asked.length === 0) return DEFAULT_SCOPE;
  return asked.every((s) => KNOWN_SCOPES.has(s)) ? asked.join(' ') : undefined;
}

/**
 * The client id from HTTP Basic client authentication (RFC 6749 section 2.3.1), if any.
 * @param {string | undefined} header
 */
function basicClientId(header) {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  try {
    return decodeURIComponent(colon < 0 ? decoded : decoded.slice(0, colon));
  } catch {
    return undefined;
  }
}

/**
 * RFC 8414 metadata, so an app can discover the endpoints.
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
function metadata(req, res) {
  const base = `http://${req.headers.host ?? 'localhost'}`;
  sendJson(res, 200, {
    issuer: base,
    token_endpoint: `${base}/oauth/token`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: ['password', 'refresh_token'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [...KNOWN_SCOPES],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Cookie session (backend-for-frontend style)

/**
 * @param {IncomingMessage} req
 * @returns {Promise<Record<string, unknown> | undefined>}
 */
async function readJsonOrForm(req) {
  const raw = (await readBody(req)).toString('utf8');
  if (mediaType(req) === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(raw));
  try {
    const value = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
async function sessionLogin(ctx, req, res) {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'POST' });
  const body = await readJsonOrForm(req);
  if (!body) return sendJson(res, 400, { error: 'invalid_request', error_description: 'expected a JSON object' });
  const username = typeof body['username'] === 'string' ? body['username'] : '';
  const user = Object.hasOwn(USERS, username) ? USERS[/** @type {keyof typeof USERS} */ (username)] : undefined;
  if (!user || body['password'] !== user.password) {
    return sendJson(res, 401, { error: 'invalid_credentials', error_description: 'wrong username or password' });
  }
  const acr = body['otp'] === user.otp ? 'mfa' : 'pwd';
  const sid = ctx.tokens.createSession({ sub: username, scope: DEFAULT_SCOPE, acr });
  sendJson(res, 200, { ok: true }, {
    'Set-Cookie': `sid=${sid}; HttpOnly; SameSite=Lax; Path=/`,
    'Cache-Control': 'no-store',
  });
}

/**
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
async function sessionRefresh(ctx, req, res) {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'POST' });
  ctx.stats.sessionRefreshCalls++;
  await readBody(req);
  const fault = ctx.faults.take();
  if (fault) return applyFault(fault, req, res, 'session');
  const session = ctx.tokens.getSession(parseCookies(req.headers.cookie).get('sid'));
  if (!(await ctx.delay(ctx.options.refreshDelayMs, res))) return;
  if (!session) return sendJson(res, 401, { error: 'session_expired' }, { 'Cache-Control': 'no-store' });
  const { token, expiresIn } = await ctx.tokens.issueAccessToken(session.grant);
  sendTokenJson(res, 200, { access_token: token, expires_in: expiresIn, token_type: 'Bearer' });
}

/**
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
function sessionLogout(ctx, req, res) {
  if (req.method !== 'POST') return sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'POST' });
  ctx.tokens.endSession(parseCookies(req.headers.cookie).get('sid'));
  sendJson(res, 200, { ok: true }, {
    'Set-Cookie': 'sid=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0',
    'Cache-Control': 'no-store',
  });
}

// ---------------------------------------------------------------------------------------------------------
// The API

/**
 * Bearer token check for every /api/* route (RFC 6750 section 3). Answers the 401 itself and returns
 * undefined when the request is not authorized.
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
async function authenticate(ctx, req, res) {
  const header = req.headers.authorization;
  const match = /^Bearer +(\S*) *$/i.exec(header ?? '');
  if (!header || !/^Bearer(\s|$)/i.test(header)) {
    // No credentials for this scheme: a bare challenge, no error code (RFC 6750 section 3.1).
    sendProblem(res, 401, { title: 'Unauthorized', detail: 'Sign-in required' }, {
      'WWW-Authenticate': `Bearer ${REALM}`,
    });
    return undefined;
  }
  let result = match?.[1] ? await ctx.tokens.verifyAccessToken(match[1]) : { ok: false, reason: 'invalid' };
  // Not one of this server's tokens: one of the identity provider's (opaque), checked by introspection (RFC 7662).
  if (!result.ok && match?.[1] && ctx.identity) result = await introspected(ctx.identity, match[1]);
  if (result.ok) return /** @type {Extract<typeof result, { ok: true }>} */ (result).claims;
  const description = result.reason === 'expired' ? 'The access token expired' : 'The access token is invalid';
  sendProblem(res, 401, { title: 'Unauthorized', detail: description }, {
    'WWW-Authenticate': `Bearer ${REALM}, error="invalid_token", error_description="${description}"`,
  });
  return undefined;
}

/**
 * The identity provider's verdict on a token, in the shape of the token service's.
 * @param {import('./identity.mjs').IdentityProvider} identity
 * @param {string} token
 * @returns {Promise<import('./tokens.mjs').VerifyResult>}
 */
async function introspected(identity, token) {
  const info = await identity.introspect(token).catch(() => ({ active: false }));
  if (info.active !== true) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claims: {
      sub: String(info.sub),
      scope: typeof info.scope === 'string' ? `${info.scope} api` : 'api',
      acr: typeof info.acr === 'string' ? info.acr : 'pwd',
      exp: Number(info.exp),
      iat: Number(info.iat),
      jti: String(info.jti ?? ''),
    },
  };
}

/**
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 * @param {string[]} methods
 */
function allow(req, res, methods) {
  if (methods.includes(req.method ?? 'GET')) return true;
  sendProblem(res, 405, { title: 'Method Not Allowed', detail: `${req.method} is not allowed here` }, {
    Allow: methods.join(', '),
  });
  return false;
}

/**
 * @param {URL} url
 * @param {ServerResponse} res
 * @returns {number | undefined} the `ms` query parameter, or undefined after answering 400
 */
function msParam(url, res) {
  const ms = Number(url.searchParams.get('ms') ?? '0');
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_SLOW_MS) {
    sendProblem(res, 400, { title: 'Bad Request', detail: `ms must be between 0 and ${MAX_SLOW_MS}` });
    return undefined;
  }
  return ms;
}

/**
 * @param {Context} ctx
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 * @param {URL} url
 */
async function api(ctx, req, res, url) {
  const path = url.pathname;
  const GET = ['GET', 'HEAD'];

  if (path === '/api/slow-check') {
    // Waits first, then checks the token: a slow request whose 401 arrives after another request refreshed.
    if (!allow(req, res, GET)) return;
    const ms = msParam(url, res);
    if (ms === undefined || !(await ctx.delay(ms, res))) return;
    if (!(await authenticate(ctx, req, res))) return;
    return sendJson(res, 200, { ok: true });
  }

  const claims = await authenticate(ctx, req, res);
  if (!claims) return;
  const scopes = claims.scope.split(' ');

  if (path === '/api/me') {
    if (!allow(req, res, GET)) return;
    const user = Object.hasOwn(USERS, claims.sub) ? USERS[/** @type {keyof typeof USERS} */ (claims.sub)] : undefined;
    return sendJson(res, 200, { sub: claims.sub, name: user?.name ?? claims.sub, scope: claims.scope });
  }

  if (path === '/api/admin') {
    if (!allow(req, res, GET)) return;
    if (scopes.includes('admin')) return sendJson(res, 200, { ok: true, sub: claims.sub, admin: true });
    return sendProblem(res, 403, {
      type: `${PROBLEM_BASE}insufficient-scope`,
      title: 'Forbidden',
      detail: 'Admins only',
    }, { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="admin"` });
  }

  const item = /^\/api\/items\/([^/]+)$/.exec(path);
  if (item) {
    if (!allow(req, res, GET)) return;
    const id = /^\d+$/.test(item[1] ?? '') ? Number(item[1]) : NaN;
    const found = ITEMS.get(id);
    if (found) return sendJson(res, 200, found);
    return sendProblem(res, 404, {
      type: `${PROBLEM_BASE}not-found`,
      title: 'Not Found',
      detail: `There is no item ${decodeSafe(item[1] ?? '')}`,
    });
  }

  if (path === '/api/step-up') {
    if (!allow(req, res, GET)) return;
    if (claims.acr === 'mfa') return sendJson(res, 200, { ok: true, acr: claims.acr });
    // RFC 9470 section 3.
    return sendProblem(res, 401, { title: 'Unauthorized', detail: 'A stronger sign-in is required' }, {
      'WWW-Authenticate':
        'Bearer error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="mfa", max_age=300',
    });
  }

  if (path === '/api/echo') {
    const body = await readBody(req);
    let text;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      text = undefined;
    }
    return sendJson(res, 200, {
      method: req.method,
      contentType: req.headers['content-type'] ?? null,
      body: text ?? body.toString('base64'),
      bodyEncoding: text === undefined ? 'base64' : 'utf8',
      length: body.byteLength,
    });
  }

  if (path === '/api/slow') {
    if (!allow(req, res, GET)) return;
    const ms = msParam(url, res);
    if (ms === undefined || !(await ctx.delay(ms, res))) return;
    return sendJson(res, 200, { ok: true });
  }

  const status = /^\/api\/status\/(\d{3})$/.exec(path);
  if (status) {
    const code = Number(status[1]);
    if (code < 200 || code > 599) {
      return sendProblem(res, 400, { title: 'Bad Request', detail: 'status must be between 200 and 599' });
    }
    /** @type {Record<string, string>} */
    const headers = {};
    const retryAfter = url.searchParams.get('retryAfter');
    if (retryAfter !== null) headers['Retry-After'] = retryAfter;
    // A 401 must carry a challenge (RFC 9110 section 15.5.2).
    if (code === 401) headers['WWW-Authenticate'] = `Bearer ${REALM}`;
    return sendJson(res, code, { status: code, title: STATUS_CODES[code] ?? 'Unknown' }, headers);
  }

  if (path === '/api/redirect') return redirect(url, res);

  return sendProblem(res, 404, { type: `${PROBLEM_BASE}not-found`, title: 'Not Found', detail: `No route ${path}` });
}

/**
 * `?to=URL` (required) and `?status=301|302|303|307|308` (default 302).
 * @param {URL} url
 * @param {ServerResponse} res
 */
function redirect(url, res) {
  const to = url.searchParams.get('to');
  const status = Number(url.searchParams.get('status') ?? '302');
  if (!to || ![301, 302, 303, 307, 308].includes(status)) {
    return sendProblem(res, 400, { title: 'Bad Request', detail: 'to is required; status must be a redirect' });
  }
  send(res, status, undefined, { Location: to });
}

/** @param {string} s */
function decodeSafe(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
