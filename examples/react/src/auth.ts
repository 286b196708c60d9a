/**
 * The app's one auth client, made once at module level. The example server (examples/server/) is the API and the
 * token endpoint, on the page's own origin.
 */
import { createAuthClient, indexedDbStorage, oauth2Refresh } from 'authfetch';

const origin = window.location.origin;

export const auth = createAuthClient({
  baseUrl: `${origin}/api`,
  refresh: oauth2Refresh({ tokenEndpoint: `${origin}/oauth/token`, clientId: 'demo-spa' }),
  storage: indexedDbStorage({ name: 'authfetch-react-example' }),
  // TanStack Query decides retries from the typed errors (src/retry.ts): ky's own retries would multiply them.
  retry: 0,
});

/** What signing in may come to. */
export type SignInResult = { ok: true } | { ok: false; message: string };

/**
 * Sign in with the password grant the example server offers, then hand the tokens to the client (`login()` resumes
 * whatever was waiting). A real app would use `oidc()` and `auth.signIn()` (see docs/sign-in.md).
 */
export async function signIn(username: string, password: string): Promise<SignInResult> {
  let response: Response;
  try {
    response = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'password', client_id: 'demo-spa', username, password }),
    });
  } catch {
    return { ok: false, message: 'We could not reach the server. Check your connection and try again.' };
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok || typeof body !== 'object' || body === null || !('access_token' in body)) {
    const wrong = typeof body === 'object' && body !== null && (body as { error?: unknown }).error === 'invalid_grant';
    return { ok: false, message: wrong ? 'Wrong user name or password.' : 'Signing in failed. Please try again.' };
  }
  await auth.login(body as { access_token: string });
  return { ok: true };
}
