/**
 * Server text never reaches a message (issue 9 item 7; DESIGN "Errors"): a token endpoint that echoes the request
 * (refresh token, client secret, Authorization header) into `error_description`, `error`, the status text, a
 * header or the body must not get the refresh token into any error message, `toJSON()`, event or log line; CR/LF
 * from the server never forge a line; a URL with `user:password@` never reaches a message.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Refresh, type AuthEvents, type AuthEventType } from '../src/index.js';
import { useClients } from './helpers/example.js';

const createClient = useClients();
const REFRESH_TOKEN = 'rt-ECHO-2f9c1d7e5b3a4c6d8e0f1a2b';
const CLIENT_SECRET = 'cs-ECHO-9a8b7c6d5e4f3a2b1c0d';
const BASIC = Buffer.from(`spa:${CLIENT_SECRET}`).toString('base64');

type Mode = (request: { body: string; authorization: string }) => {
  status: number;
  statusText?: string;
  headers?: Record<string, string>;
  body: string;
};

// Each mode echoes what the request carried somewhere a careless client would copy it from.
const MODES: Record<string, Mode> = {
  'invalid_grant, description echoing the form with CR/LF': ({ body }) => ({
    status: 400,
    body: JSON.stringify({ error: 'invalid_grant', error_description: `bad grant\r\nX-Injected: yes\r\n${body}` }),
  }),
  'the refresh token as the error code': ({ body }) => ({
    status: 400,
    body: JSON.stringify({ error: new URLSearchParams(body).get('refresh_token') }),
  }),
  'invalid_client, description echoing the Authorization header': ({ authorization }) => ({
    status: 401,
    body: JSON.stringify({ error: 'invalid_client', error_description: authorization }),
  }),
  '500 echoing the request in the status text, a header and the body': ({ body, authorization }) => ({
    status: 500,
    statusText: `Echo ${new URLSearchParams(body).get('refresh_token')}`,
    headers: { 'x-echo': body, 'retry-after': '0' },
    body: `${authorization}\n${body}`,
  }),
  '429 with problem details echoing the form': ({ body }) => ({
    status: 429,
    headers: { 'content-type': 'application/problem+json', 'retry-after': '0' },
    body: JSON.stringify({ title: 'Too many', detail: body }),
  }),
  '200 that is not JSON, echoing the form': ({ body }) => ({ status: 200, body: `<html>${body}</html>` }),
  '200 JSON without access_token, echoing the form': ({ body }) => ({ status: 200, body: JSON.stringify({ echo: body }) }),
};

let server: Server;
let url: string;
let mode: Mode;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answer = mode({ body: Buffer.concat(chunks).toString('utf8'), authorization: req.headers.authorization ?? '' });
      res.writeHead(answer.status, answer.statusText ?? '', { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

const EVENT_TYPES: AuthEventType[] = ['login', 'refresh', 'refreshError', 'sessionWarning', 'sessionExpired', 'loginRequired', 'logout', 'unauthorized', 'forbidden', 'stepUp', 'storageFallback'];

/** Everything a person or a log could see of a value: its JSON and Node's deep inspection (messages, fields, causes). */
function visible(value: unknown): string {
  let json = '';
  try {
    json = JSON.stringify(value) ?? '';
  } catch {
    json = '';
  }
  return `${json}\n${inspect(value, { depth: 6 })}`;
}

describe.each(Object.keys(MODES))('a token endpoint that answers: %s', (name) => {
  it('gets the refresh token and client secret into no message, toJSON, event or log line, and no CR/LF into a message', async () => {
    mode = MODES[name] as Mode;
    const lines: string[] = [];
    const log = (...parts: unknown[]) => lines.push(parts.map((part) => visible(part)).join(' '));
    const auth = createClient({
      logger: { debug: log, warn: log, error: log },
      retry: { limit: 2, backoffLimit: 5 },
      refresh: oauth2Refresh({ tokenEndpoint: url, clientId: 'spa', clientSecret: CLIENT_SECRET }),
    });
    const events: unknown[] = [];
    for (const type of EVENT_TYPES) auth.on(type, (payload: AuthEvents[typeof type]) => events.push(payload));
    await auth.login({ access_token: 'at-1', refresh_token: REFRESH_TOKEN, expires_in: 300 });

    let error: unknown;
    try {
      await auth.refresh();
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).not.toMatch(/[\r\n]/);
    expect(message).not.toContain('Injected');
    const seen = [message, visible((error as { toJSON?: () => unknown }).toJSON?.()), visible(error), ...events.map(visible), ...lines];
    for (const text of seen) {
      expect(text).not.toContain(REFRESH_TOKEN);
      expect(text).not.toContain(CLIENT_SECRET);
      expect(text).not.toContain(BASIC);
    }
  });
});

describe('a URL with user:password@', () => {
  it('never reaches a message: the refresh fails as a NetworkError whose message shows the URL without them', async () => {
    const withCredentials = url.replace('http://', 'http://admin:hunter2@');
    const auth = createClient({ retry: { limit: 0, backoffLimit: 5 }, refresh: oauth2Refresh({ tokenEndpoint: withCredentials, clientId: 'spa' }) });
    await auth.login({ access_token: 'at-1', refresh_token: REFRESH_TOKEN, expires_in: 300 });
    const error = await auth.refresh().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'ERR_NETWORK', message: `Network request failed: POST ${url}` });
    expect(JSON.stringify(error)).not.toContain('hunter2');
  });
});
