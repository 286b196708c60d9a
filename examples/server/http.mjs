// @ts-check
/**
 * Small HTTP helpers for the example server: JSON and problem responses, bodies, cookies, CORS.
 * Only `node:http` types; no framework.
 */

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */

/** Request bodies above this are refused with 413, so a runaway test cannot exhaust memory. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

const ALLOW_HEADERS = ['Authorization', 'Content-Type', 'DPoP'];
const ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Answer with a body (string or bytes) and headers; a no-op when the client has gone away.
 * @param {ServerResponse} res
 * @param {number} status
 * @param {string | Uint8Array | undefined} body
 * @param {Record<string, string | number | string[]>} [headers]
 */
export function send(res, status, body, headers = {}) {
  if (res.headersSent || res.destroyed) return;
  res.statusCode = status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  // 204 and 304 must not carry a body (RFC 9110 sections 15.3.5, 15.4.5).
  if (body === undefined || status === 204 || status === 304) {
    res.end();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.setHeader('Content-Length', bytes.byteLength);
  res.end(bytes);
}

/**
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} value
 * @param {Record<string, string | number | string[]>} [headers]
 */
export function sendJson(res, status, value, headers = {}) {
  send(res, status, JSON.stringify(value), { 'Content-Type': 'application/json; charset=utf-8', ...headers });
}

/**
 * An OAuth 2 token endpoint answer (RFC 6749 section 5.1: `Cache-Control: no-store`).
 * @param {ServerResponse} res
 * @param {number} status
 * @param {unknown} value
 * @param {Record<string, string | number | string[]>} [headers]
 */
export function sendTokenJson(res, status, value, headers = {}) {
  sendJson(res, status, value, { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...headers });
}

/**
 * An RFC 9457 problem details answer.
 * @param {ServerResponse} res
 * @param {number} status
 * @param {{ type?: string, title: string, detail?: string, [key: string]: unknown }} problem
 * @param {Record<string, string | number | string[]>} [headers]
 */
export function sendProblem(res, status, problem, headers = {}) {
  const body = { type: problem.type ?? 'about:blank', ...problem, status };
  send(res, status, JSON.stringify(body), { 'Content-Type': 'application/problem+json; charset=utf-8', ...headers });
}

/**
 * Read the whole request body. Rejects with `{ status: 413 }` above `limit`.
 * @param {IncomingMessage} req
 * @param {number} [limit]
 * @returns {Promise<Buffer>}
 */
export function readBody(req, limit = MAX_BODY_BYTES) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = [];
    let size = 0;
    req.on('data', (/** @type {Buffer} */ chunk) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('request aborted')));
  });
}

/**
 * The request's media type without parameters, lower-cased (`application/json`), or `''`.
 * @param {IncomingMessage} req
 */
export function mediaType(req) {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Parse a `Cookie` header into name/value pairs.
 * @param {string | undefined} header
 * @returns {Map<string, string>}
 */
export function parseCookies(header) {
  const cookies = new Map();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

/**
 * CORS headers on every response so the browser example app and browser tests can call the server from
 * another origin with credentials (cookies) and read the headers the SDK needs.
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
export function applyCors(req, res) {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin');
  if (!origin) return;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Allow-Credentials', 'true');
  res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS.join(', '));
  res.setHeader('Access-Control-Allow-Methods', ALLOW_METHODS);
  res.setHeader('Access-Control-Expose-Headers', 'WWW-Authenticate, DPoP-Nonce, Retry-After, Date');
}

/**
 * Answer a CORS preflight with 204.
 * @param {IncomingMessage} req
 * @param {ServerResponse} res
 */
export function answerPreflight(req, res) {
  const requested = String(req.headers['access-control-request-headers'] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const known = new Set(ALLOW_HEADERS.map((h) => h.toLowerCase()));
  // The fixed list, plus whatever else a page asks for (an app's own headers), so browser tests never
  // fail on CORS for a reason unrelated to auth.
  const extra = requested.filter((h) => !known.has(h.toLowerCase()));
  /** @type {Record<string, string>} */
  const headers = { 'Access-Control-Max-Age': '600' };
  if (req.headers.origin) {
    headers['Access-Control-Allow-Headers'] = [...ALLOW_HEADERS, ...extra].join(', ');
  }
  send(res, 204, undefined, headers);
}
