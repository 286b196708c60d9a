/**
 * Setup shared by the tests of `authfetch/testing` and of the React bindings: one msw server per test file over
 * the kit's handlers (listening before any client exists, since msw patches `globalThis.fetch` at `listen()`), the
 * kit reset between tests, and clients disposed after each test.
 */
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createAuthClient, oauth2Refresh, type AuthClient, type AuthClientOptions } from '../../src/index.js';
import { createTestAuth, type TestAuth, type TestAuthOptions } from '../../src/testing/index.js';

/** The API origin the kit's tests use: msw answers it, nothing listens there. */
export const API = 'https://api.example.test';

export interface TestAuthFixture {
  kit: TestAuth;
  server: ReturnType<typeof setupServer>;
  /** A client of the kit's API with `oauth2Refresh` against its token endpoint; disposed after the test. */
  client(options?: AuthClientOptions): AuthClient;
}

export function useTestAuth(options: Partial<TestAuthOptions> = {}): TestAuthFixture {
  const kit = createTestAuth({ apiOrigin: API, ...options });
  // `onUnhandledRequest: 'error'`: a request the kit does not answer is a bug in the test, not a silent pass-through.
  const server = setupServer(...kit.handlers);
  const clients: AuthClient[] = [];
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    for (const auth of clients.splice(0)) auth.dispose();
    server.resetHandlers();
    kit.reset();
  });
  afterAll(() => server.close());
  return {
    kit,
    server,
    client(clientOptions = {}) {
      const auth = createAuthClient({
        baseUrl: API,
        refresh: oauth2Refresh({ tokenEndpoint: kit.tokenEndpoint, clientId: 'test-app' }),
        crossTab: false,
        ...clientOptions,
      });
      clients.push(auth);
      return auth;
    },
  };
}
