/**
 * Setup shared by the Node test files that run clients against the example server (`examples/server/`): one server
 * per file on 127.0.0.1 port 0, reset between tests, closed in teardown; and clients disposed after each test, so
 * no timer or listener of one test outlives it.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startExampleServer, type ExampleServer, type ExampleServerOptions } from '../../examples/server/index.mjs';
import { createAuthClient, oauth2Refresh, type AuthClient, type AuthClientOptions } from '../../src/index.js';

/**
 * Start one example server for the test file (`beforeAll`), close it after (`afterAll`), and before each test clear
 * its fault and zero its stats, so no test sees another's.
 *
 * Returns a stand-in that forwards to the running server, so a file can name it `server` at the top level and use it
 * in tests and helpers as if it were the server itself (it is usable from `beforeAll` on, not before).
 */
export function useExampleServer(options: ExampleServerOptions = {}): ExampleServer {
  let running: ExampleServer | undefined;

  beforeAll(async () => {
    running = await startExampleServer(options);
  });
  afterAll(() => running?.close());
  beforeEach(() => {
    current().setFault('none');
    current().resetStats();
  });

  function current(): ExampleServer {
    if (!running) throw new Error('the example server is not started yet (use it in hooks and tests, not at load time)');
    return running;
  }

  return new Proxy({} as ExampleServer, {
    get(_target, key) {
      const server = current();
      const value: unknown = Reflect.get(server, key, server);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(server) : value;
    },
  });
}

/**
 * Register an `afterEach` that disposes every client the returned function made during the test. The function takes
 * `createAuthClient`'s options.
 */
export function useClients(): (options?: AuthClientOptions) => AuthClient {
  const clients: AuthClient[] = [];
  afterEach(() => {
    for (const auth of clients.splice(0)) auth.dispose();
  });
  return (options = {}) => {
    const auth = createAuthClient(options);
    clients.push(auth);
    return auth;
  };
}

/**
 * The options of a client of the example API with the silent refresh: `baseUrl` its `/api`, and `oauth2Refresh`
 * against its token endpoint as the example SPA's public client (RFC 6749 section 6).
 */
export function exampleClientOptions(server: ExampleServer): Pick<AuthClientOptions, 'baseUrl' | 'refresh'> {
  return {
    baseUrl: `${server.url}/api`,
    refresh: oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: 'demo-spa' }),
  };
}

/** A client of `server` (made by `create`, from {@link useClients}), signed in with a real (ES256 JWT) access token. */
export async function signedInClient(
  create: (options?: AuthClientOptions) => AuthClient,
  server: ExampleServer,
  options: AuthClientOptions = {},
): Promise<{ auth: AuthClient; token: string; refreshToken: string }> {
  const auth = create({ baseUrl: server.url, ...options });
  const issued = await server.issueTokens();
  await auth.login(issued);
  return { auth, token: issued.access_token, refreshToken: issued.refresh_token };
}

/**
 * Start example servers on demand within a test (`await start({ refreshDelayMs: 100 })`), each with `defaults`
 * under its own options; all are closed after the file.
 */
export function useExampleServers(defaults: ExampleServerOptions = {}): (options?: ExampleServerOptions) => Promise<ExampleServer> {
  const servers: ExampleServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });
  return async (options = {}) => {
    const server = await startExampleServer({ ...defaults, ...options });
    servers.push(server);
    return server;
  };
}

/** Sign in, then have the server refuse that access token (401 invalid_token) and zero its stats: the next request refreshes. */
export async function signInStale(auth: AuthClient, server: ExampleServer): Promise<void> {
  await auth.login(await server.issueTokens());
  server.expireAll();
  server.resetStats();
}
