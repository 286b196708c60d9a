/**
 * Attack: a token endpoint (or session endpoint) that redirects to another origin: an open redirect on the
 * authorization server, a misconfigured proxy, a compromised route. The refresh call followed redirects, so:
 * - a 307/308 re-sent the POST body to the other origin: the refresh token, and with `client_secret_post` the client
 *   secret (fetch drops only `Authorization` across origins);
 * - whatever that origin answered was taken as the new token set: its access token went to the API, its refresh token
 *   was stored (token injection: the user is now working in the attacker's session).
 * Behaviour 5 (tokens only to authorized origins; the refresh token only to the token endpoint). oauth4webapi, which
 * the project uses for sign-in, never follows a token endpoint's redirect (`redirect: 'manual'`); now neither does
 * `oauth2Refresh`: a 3xx is an unusable answer (TokenResponseError, reported, no session end). `sessionRefresh`
 * keeps following redirects (a cookie session endpoint may move within its origin), but an answer that came from
 * another origin is refused.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oauth2Refresh, sessionRefresh, type AuthFetchError } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const REFRESH_TOKEN = 'rt-redirect-secret-1f3a';
const CLIENT_SECRET = 'cs-redirect-secret-9b7c';
const createClient = useClients();

interface Origin {
  url: string;
  seen: Array<{ method: string; path: string; body: string }>;
  server: Server;
}

async function start(host: string, answer: (req: IncomingMessage, res: ServerResponse, origin: Origin) => void): Promise<Origin> {
  const origin = { seen: [] } as unknown as Origin;
  origin.server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      origin.seen.push({ method: req.method ?? '', path: req.url ?? '', body });
      answer(req, res, origin);
    });
  });
  await new Promise<void>((resolve) => origin.server.listen(0, host, resolve));
  origin.url = `http://${host}:${(origin.server.address() as AddressInfo).port}`;
  return origin;
}

let evil: Origin;
let auth: Origin;
let api: Origin;

beforeAll(async () => {
  // The other origin answers every request with a token set of its own.
  evil = await start('127.0.0.2', (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
    res.end(JSON.stringify({ access_token: 'at-evil', refresh_token: 'rt-evil', expires_in: 3600 }));
  });
  // The authorization server redirects with the status the path names: /token/307 -> 307 to the other origin.
  auth = await start('127.0.0.1', (req, res) => {
    const status = Number((req.url ?? '').split('/')[2] ?? 307);
    res.writeHead(status, { location: `${evil.url}/steal` });
    res.end();
  });
  api = await start('127.0.0.1', (req, res) => {
    res.writeHead(req.headers.authorization === 'Bearer at-good' ? 200 : 401);
    res.end();
  });
});
afterAll(async () => {
  for (const origin of [evil, auth, api]) origin.server.closeAllConnections();
  await Promise.all([evil, auth, api].map((origin) => new Promise<void>((resolve) => origin.server.close(() => resolve()))));
});
beforeEach(() => {
  for (const origin of [evil, auth, api]) origin.seen.splice(0);
});

describe('oauth2Refresh never follows a token endpoint redirect', () => {
  it.each([307, 308, 302, 303, 301])('%s: nothing reaches the other origin, its tokens are never used, the session stays', async (status) => {
    const client = createClient({
      baseUrl: api.url,
      retry: 0,
      refresh: oauth2Refresh({ tokenEndpoint: `${auth.url}/token/${status}`, clientId: 'spa', clientSecret: CLIENT_SECRET, clientAuth: 'client_secret_post' }),
    });
    const refreshErrors: AuthFetchError[] = [];
    client.on('refreshError', ({ error }) => refreshErrors.push(error));
    await client.login({ accessToken: 'at-stale', refreshToken: REFRESH_TOKEN });
    const response = await client.fetch('/data').catch((error: unknown) => error);
    expect(evil.seen).toEqual([]);
    expect(api.seen.map((request) => request.path)).toEqual(['/data']);
    expect(await client.getAccessToken()).toBe('at-stale');
    expect(client.session.status).toBe('active');
    expect(refreshErrors.map((error) => error.code)).toEqual(['ERR_TOKEN_RESPONSE']);
    expect(JSON.stringify(response)).not.toContain(REFRESH_TOKEN);
  });
});

describe('sessionRefresh refuses an answer from another origin', () => {
  it.each([307, 302])('%s: the other origin tokens are never used', async (status) => {
    const client = createClient({ baseUrl: api.url, retry: 0, refresh: sessionRefresh({ url: `${auth.url}/session/${status}` }) });
    const refreshErrors: AuthFetchError[] = [];
    client.on('refreshError', ({ error }) => refreshErrors.push(error));
    await client.login({ accessToken: 'at-stale' });
    await client.fetch('/data').catch(() => undefined);
    expect(api.seen.map((request) => request.path)).toEqual(['/data']);
    expect(await client.getAccessToken()).toBe('at-stale');
    expect(refreshErrors.map((error) => error.code)).toEqual(['ERR_TOKEN_RESPONSE']);
  });
});
