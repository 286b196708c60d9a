/**
 * A scriptable token endpoint on 127.0.0.1 port 0: each request is recorded (method, headers, parsed form) and
 * answered by the test's `answer` function, so a test can play any server: a Basic-only one, a hostile one that
 * echoes the request, one that refuses the client.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the endpoint received. */
export interface TokenRequest {
  method: string;
  /** The path and query, e.g. `/token` (the server answers every path). */
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body. */
  body: string;
  /** The body parsed as a form. */
  form: Record<string, string>;
}

/** What a test answers: status, headers, and a body (objects are sent as JSON). */
export interface TokenAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface TokenEndpoint {
  url: string;
  requests: TokenRequest[];
  close(): Promise<void>;
}

/** Start the endpoint; `answer` is called for every request. Close it in teardown. */
export async function startTokenEndpoint(answer: (request: TokenRequest) => TokenAnswer): Promise<TokenEndpoint> {
  const requests: TokenRequest[] = [];
  const server = createServer((req, res: ServerResponse) => {
    // Any origin may call it (tests under happy-dom or in a page): preflights answered, not recorded.
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'POST, GET',
        'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
      });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const request = { method: req.method ?? '', path: req.url ?? '/', headers: req.headers, body, form: Object.fromEntries(new URLSearchParams(body)) };
      requests.push(request);
      const reply = answer(request);
      const text = typeof reply.body === 'string' || reply.body === undefined ? (reply.body ?? '') : JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': typeof reply.body === 'string' ? 'text/plain' : 'application/json',
        'cache-control': 'no-store',
        'access-control-allow-origin': '*',
        ...reply.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A token response for a successful refresh. */
export function tokens(accessToken: string, refreshToken?: string): TokenAnswer {
  return {
    status: 200,
    body: { access_token: accessToken, token_type: 'Bearer', expires_in: 300, ...(refreshToken ? { refresh_token: refreshToken } : {}) },
  };
}
