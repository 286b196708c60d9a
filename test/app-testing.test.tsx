// @vitest-environment jsdom
/**
 * The app tests docs/testing.md (and the README's "Testing your app") shows, run as they are written: a component
 * (test/fixtures/Dashboard.tsx) meets each case its UI must handle through authfetch/testing and msw in jsdom.
 */
import { cleanup, render, screen } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createAuthClient, oauth2Refresh, type AuthClient } from 'authfetch';
import { AuthProvider } from 'authfetch/react';
import { createTestAuth } from 'authfetch/testing';
import { Dashboard } from './fixtures/Dashboard';

const testAuth = createTestAuth({ apiOrigin: 'https://api.example.test' });
const server = setupServer(...testAuth.handlers);
const clients: AuthClient[] = [];

beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  cleanup();
  clients.splice(0).forEach((auth) => auth.dispose());
  server.resetHandlers();
  testAuth.reset();
});
afterAll(() => server.close());

/** A signed-in client of the test API (made after `server.listen()`, so its requests go through msw). */
async function signedIn(): Promise<AuthClient> {
  const auth = createAuthClient({
    baseUrl: 'https://api.example.test',
    refresh: oauth2Refresh({ tokenEndpoint: testAuth.tokenEndpoint, clientId: 'my-app' }),
  });
  clients.push(auth);
  await auth.login(testAuth.signIn());
  return auth;
}

function renderDashboard(auth: AuthClient) {
  render(
    <AuthProvider client={auth}>
      <Dashboard />
    </AuthProvider>,
  );
}

it('shows the report', async () => {
  renderDashboard(await signedIn());
  expect(await screen.findByText('Report: /reports/latest')).toBeTruthy();
});

it('asks to sign in again when the session has ended', async () => {
  const auth = await signedIn();
  testAuth.revokeSession(); // the server ends the session: the refresh is refused
  renderDashboard(auth);
  expect((await screen.findByRole('alert')).textContent).toBe('Your session has ended. Please sign in again.');
  expect(testAuth.counts.refresh).toBe(1);
});

it('offers to request access on a 403', async () => {
  testAuth.forbid('/reports', 'reports:read');
  renderDashboard(await signedIn());
  expect(await screen.findByRole('button', { name: 'Request access' })).toBeTruthy();
});

it('offers to try again when the refresh keeps failing', async () => {
  const auth = await signedIn();
  testAuth.expireAccessTokens();
  testAuth.failRefresh(503, 3); // the first try and both retries
  renderDashboard(auth);
  expect(await screen.findByRole('button', { name: 'Try again' }, { timeout: 5000 })).toBeTruthy();
  expect(testAuth.counts.refresh).toBe(3);
});
