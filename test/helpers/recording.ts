/**
 * A recording server: an origin of its own (any 127.0.0.x host, port 0) that answers what the query asks for and
 * remembers every request it received, headers and body. Several of them are several origins, for URL, origin and
 * redirect tests in Node and in Chromium (it answers CORS preflights and exposes its headers to pages).
 *
 * Query parameters of any path:
 * - `status=NNN`: answer with that status (default 200);
 * - `to=URL`: the `Location` (with a 3xx `status`; default 302);
 * - `www=VALUE`: a `WWW-Authenticate` header; `nonce=VALUE`: a `DPoP-Nonce` header; `date=VALUE`: a `Date` header;
 * - `delay=MS`: answer only after that long (or when the client goes away).
 * The body is a JSON echo of what was received (method, path, path and query as `url`, body, content type), never
 * the request's other headers.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** One request as the server received it. */
export interface Recorded {
  method: string;
  /** Path and query, as received. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A running recording server. */
export interface RecordingServer {
  /** `http://127.0.0.x:PORT`, no trailing slash. */
  url: string;
  host: string;
  port: number;
  /** Every request but CORS preflights, in arrival order. */
  requests: Recorded[];
  /** Requests whose path (without query) is `path`. */
  to(path: string): Recorded[];
  /** Forget the requests received so far. */
  reset(): void;
  close(): Promise<void>;
}

const EXPOSED = 'dpop-nonce, www-authenticate, date, location';

/** Start one on `host` (127.0.0.1 by default; 127.0.0.2 and 127.0.0.3 are other origins on the same machine). */
export async function startRecordingServer(host = '127.0.0.1'): Promise<RecordingServer> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': EXPOSED,
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
        'access-control-allow-headers': 'authorization, dpop, content-type, x-app',
        'access-control-max-age': '0',
      });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry: Recorded = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(entry);
      const query = new URL(entry.url, 'http://x').searchParams;
      const to = query.get('to');
      const status = Number(query.get('status') ?? (to ? '302' : '200'));
      const headers: Record<string, string> = { ...cors, 'content-type': 'application/json' };
      if (to) headers.location = to;
      for (const [param, header] of [['www', 'www-authenticate'], ['nonce', 'dpop-nonce'], ['date', 'date']] as const) {
        const value = query.get(param);
        if (value !== null) headers[header] = value;
      }
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(status, headers);
        res.end(
          JSON.stringify({
            method: entry.method,
            path: new URL(entry.url, 'http://x').pathname,
            url: entry.url,
            body: entry.body,
            contentType: req.headers['content-type'] ?? null,
          }),
        );
      };
      const delay = Number(query.get('delay') ?? 0);
      if (delay <= 0) return answer();
      const timer = setTimeout(answer, delay);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    host,
    port,
    requests,
    to: (path) => requests.filter((r) => new URL(r.url, 'http://x').pathname === path),
    reset: () => void requests.splice(0),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A URL on `server` that redirects (`status`, default 302) to `target`. */
export function redirectVia(server: RecordingServer, path: string, target: string, status = 302): string {
  return `${server.url}${path}?status=${status}&to=${encodeURIComponent(target)}`;
}

/**
 * A recording server for the whole test file: started in `beforeAll`, closed in `afterAll`, its requests forgotten
 * before each test. The returned object stands for the server from `beforeAll` on.
 */
export function useRecordingServer(host = '127.0.0.1'): RecordingServer {
  let running: RecordingServer | undefined;
  beforeAll(async () => {
    running = await startRecordingServer(host);
  });
  afterAll(() => running?.close());
  beforeEach(() => running?.reset());
  return new Proxy({} as RecordingServer, {
    get(_target, key) {
      if (!running) throw new Error('the recording server is not started yet (use it in hooks and tests, not at load time)');
      return Reflect.get(running, key, running) as unknown;
    },
  });
}
