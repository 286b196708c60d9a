/**
 * The route server of the error-mapping tests: one path per kind of answer a mapper must handle (statuses, problem
 * details, huge and stalled bodies, Retry-After forms, a slow answer), on 127.0.0.1 port 0.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

// A token-like secret sent both in the query and in the Authorization header: it must never reach a message,
// a userMessage or JSON.stringify(error).
export const SECRET = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.SECRET-sig-9f8e7d';
export const FIXED_DATE = new Date(Date.UTC(2001, 0, 1, 12, 0, 0));
export const ONE_MB = 1024 * 1024;

const pendingTimers = new Set<ReturnType<typeof setTimeout>>();

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes: Record<string, Handler> = {
  '/bad-request': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'invalid_field', field: 'email' }));
  },
  '/unauthorized': (_req, res) => {
    res.writeHead(401, { 'content-type': 'text/plain' });
    res.end('Unauthorized');
  },
  '/unauthorized-bare': (_req, res) => {
    res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"' });
    res.end();
  },
  '/expired': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="The access token expired"',
    });
    res.end();
  },
  '/invalid': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate': 'Bearer error="invalid_token", error_description="Signature verification failed"',
    });
    res.end();
  },
  '/step-up': (_req, res) => {
    res.writeHead(401, {
      'www-authenticate':
        'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="phr phrh", max_age=300',
    });
    res.end();
  },
  '/forbidden': (_req, res) => {
    res.writeHead(403, {
      'www-authenticate': 'Bearer error="insufficient_scope", scope="read:admin write:admin"',
      'content-type': 'application/json',
    });
    res.end(JSON.stringify({ message: 'nope' }));
  },
  '/forbidden-plain': (_req, res) => {
    res.writeHead(403);
    res.end();
  },
  '/missing': (_req, res) => {
    res.writeHead(404, { 'content-type': 'application/problem+json; charset=utf-8' });
    res.end(
      JSON.stringify({
        type: 'https://api.example/problems/not-found',
        title: 'Not Found',
        status: 404,
        detail: 'Order 42 does not exist',
      }),
    );
  },
  '/request-timeout': (_req, res) => {
    res.writeHead(408, { 'content-type': 'text/plain' });
    res.end('Request Timeout');
  },
  '/conflict': (_req, res) => {
    res.writeHead(409, { 'content-type': 'text/plain' });
    res.end('Conflict');
  },
  '/rate-seconds': (_req, res) => {
    res.writeHead(429, { 'retry-after': '120' });
    res.end();
  },
  '/rate-date': (_req, res) => {
    // The server's clock is far from ours: the wait must be measured against its Date header.
    res.sendDate = false;
    res.writeHead(429, {
      date: FIXED_DATE.toUTCString(),
      'retry-after': new Date(FIXED_DATE.getTime() + 30_000).toUTCString(),
    });
    res.end();
  },
  '/rate-date-no-date': (_req, res) => {
    res.sendDate = false;
    res.writeHead(429, { 'retry-after': new Date(Date.now() + 60_000).toUTCString() });
    res.end();
  },
  '/rate-date-past': (_req, res) => {
    res.writeHead(429, { 'retry-after': new Date(Date.now() - 60_000).toUTCString() });
    res.end();
  },
  '/rate-garbage': (_req, res) => {
    res.writeHead(429, { 'retry-after': 'soon' });
    res.end();
  },
  '/server': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<h1>Internal Server Error</h1>');
  },
  '/unavailable': (_req, res) => {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('Service Unavailable');
  },
  '/huge': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    // Several writes so the body arrives in many chunks.
    const piece = 'x'.repeat(64 * 1024);
    for (let i = 0; i < ONE_MB / piece.length; i++) res.write(piece);
    res.end();
  },
  '/huge-multibyte': (_req, res) => {
    // '€' is 3 bytes: 64 KiB is not a multiple of 3, so the limit cuts a character in half.
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('€'.repeat(100_000));
  },
  '/bad-json': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end('{"error": "unterminated');
  },
  '/empty': (_req, res) => {
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end();
  },
  '/invalid-utf8': (_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(Buffer.from([0x61, 0xff, 0xfe, 0xfd, 0x62]));
  },
  '/aborted-body': (req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain', 'content-length': '100000' });
    res.write('partial');
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      req.socket.destroy();
    }, 30);
    pendingTimers.add(timer);
  },
  '/stalled-body': (_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.write('the rest never comes');
  },
  '/slow': (_req, res) => {
    const timer = setTimeout(() => {
      pendingTimers.delete(timer);
      res.writeHead(200);
      res.end('late');
    }, 2_000);
    pendingTimers.add(timer);
  },
};

/** Start the route server for the test file (closed after it); `base` is its origin, from `beforeAll` on. */
export function useErrorRoutes(): { readonly base: string } {
  let server: Server | undefined;
  let base: string | undefined;
  beforeAll(async () => {
    const started = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
      const handler = routes[path];
      if (handler) handler(req, res);
      else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => started.listen(0, '127.0.0.1', resolve));
    server = started;
    base = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const timer of pendingTimers) clearTimeout(timer);
    if (!server) return;
    server.closeAllConnections();
    const closing = server;
    await new Promise<void>((resolve) => closing.close(() => resolve()));
  });
  return {
    get base(): string {
      if (base === undefined) throw new Error('the route server is not started yet (use it in hooks and tests)');
      return base;
    },
  };
}
