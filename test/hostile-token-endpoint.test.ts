/**
 * Token values and hostile token endpoints (DESIGN behaviour 7): a token that is not a valid header value, an expiry
 * that is no time, prototype keys, and bodies that are huge, endless or dripping. Each is refused with a typed error
 * that quotes no token, the session in place is kept (no sign-out, no `sessionExpired`), and nothing is polluted.
 * A real token endpoint on 127.0.0.1 answers what each test makes it answer. Server text in error messages
 * (`error_description`) is tested with the errors module.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  TimeoutError,
  TokenResponseError,
  createAuthClient,
  memoryStorage,
  oauth2Refresh,
  type AuthClient,
  type OAuthTokenResponse,
  type TokenSet,
} from '../src/index.js';
import { caught } from './helpers/caught.js';

const OLD = { accessToken: 'old-access-token', refreshToken: 'old-refresh-token', expiresAt: Date.now() + 3_600_000 };
const SECRETS = ['old-access-token', 'old-refresh-token', 'evil', 'X-Injected'];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_req, res) => res.end('{}');
let server: Server;
let tokenEndpoint: string;
/** Whether the last connection to the endpoint was closed by the client before the answer was complete. */
const connections = { closedEarly: 0 };
const clients: AuthClient[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    res.on('close', () => {
      if (!res.writableFinished) connections.closedEarly += 1;
    });
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tokenEndpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);
afterEach(() => {
  for (const auth of clients.splice(0)) auth.dispose();
  connections.closedEarly = 0;
});

/** Answer every token request with this JSON text. */
const answerJson = (text: string) => {
  handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(text);
  };
};

/** A signed-in client, its storage, and the events and log lines it produced. */
async function signedIn(timeout = 5_000) {
  const storage = memoryStorage();
  const lines: string[] = [];
  const log = (...args: unknown[]) => lines.push(args.map((a) => (a instanceof Error ? `${a.message} ${JSON.stringify(a)}` : String(a))).join(' '));
  const auth = createAuthClient({
    refresh: oauth2Refresh({ tokenEndpoint, clientId: 'app' }),
    storage,
    timeout,
    retry: { backoffLimit: 10 },
    logger: { debug: log, warn: log, error: log },
  });
  clients.push(auth);
  const events: { type: string; text: string }[] = [];
  for (const type of ['refresh', 'refreshError', 'sessionExpired', 'loginRequired', 'logout'] as const) {
    auth.on(type, (payload) => events.push({ type, text: JSON.stringify(payload, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message } : v)) }));
  }
  await auth.login(OLD);
  return { auth, storage, events, lines };
}

/** No token, refresh token or injected text anywhere the app or a log could see. */
function expectTokenFree(...texts: string[]) {
  for (const text of texts) for (const secret of SECRETS) expect(text).not.toContain(secret);
}

/** The session is the one from before: same tokens, active, nothing ended. */
async function expectKept(auth: AuthClient, storage: ReturnType<typeof memoryStorage>) {
  expect(auth.session.status).toBe('active');
  expect(await storage.get()).toEqual(OLD);
  expect(await auth.getAccessToken()).toBe(OLD.accessToken);
}

