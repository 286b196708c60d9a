// @ts-check
/**
 * `npm run demo:browser`: build (the npm script does that first), then serve the example app and the example API
 * on one origin, http://127.0.0.1:PORT (default 8787). Ctrl-C stops it.
 *
 * Environment: PORT (default 8787), HOST (default 127.0.0.1; anything but 127.0.0.1/localhost is not a secure
 * context over plain HTTP, so the page then runs without Web Locks and uses the IndexedDB lease instead),
 * TOKEN_TTL (access token lifetime in seconds, default 60, short so that refreshes show in the event log),
 * REFRESH_DELAY (ms the token endpoint waits before answering a refresh, default 0), LOG=1 (one line per request),
 * IDP_PORT (the identity provider's port, default PORT + 1).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startIdentityProvider } from '../server/identity.mjs';
import { startExampleServer } from '../server/index.mjs';
import { repoRoot, spaStaticMounts } from './mounts.mjs';

const env = process.env;

if (!existsSync(path.join(repoRoot, 'dist/index.js'))) {
  console.error('dist/index.js is missing: run `npm run build` first (`npm run demo:browser` does both).');
  process.exit(1);
}

const mounts = await spaStaticMounts();
const server = await startExampleServer({
  host: env['HOST'] ?? '127.0.0.1',
  port: Number(env['PORT'] ?? 8787),
  accessTokenTtl: Number(env['TOKEN_TTL'] ?? 60),
  refreshDelayMs: Number(env['REFRESH_DELAY'] ?? 0),
  static: mounts,
  log: env['LOG'] === '1',
});

// The identity provider the page signs in with (authorization code + PKCE through oidc()), on the next port.
const identity = await startIdentityProvider({
  appOrigin: server.url,
  host: env['HOST'] ?? '127.0.0.1',
  port: Number(env['IDP_PORT'] ?? (Number(env['PORT'] ?? 8787) || 0) + 1),
  accessTokenTtl: Number(env['TOKEN_TTL'] ?? 60),
});
server.useIdentityProvider(identity);

console.log(`authfetch example app: ${server.url}/`);
console.log(`  identity provider (oidc-provider): ${identity.issuer}; sign in with any user name and password`);
console.log('  open it in several tabs to see them share the session; ?signin=password uses the password grant (alice / wonderland)');
console.log(`  short idle timeout: ${server.url}/?idleTimeout=20000&idleWarning=10000`);
console.log('  Ctrl-C to stop');

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  Promise.all([server.close(), identity.close()]).then(() => {
    rmSync(/** @type {string} */ (mounts['/vendor/']), { recursive: true, force: true }); // the bundled dependencies
    process.exit(0);
  });
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
