// @ts-check
/**
 * The example API and token server shared by the demo, the tests, the benchmarks and the browser example.
 *
 * Plain ESM with JSDoc types so Node runs it without a build; `index.d.mts` gives TypeScript the same API.
 *
 * @example
 * import { startExampleServer } from './examples/server/index.mjs';
 * const server = await startExampleServer({ accessTokenTtl: 60 });
 * const tokens = await server.issueTokens();
 * await fetch(`${server.url}/api/me`, { headers: { Authorization: `Bearer ${tokens.access_token}` } });
 * await server.close();
 *
 * Run it: `node examples/server/index.mjs [--static /=examples/browser] [--static /dist/=dist] [--log]`
 * (PORT defaults to 8787).
 */
import http from 'node:http';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTokenService, DEFAULT_SCOPE } from './tokens.mjs';
import { createFaultController } from './faults.mjs';
import { createMounts } from './static.mjs';
import { handle, tokenResponse } from './routes.mjs';

export { CLIENT_ID, USERS } from './routes.mjs';
export { DEFAULT_SCOPE } from './tokens.mjs';

/**
 * @typedef {object} ExampleServerOptions
 * @property {string} [host] default `'127.0.0.1'`
 * @property {number} [port] default `0` (a free port)
 * @property {number} [accessTokenTtl] seconds, default `300`
 * @property {number} [refreshDelayMs] delay before the token endpoint's refresh grant and the session refresh answer, default `0`
 * @property {boolean} [opaqueTokens] access tokens as random strings instead of JWTs, default `false`
 * @property {number} [clockSkewMs] the server's clock runs this far ahead (Date header, JWT iat/exp, checks), default `0`
 * @property {Record<string, string>} [static] URL prefix (`'/'`, `'/dist/'`) to directory
 * @property {boolean} [log] one console line per request, default `false`
 */

/**
 * Start the server. Resolves once it listens.
 * @param {ExampleServerOptions} [options]
 */
