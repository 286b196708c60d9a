/**
 * Handlers never break the client (DESIGN behaviour 11, issue 9 item 4): a listener that throws, or an async
 * listener whose promise rejects, is reported through `logger.error`; the other listeners still run; nothing becomes
 * an unhandled rejection (which ends a Node 20 process). The process-level listener below makes the test fail if one
 * escapes, whatever vitest itself does with it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionExpiredError } from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { caught } from './helpers/caught.js';

const server = useExampleServer({ opaqueTokens: true });
const createClient = useClients();

const escaped: unknown[] = [];
const onUnhandled = (reason: unknown) => escaped.push(reason);
beforeEach(() => {
  escaped.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Let rejections that nobody handles surface (Node reports them after the microtask queue drains). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

function loggedClient(extra: Parameters<typeof createClient>[0] = {}) {
  const errors: Array<{ message: string; error: unknown }> = [];
  const auth = createClient({
    ...exampleClientOptions(server),
    logger: { error: (message: string, error?: unknown) => errors.push({ message, error }) },
    ...extra,
  });
  return { auth, errors };
}

describe('listeners that fail', () => {
  it('an async listener that rejects is reported through logger.error and does not escape; the others run', async () => {
    const { auth, errors } = loggedClient();
    const order: string[] = [];
    const boom = new Error('listener failed');
    auth.on('login', () => order.push('first'));
    auth.on('login', async () => {
      order.push('async');
      await Promise.resolve();
      throw boom;
    });
    auth.on('login', () => {
      order.push('throws');
      throw new Error('sync failure');
    });
    auth.on('login', () => order.push('last'));

    await auth.login(await server.issueTokens());
    await settle();
    expect(order).toEqual(['first', 'async', 'throws', 'last']);
    expect(escaped).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual([
      'authfetch: a "login" event listener threw; the client carries on',
      'authfetch: a "login" event listener rejected; the client carries on',
    ]);
    expect(errors[1]?.error).toBe(boom);
    // The client carries on.
    expect((await auth.fetch('me')).status).toBe(200);
  });

  it("the README's async loginRequired listener, rejecting, leaves the request's own rejection intact", async () => {
    const { auth, errors } = loggedClient();
    await auth.login(await server.issueTokens());
    server.expireAll();
    server.revokeRefreshTokens();
    auth.on('loginRequired', async () => {
      throw new Error('could not open the sign-in dialog');
    });
    auth.on('sessionExpired', () => Promise.reject(new Error('analytics down')));
    const error = await caught(auth.fetch('me'));
    expect(error).toBeInstanceOf(SessionExpiredError);
    await settle();
    expect(escaped).toEqual([]);
    expect(errors.map((e) => e.message).sort()).toEqual([
      'authfetch: a "loginRequired" event listener rejected; the client carries on',
      'authfetch: a "sessionExpired" event listener rejected; the client carries on',
    ]);
  });

  it('a thenable whose then throws is reported too', async () => {
    const { auth, errors } = loggedClient();
    auth.on('login', (() => ({
      then() {
        throw new Error('odd thenable');
      },
    })) as unknown as () => void);
    await auth.login(await server.issueTokens());
    await settle();
    expect(escaped).toEqual([]);
    expect(errors).toHaveLength(1);
  });
});
