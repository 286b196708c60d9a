// @ts-check
/**
 * Existing fetch code, switched to authfetch by changing one name: `auth.fetch` has fetch's signature and
 * resolves with the Response for any status, so the code around it stays as it was, and it gains token
 * attachment, the silent refresh and the replay. Run: `npm run build && node examples/node/wrap-fetch.mjs`.
 */
import { createAuthClient, oauth2Refresh } from 'authfetch';
import { startExampleServer, CLIENT_ID } from '../server/index.mjs';

const server = await startExampleServer();
const auth = createAuthClient({
  baseUrl: server.url,
  refresh: oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: CLIENT_ID }),
});
await auth.login(await server.issueTokens());

// The app's code before: `const http = fetch;` Now:
const http = auth.fetch;

/** Unchanged app code: plain fetch idioms, status checks included. */
async function loadItem(id) {
  const response = await http(`/api/items/${id}`, { headers: { accept: 'application/json' } });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`loading item ${id} failed with ${response.status}`);
  return response.json();
}

console.log('item 1:', await loadItem(1));
server.expireAll(); // the access token dies; the next call refreshes and replays without the app noticing
console.log('item 2:', await loadItem(2));
console.log('item 9:', await loadItem(9));
console.log(`refresh calls at the server: ${server.stats.refreshCalls}`);

auth.dispose();
await server.close();
