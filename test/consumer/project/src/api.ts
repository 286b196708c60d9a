/**
 * The app's API client, created when the module loads, as apps usually do: before any test has started msw.
 * authfetch must look `fetch` up when it sends, or msw (which patches `globalThis.fetch` at `server.listen()`)
 * never sees its requests.
 */
import { createAuthClient, oauth2Refresh } from 'authfetch';

export const API = 'https://api.example.test/v1';
export const TOKEN_ENDPOINT = 'https://auth.example.test/oauth/token';

export const auth = createAuthClient({
  baseUrl: API,
  refresh: oauth2Refresh({ tokenEndpoint: TOKEN_ENDPOINT, clientId: 'consumer-app' }),
  // The flows below meet failures on purpose; keep the test output to the test's own lines.
  logger: {},
});