export async function startExampleServer(options = {}) {
  const opts = {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    accessTokenTtl: options.accessTokenTtl ?? 300,
    refreshDelayMs: options.refreshDelayMs ?? 0,
    opaqueTokens: options.opaqueTokens ?? false,
    clockSkewMs: options.clockSkewMs ?? 0,
    log: options.log ?? false,
  };
  const now = () => Date.now() + opts.clockSkewMs;
  const tokens = await createTokenService({ now, accessTokenTtl: opts.accessTokenTtl, opaqueTokens: opts.opaqueTokens });
  const faults = createFaultController();

  /** @type {import('./routes.mjs').Stats} */
  const stats = {
    refreshCalls: 0,
    tokenCalls: 0,
    apiHits: 0,
    reuseDetected: 0,
    sessionRefreshCalls: 0,
    clientAborts: 0,
    requestsByPath: {},
    lastAuthorization: {},
  };

  let closed = false;
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Set<() => void>} */
  const waiting = new Set();

  /**
   * Wait `ms`; false when the client goes away first or the server closes.
   * @param {number} ms
   * @param {http.ServerResponse} [res]
   * @returns {Promise<boolean>}
   */
  function delay(ms, res) {
    if (closed) return Promise.resolve(false);
    if (ms <= 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish(true), ms);
      // The client went away before the answer (its timeout or its abort closed the connection).
      const onClose = () => {
        stats.clientAborts++;
        finish(false);
      };
      const cancel = () => finish(false);
      /** @param {boolean} value */
      function finish(value) {
        clearTimeout(timer);
        waiting.delete(cancel);
        res?.off('close', onClose);
        resolve(value);
      }
      res?.on('close', onClose);
      waiting.add(cancel);
    });
  }

  /** @type {import('./routes.mjs').Context} */
  const ctx = { options: opts, now, tokens, stats, faults, delay, mounts: createMounts(options.static) };

  const server = http.createServer((req, res) => {
    handle(ctx, req, res).catch(() => {
      if (!res.headersSent) res.destroy();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client resetting mid-request must not crash the process.
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  /** @type {Promise<void> | undefined} */
  let closing;

  return {
    /** `http://127.0.0.1:PORT`, no trailing slash. */
    url,
    /** Live counters (the same object for the server's lifetime; `resetStats()` zeroes it in place). */
    stats,
    /** The underlying `http.Server`. */
    server,
    resetStats() {
      stats.refreshCalls = 0;
      stats.tokenCalls = 0;
      stats.apiHits = 0;
      stats.reuseDetected = 0;
      stats.sessionRefreshCalls = 0;
      stats.clientAborts = 0;
      for (const key of Object.keys(stats.requestsByPath)) delete stats.requestsByPath[key];
      for (const key of Object.keys(stats.lastAuthorization)) delete stats.lastAuthorization[key];
    },
    /**
     * Inject a fault into the token endpoint and the session refresh endpoint.
     * @param {import('./faults.mjs').Fault} fault
     * @param {{ times?: number }} [faultOptions]
     */
    setFault(fault, faultOptions) {
      faults.set(fault, faultOptions);
    },
    /**
     * A raw OAuth token response with a fresh refresh token, as if the user just signed in.
     * @param {{ sub?: string, scope?: string, ttl?: number, acr?: string }} [grant]
     */
    issueTokens(grant = {}) {
      return tokenResponse(
        ctx,
        { sub: grant.sub ?? 'alice', scope: grant.scope ?? DEFAULT_SCOPE, acr: grant.acr ?? 'pwd' },
        { ttl: grant.ttl ?? opts.accessTokenTtl },
      );
    },
    /** Every access token issued so far answers 401 invalid_token ("expired"); refresh tokens still work. */
    expireAll() {
      tokens.expireAll();
    },
    /** Every refresh token (and every cookie session) is revoked: the next refresh is rejected. */
    revokeRefreshTokens() {
      tokens.revokeRefreshTokens();
    },
    /**
     * Accept the identity provider's access tokens too (by introspection), and tell the example app where it is
     * (`GET /identity.json`).
     * @param {import('./identity.mjs').IdentityProvider} identity
     */
    useIdentityProvider(identity) {
      ctx.identity = identity;
    },
    /** Stop listening and end every connection, hanging or idle. Resolves promptly; safe to call twice. */
    close() {
      closing ??= new Promise((resolve) => {
        closed = true;
        for (const cancel of [...waiting]) cancel();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startExampleServer>>} ExampleServer */

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      static: { type: 'string', multiple: true },
      log: { type: 'boolean', default: false },
      opaque: { type: 'boolean', default: false },
      ttl: { type: 'string' },
      'refresh-delay': { type: 'string' },
      skew: { type: 'string' },
      host: { type: 'string' },
    },
  });
  /** @type {Record<string, string>} */
  const mounts = {};
  for (const spec of values.static ?? []) {
    const eq = spec.indexOf('=');
    if (eq < 1) throw new Error(`--static expects PREFIX=DIR, got ${spec}`);
    mounts[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  const server = await startExampleServer({
    host: values.host ?? process.env['HOST'] ?? '127.0.0.1',
    port: Number(process.env['PORT'] ?? 8787),
    accessTokenTtl: values.ttl === undefined ? undefined : Number(values.ttl),
    refreshDelayMs: values['refresh-delay'] === undefined ? undefined : Number(values['refresh-delay']),
    clockSkewMs: values.skew === undefined ? undefined : Number(values.skew),
    opaqueTokens: values.opaque,
    static: mounts,
    log: values.log,
  });
  console.log(`example server listening on ${server.url}`);
  console.log(`  sign in: POST ${server.url}/oauth/token  grant_type=password client_id=demo-spa username=alice password=wonderland`);
  for (const [prefix, dir] of Object.entries(mounts)) console.log(`  static: ${prefix} -> ${dir}`);
  const stop = () => {
    server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (isMain()) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
