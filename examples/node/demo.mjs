// @ts-check
/**
 * `npm run demo`: the whole authfetch flow against the local example server, printed step by step with the
 * events each step fired. Imports the package by its own name (Node resolves the package's self-reference to
 * the built dist/), exactly as an app would.
 */
import { createAuthClient, oauth2Refresh, isAuthFetchError } from 'authfetch';
import { startExampleServer, CLIENT_ID } from '../server/index.mjs';

const server = await startExampleServer({ refreshDelayMs: 50 });
const tokenEndpoint = `${server.url}/oauth/token`;
console.log(`Example API and token server on ${server.url}`);
console.log('(This script signs in with the password grant, which is for scripts only; apps use oidc(): see docs/sign-in.md.)\n');

/**
 * Sign-in for this script: the OAuth password grant against the example server. For scripts and tests only: a real
 * app never handles the user's password. A browser app signs in with oidc() (authorization code + PKCE, a redirect or
 * a popup at the identity provider: `npm run demo:browser`, docs/sign-in.md).
 */
async function signIn() {
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'wonderland', client_id: CLIENT_ID }),
  });
  if (!response.ok) throw new Error(`sign-in failed: ${response.status}`);
  return response.json();
}

/** Every event a client fires, printed as it happens (payloads never hold tokens). */
function logEvents(auth) {
  const show = (value) =>
    JSON.stringify(value, (key, v) =>
      key === 'error' && v && typeof v === 'object' ? `${v.name} (${v.code})` : key === 'expiresAt' ? new Date(v).toISOString().slice(11, 19) : v,
    );
  for (const type of ['login', 'refresh', 'refreshError', 'sessionWarning', 'sessionExpired', 'loginRequired', 'logout', 'unauthorized', 'forbidden', 'stepUp']) {
    auth.on(type, (payload) => console.log(`    event ${type} ${payload instanceof Error ? `${payload.name} (${payload.code})` : show(payload)}`));
  }
}

function step(title) {
  console.log(`\n== ${title}`);
}

const auth = createAuthClient({
  baseUrl: `${server.url}/api`,
  refresh: oauth2Refresh({ tokenEndpoint, clientId: CLIENT_ID }),
});
logEvents(auth);

step('1. Sign in and call a protected route');
await auth.login(await signIn());
const me = await auth.http.get('me').json();
console.log('  GET /api/me ->', me);

step('2. Typed errors carry a message for the person using the app');
for (const path of ['admin', 'items/42']) {
  try {
    await auth.http.get(path);
  } catch (error) {
    if (!isAuthFetchError(error)) throw error;
    console.log(`  GET /api/${path} -> ${error.name} (${error.code}), action "${error.action}"`);
    console.log(`    userMessage: "${error.userMessage}"`);
  }
}

step('3. A 401 storm: the access token is revoked while 25 requests go out at once');
server.expireAll();
server.resetStats();
const storm = await Promise.allSettled(Array.from({ length: 25 }, () => auth.http.get('me').json()));
console.log(`  ${storm.filter((r) => r.status === 'fulfilled').length}/25 succeeded; refresh calls at the server: ${server.stats.refreshCalls}`);

step('4. Proactive refresh: a token that expires within refreshLeeway (30 s) is renewed before sending');
const shortLived = await server.issueTokens({ ttl: 10 });
await auth.login(shortLived);
server.resetStats();
await auth.http.get('me').json();
const hits = server.stats.requestsByPath['/api/me'] ?? 0;
console.log(`  requests that reached /api/me: ${hits} (so no 401 on the way); refresh calls: ${server.stats.refreshCalls}`);

step('5. The session ends: the refresh is rejected while requests wait (loginRequired: "wait")');
const waiting = createAuthClient({
  baseUrl: `${server.url}/api`,
  refresh: oauth2Refresh({ tokenEndpoint, clientId: CLIENT_ID }),
  loginRequired: 'wait',
});
logEvents(waiting);
await waiting.login(await signIn());
waiting.on('loginRequired', async ({ pending }) => {
  console.log(`  -> the app shows its sign-in form; ${pending} request(s) are held`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  console.log('  -> the user signs in again');
  await waiting.login(await signIn());
});
server.revokeRefreshTokens();
server.expireAll();
const held = await Promise.all(['me', 'items/1', 'items/2'].map((path) => waiting.http.get(path).json()));
console.log('  the held requests resumed after sign-in:', held.map((body) => JSON.stringify(body)).join(' '));

step('6. Sign out');
await waiting.logout();
console.log(`  session: ${JSON.stringify(waiting.session)}`);

auth.dispose();
waiting.dispose();
await server.close();
console.log('\nDone.');