describe('login() refuses token values that are not header values, without quoting them', () => {
  const bad: [string, unknown][] = [
    ['CR/LF in the access token', { accessToken: 'evil\r\nX-Injected: 1' }],
    ['a space', { accessToken: 'evil token' }],
    ['a NUL', { accessToken: 'evil\u0000' }],
    ['non-ASCII', { accessToken: 'evil-\u00e9' }],
    ['"=" inside', { accessToken: 'evil=x' }],
    ['CR/LF in access_token', { access_token: 'evil\nX-Injected: 1' }],
    ['CR/LF in refresh_token', { access_token: 'fine', refresh_token: 'evil\r\nX-Injected' }],
    ['a control in refreshToken', { accessToken: 'fine', refreshToken: 'evil\u0007' }],
    ['an inherited accessToken', Object.create({ accessToken: 'evil' }) as object],
    ['an inherited access_token', Object.create({ access_token: 'evil' }) as object],
  ];
  it.each(bad)('%s: TokenResponseError, the session kept', async (_name, input) => {
    const { auth, storage, events } = await signedIn();
    const error = (await caught(auth.login(input as TokenSet))) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expectTokenFree(error.message, JSON.stringify(error), ...events.map((e) => e.text));
    await expectKept(auth, storage);
  });

  it('says what is wrong, accurately', async () => {
    const { auth } = await signedIn();
    await expect(auth.login({ accessToken: 'a\r\nb' })).rejects.toThrow('accessToken is not a valid header value (RFC 6750 b64token)');
    await expect(auth.login({ accessToken: 'ok', expiresAt: Number.POSITIVE_INFINITY })).rejects.toThrow('expiresAt is not a finite time');
    await expect(auth.login({ access_token: 'ok', expires_in: 1e306 })).rejects.toThrow('expires_in that is not a usable number of seconds');
  });

  it('accepts every b64token, with padding', async () => {
    const { auth } = await signedIn();
    for (const token of ['AZaz09-._~+/', 'abc==', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.']) {
      await auth.login({ accessToken: token });
      expect(await auth.getAccessToken()).toBe(token);
    }
  });
});

describe('expires_in', () => {
  const refused: [string, unknown][] = [
    ['1e306 (an Infinity expiry)', 1e306],
    ['1e20 (past the last Date)', 1e20],
    ['negative', -60],
    ['a word', 'soon'],
    ['"1e400"', '1e400'],
    ['an object', {}],
    ['true', true],
    ['"NaN"', 'NaN'],
  ];
  it.each(refused)('%s: login() refuses it', async (_name, expiresIn) => {
    const { auth, storage } = await signedIn();
    await expect(auth.login({ access_token: 'fine', expires_in: expiresIn } as OAuthTokenResponse)).rejects.toBeInstanceOf(TokenResponseError);
    await expectKept(auth, storage);
  });

  it.each(refused)('%s: a refresh answering it fails typed and accurately, keeping the session', async (_name, expiresIn) => {
    const { auth, storage, events } = await signedIn();
    answerJson(JSON.stringify({ access_token: 'evil', expires_in: expiresIn, refresh_token: 'evil-rt' }));
    const error = (await caught(auth.refresh())) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toContain('expires_in that is not a usable number of seconds');
    expect(events.map((e) => e.type)).toEqual(['refreshError']);
    expectTokenFree(error.message, JSON.stringify(error), ...events.map((e) => e.text));
    await expectKept(auth, storage);
  });

  it.each([
    [3600, 3_600_000],
    ['3600', 3_600_000],
    [0.5, 500],
    [0, 0],
  ])('%j is used: the expiry is that far from arrival', async (expiresIn, ms) => {
    const { auth } = await signedIn();
    const before = Date.now();
    await auth.login({ access_token: 'fine', expires_in: expiresIn } as OAuthTokenResponse);
    const expiresAt = auth.session.expiresAt as number;
    expect(expiresAt - before).toBeGreaterThanOrEqual(ms);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(ms);
  });

  it('null or absent: no expiry', async () => {
    const { auth } = await signedIn();
    await auth.login({ access_token: 'fine', expires_in: null } as unknown as OAuthTokenResponse);
    expect(auth.session.expiresAt).toBeUndefined();
  });
});

describe('token responses with bad token values', () => {
  it.each([
    ['CR/LF in access_token', { access_token: 'evil\r\nX-Injected: 1', refresh_token: 'r' }, 'access_token that is not a valid header value'],
    ['CR/LF in refresh_token', { access_token: 'fine', refresh_token: 'evil\r\nX-Injected' }, 'refresh_token that is not a string of visible ASCII'],
    ['a number as access_token', { access_token: 12345 }, 'no access_token'],
    ['access_token only under __proto__', JSON.parse('{"__proto__": {"access_token": "evil"}}') as object, 'no access_token'],
  ])('%s: refused typed and accurately, the session kept', async (_name, body, message) => {
    const { auth, storage, events, lines } = await signedIn();
    answerJson(JSON.stringify(body));
    const error = (await caught(auth.refresh())) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toContain(message);
    expectTokenFree(error.message, JSON.stringify(error), ...events.map((e) => e.text), ...lines);
    await expectKept(auth, storage);
  });

  it('a TokenSet-shaped answer (camelCase) is not a token response: no idToken or expiry slips in unchecked', async () => {
    const { auth, storage, events, lines } = await signedIn();
    answerJson(JSON.stringify({ accessToken: 'evil', idToken: 'evil.id.token', expiresAt: Date.now() + 1e9 }));
    const error = (await caught(auth.refresh())) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toContain('no access_token');
    expectTokenFree(error.message, JSON.stringify(error), ...events.map((e) => e.text), ...lines);
    await expectKept(auth, storage);
    // Beside a real access_token, the camelCase members are ignored, not taken.
    answerJson(JSON.stringify({ access_token: 'fresh', accessToken: 'evil', idToken: 'evil.id.token' }));
    await auth.refresh();
    expect(await storage.get()).toEqual({ accessToken: 'fresh', refreshToken: OLD.refreshToken });
  });
});

describe('prototype keys', () => {
  it('__proto__ and constructor members pollute nothing and do not reach the token set', async () => {
    const { auth, storage } = await signedIn();
    answerJson(
      '{"access_token":"fresh","expires_in":3600,"__proto__":{"polluted":"yes","refresh_token":"evil"},' +
        '"constructor":{"prototype":{"polluted":"yes"}},"toString":"evil","hasOwnProperty":"evil"}',
    );
    await auth.refresh();
    const stored = (await storage.get()) as TokenSet;
    expect(Object.getPrototypeOf(stored)).toBe(Object.prototype);
    expect(Object.keys(stored).sort()).toEqual(['accessToken', 'expiresAt', 'refreshToken']);
    expect(stored).toMatchObject({ accessToken: 'fresh', refreshToken: OLD.refreshToken });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('login() with a parsed __proto__ member stores only the known keys', async () => {
    const { auth, storage } = await signedIn();
    await auth.login(JSON.parse('{"accessToken":"fresh","__proto__":{"refreshToken":"evil"},"extra":"x"}') as TokenSet);
    const stored = (await storage.get()) as TokenSet;
    expect(Object.keys(stored)).toEqual(['accessToken']);
    expect(({} as Record<string, unknown>).refreshToken).toBeUndefined();
  });
});

describe('bodies', () => {
  it('a 10 MB answer is refused after at most the limit was read, the session kept', async () => {
    const { auth, storage, events } = await signedIn();
    const huge = JSON.stringify({ access_token: 'evil', padding: 'x'.repeat(10 * 1024 * 1024) });
    answerJson(huge);
    const error = (await caught(auth.refresh())) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toMatch(/larger than \d+ bytes/);
    expect(events.map((e) => e.type)).toEqual(['refreshError']);
    await expectKept(auth, storage);
  });

  it('an endless fast answer without Content-Length is cut at the limit, long before the timeout', async () => {
    const { auth, storage } = await signedIn(20_000);
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"evil","padding":"');
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    };
    const started = Date.now();
    const error = (await caught(auth.refresh())) as Error;
    expect(error).toBeInstanceOf(TokenResponseError);
    expect(error.message).toMatch(/larger than \d+ bytes/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect.poll(() => connections.closedEarly).toBe(1);
    await expectKept(auth, storage);
  });

  it('a dripping answer (a byte at a time, never done) ends at the timeout, and the connection is closed', async () => {
    const { auth, storage, events } = await signedIn(500);
    const timers = new Set<ReturnType<typeof setInterval>>();
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":"evil","x":"');
      const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('x')), 50);
      timers.add(timer);
    };
    try {
      const error = (await caught(auth.refresh())) as Error;
      expect(error).toBeInstanceOf(TimeoutError);
      expect(events.map((e) => e.type)).toEqual(['refreshError']);
      // Every attempt (the first and the coordinator's retries of a transient failure) let go of its connection.
      await expect.poll(() => connections.closedEarly, { timeout: 3_000 }).toBe(3);
      await expectKept(auth, storage);
    } finally {
      for (const timer of timers) clearInterval(timer);
    }
  });
});
