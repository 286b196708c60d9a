// @ts-check
/**
 * Static files for the browser example app (the page and the built SDK), with no path traversal.
 */
import { realpath, stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { send, sendJson } from './http.mjs';

/** @type {Record<string, string>} */
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

/**
 * @typedef {{ prefix: string, root: string }} Mount
 */

/**
 * Normalise `static` options into mounts, longest prefix first so `/dist/` wins over `/`.
 * @param {Record<string, string> | undefined} mounts
 * @returns {Mount[]}
 */
export function createMounts(mounts) {
  return Object.entries(mounts ?? {})
    .map(([prefix, dir]) => ({
      prefix: prefix.startsWith('/') ? (prefix.endsWith('/') ? prefix : `${prefix}/`) : `/${prefix.replace(/\/?$/, '/')}`,
      root: path.resolve(dir),
    }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
}

/**
 * Serve `pathname` from the first mount whose prefix matches. Returns false when no mount matches.
 * @param {Mount[]} mounts
 * @param {string} pathname the raw (still percent-encoded) path of the request
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @returns {Promise<boolean>}
 */
export async function serveStatic(mounts, pathname, req, res) {
  // `/dist` (no slash) reaches the `/dist/` mount through a redirect below.
  const mount = mounts.find((m) => pathname.startsWith(m.prefix) || pathname === m.prefix.slice(0, -1));
  if (!mount) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method_not_allowed' }, { Allow: 'GET, HEAD' });
    return true;
  }
  if (pathname === mount.prefix.slice(0, -1)) {
    send(res, 301, undefined, { Location: mount.prefix });
    return true;
  }

  let relative;
  try {
    relative = decodeURIComponent(pathname.slice(mount.prefix.length));
  } catch {
    sendJson(res, 400, { error: 'bad_path' });
    return true;
  }
  // Decoding can produce `..`, `\` or NUL that the URL parser never saw (`%2e%2e%2f`, `..%5c`).
  if (relative.includes('\0')) return notFound(res);
  const segments = relative.split(/[\\/]+/);
  if (segments.some((s) => s === '..')) return notFound(res);

  const root = await realpath(mount.root).catch(() => undefined);
  if (!root) return notFound(res);
  let file = path.resolve(root, ...segments.filter(Boolean));
  if (!isInside(root, file)) return notFound(res);

  try {
    let info = await stat(file);
    if (info.isDirectory()) {
      if (!pathname.endsWith('/')) {
        // Relative links in index.html need the trailing slash.
        send(res, 301, undefined, { Location: `${pathname}/` });
        return true;
      }
      file = path.join(file, 'index.html');
      info = await stat(file);
    }
    // A symlink inside the directory must not lead outside it.
    const real = await realpath(file);
    if (!isInside(root, real) || !info.isFile()) return notFound(res);
    const body = await readFile(real);
    send(res, 200, body, {
      'Content-Type': CONTENT_TYPES[path.extname(real).toLowerCase()] ?? 'application/octet-stream',
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
    });
  } catch {
    return notFound(res);
  }
  return true;
}

/**
 * @param {string} root
 * @param {string} file
 */
function isInside(root, file) {
  const rel = path.relative(root, file);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** @param {import('node:http').ServerResponse} res */
function notFound(res) {
  sendJson(res, 404, { error: 'not_found' });
  return true;
}
