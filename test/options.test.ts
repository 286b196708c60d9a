/**
 * Option ranges (DESIGN behaviour 13, issue 9 item 5): every timer option is checked when the client is created; a
 * value beyond what a timer holds (2^31-1 ms), `Infinity`, NaN or a negative one is a TypeError naming the option.
 * `Retry-After` is honoured up to `retry.maxRetryAfter` (default 60 s), both by `auth.http`'s retries and by the
 * refresh's own; beyond it the error reaches the app at once.
 */
import { describe, expect, it } from 'vitest';
import { RateLimitError, ServerError, createAuthClient, type AuthClientOptions } from '../src/index.js';
import { exampleClientOptions, useClients, useExampleServer } from './helpers/example.js';
import { caught } from './helpers/caught.js';

const server = useExampleServer({ opaqueTokens: true });
const createClient = useClients();

const MAX = 2 ** 31 - 1;
const BAD = [2 ** 31, Infinity, -Infinity, Number.NaN, -1, '1000' as unknown as number];

function creationError(options: AuthClientOptions): unknown {
  try {
    createAuthClient(options).dispose();
    return undefined;
  } catch (error) {
    return error;
  }
}

describe('timer options at createAuthClient', () => {
  const msOptions = ['timeout', 'loginTimeout', 'idleTimeout', 'idleWarning'] as const;

  it.each(msOptions)('%s: out-of-range values are a TypeError naming it; 2^31-1 ms is accepted', (name) => {
    for (const value of BAD) {
      const error = creationError({ [name]: value });
      expect(error, `${name}: ${String(value)}`).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toContain(`option ${name} `);
    }
    expect(creationError({ [name]: MAX })).toBeUndefined();
  });

  it('refreshLeeway is in seconds: up to 2147483.647, 0 allowed', () => {
    for (const value of [...BAD, MAX / 1000 + 0.001]) {
      const error = creationError({ refreshLeeway: value });
      expect(error, String(value)).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toContain('option refreshLeeway ');
    }
    expect(creationError({ refreshLeeway: MAX / 1000 })).toBeUndefined();
    expect(creationError({ refreshLeeway: 0 })).toBeUndefined();
  });

  it('timeout and loginTimeout must be above 0; idleWarning may be 0', () => {
    expect(creationError({ timeout: 0 })).toBeInstanceOf(TypeError);
    expect(creationError({ loginTimeout: 0 })).toBeInstanceOf(TypeError);
    expect(creationError({ idleWarning: 0 })).toBeUndefined();
  });

  it.each(['backoffLimit', 'maxRetryAfter'] as const)('retry.%s is checked when given', (name) => {
    for (const value of BAD) {
      const error = creationError({ retry: { [name]: value } });
      expect(error, String(value)).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toContain(`option retry.${name} `);
    }
    expect(creationError({ retry: { [name]: 0 } })).toBeUndefined();
    expect(creationError({ retry: 3 })).toBeUndefined();
  });

  it('a timeout of 2^31-1 does not cut a 50 ms refresh short', async () => {
    const auth = createClient({ ...exampleClientOptions(server), timeout: MAX });
    await auth.login(await server.issueTokens());
    server.expireAll();
    expect((await auth.fetch('me')).status).toBe(200);
    expect(server.stats.refreshCalls).toBe(1);
  });
});

describe('Retry-After and retry.maxRetryAfter', () => {
  async function signedIn(options: AuthClientOptions = {}) {
    const auth = createClient({ ...exampleClientOptions(server), ...options });
    await auth.login(await server.issueTokens());
    return auth;
  }

  it('a 503 asking for an hour reaches the app at once (default maxRetryAfter 60 s)', async () => {
    const auth = await signedIn();
    const started = Date.now();
    const error = await caught(auth.http.get('status/503?retryAfter=3600'));
    expect(error).toBeInstanceOf(ServerError);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(server.stats.requestsByPath['/api/status/503']).toBe(1);
  });

  it('a Retry-After within maxRetryAfter is honoured', async () => {
    const auth = await signedIn({ retry: { limit: 1, maxRetryAfter: 2000 } });
    const started = Date.now();
    const error = await caught(auth.http.get('status/429?retryAfter=1'));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(server.stats.requestsByPath['/api/status/429']).toBe(2);
  });

  it('a smaller maxRetryAfter gives up on a Retry-After of 1 s', async () => {
    const auth = await signedIn({ retry: { limit: 2, maxRetryAfter: 500 } });
    const error = await caught(auth.http.get('status/429?retryAfter=1'));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(server.stats.requestsByPath['/api/status/429']).toBe(1);
  });

  it("the refresh's retries: a token endpoint asking for an hour is reported at once, the session kept", async () => {
    const auth = await signedIn();
    const reported: unknown[] = [];
    auth.on('refreshError', ({ error }) => reported.push(error));
    server.expireAll();
    server.resetStats();
    server.setFault({ status: 503, headers: { 'retry-after': '3600' } });
    const started = Date.now();
    const error = await caught(auth.fetch('me'));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toBeInstanceOf(ServerError);
    expect(server.stats.refreshCalls).toBe(1);
    expect(reported).toHaveLength(1);
    expect(auth.session.status).toBe('active');
  });

  it("the refresh's retries honour a Retry-After of 1 s", async () => {
    const auth = await signedIn();
    server.expireAll();
    server.resetStats();
    server.setFault({ status: 503, headers: { 'retry-after': '1' }, times: 1 });
    const started = Date.now();
    expect((await auth.fetch('me')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(server.stats.refreshCalls).toBe(2);
  });
});
