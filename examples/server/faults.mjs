// @ts-check
/**
 * Faults injected into the token endpoint and the session refresh endpoint, so tests can prove that every
 * request settles whatever the refresh endpoint does (DESIGN.md, behaviour 4).
 */
import { send, sendJson, sendTokenJson } from './http.mjs';

/**
 * @typedef {'none' | 'hang' | 'status-503' | 'status-429' | 'status-500' | 'html' | 'not-json-object'
 *   | 'no-access-token' | 'reject' | 'reset'} FaultName
 * @typedef {{ status: number, body?: string, headers?: Record<string, string>, times?: number }} CustomFault
 * @typedef {FaultName | CustomFault} Fault
 */

const NAMES = new Set([
  'none', 'hang', 'status-503', 'status-429', 'status-500', 'html', 'not-json-object', 'no-access-token',
  'reject', 'reset',
]);

export function createFaultController() {
  /** @type {{ fault: Exclude<Fault, 'none'>, remaining: number } | undefined} */
  let current;

  return {
    /**
     * @param {Fault} fault
     * @param {{ times?: number }} [options] apply to the next `times` calls only (default: until changed)
     */
    set(fault, options = {}) {
      if (typeof fault === 'string' && !NAMES.has(fault)) throw new TypeError(`unknown fault: ${fault}`);
      if (typeof fault === 'object' && (fault === null || !Number.isInteger(fault.status) || fault.status < 100 || fault.status > 599)) {
        throw new TypeError('a custom fault needs an integer status between 100 and 599');
      }
      if (fault === 'none') {
        current = undefined;
        return;
      }
      const times = (typeof fault === 'object' ? fault.times : undefined) ?? options.times;
      if (times !== undefined && (!Number.isInteger(times) || times < 0)) {
        throw new TypeError('times must be a non-negative integer');
      }
      current = times === 0 ? undefined : { fault, remaining: times ?? Infinity };
    },

    /** The fault to apply to this call, if any (spends one of `times`). */
    take() {
      if (!current) return undefined;
      const { fault } = current;
      current.remaining--;
      if (current.remaining <= 0) current = undefined;
      return fault;
    },

    /** The fault now in force, for display. */
    get current() {
      return current?.fault ?? 'none';
    },
  };
}

/**
 * Answer a call with a fault.
 * @param {Exclude<Fault, 'none'>} fault
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {'token' | 'session'} endpoint
 */
export function applyFault(fault, req, res, endpoint) {
  if (typeof fault === 'object') {
    const headers = { ...(fault.headers ?? {}) };
    const body = fault.body ?? JSON.stringify({ error: 'server_error', error_description: 'injected fault' });
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
      headers['Content-Type'] = looksLikeJson(body) ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
    }
    send(res, fault.status, body, { 'Cache-Control': 'no-store', ...headers });
    return;
  }
  switch (fault) {
    case 'hang':
      // Never answer. The server tracks sockets, so close() still ends this connection.
      return;
    case 'reset': {
      const socket = req.socket;
      // An RST where the platform can send one, a plain close otherwise: either way no response arrives.
      if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
      return;
    }
    case 'status-503':
      sendTokenJson(res, 503, { error: 'temporarily_unavailable', error_description: 'injected fault' }, { 'Retry-After': '1' });
      return;
    case 'status-500':
      sendTokenJson(res, 500, { error: 'server_error', error_description: 'injected fault' });
      return;
    case 'status-429':
      sendTokenJson(res, 429, { error: 'slow_down', error_description: 'injected fault' }, { 'Retry-After': '1' });
      return;
    case 'html':
      // What a proxy, a captive portal or a misrouted SPA fallback answers: 200 and a web page.
      send(res, 200, '<!doctype html><html><head><title>Gateway</title></head><body><h1>Please sign in to the network</h1></body></html>', {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      return;
    case 'not-json-object':
      sendTokenJson(res, 200, ['access_token', 'not', 'an', 'object']);
      return;
    case 'no-access-token':
      sendTokenJson(res, 200, { token_type: 'Bearer', expires_in: 300 });
      return;
    case 'reject':
      // A session endpoint rejects with 401 (DESIGN.md: "for a session endpoint, 401"); OAuth with invalid_grant.
      if (endpoint === 'session') sendJson(res, 401, { error: 'session_expired' }, { 'Cache-Control': 'no-store' });
      else sendTokenJson(res, 400, { error: 'invalid_grant' });
      return;
  }
}

/** @param {string} body */
function looksLikeJson(body) {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
}
