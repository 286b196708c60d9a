/**
 * Requests to the example API and token server (examples/server) made by hand, as its own tests make them: the
 * password and refresh_token grants, `/api/me`, and raw paths that fetch would normalise.
 */
import http from 'node:http';
import { expect } from 'vitest';
import { CLIENT_ID, type OAuthTokenResponse } from '../../examples/server/index.mjs';

/** A form-encoded POST. */
export function form(params: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  };
}

/** The password grant for alice (scripts only; the example app signs in with code + PKCE). */
export function passwordGrant(base: string, extra: Record<string, string> = {}, init: RequestInit = {}) {
  return fetch(`${base}/oauth/token`, {
    ...form({ grant_type: 'password', client_id: CLIENT_ID, username: 'alice', password: 'wonderland', ...extra }),
    ...init,
  });
}

/** The refresh_token grant (RFC 6749 section 6). */
export function refreshGrant(base: string, refreshToken: string, extra: Record<string, string> = {}) {
  return fetch(`${base}/oauth/token`, form({ grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken, ...extra }));
}

/** Sign alice in; the grant must succeed. */
export async function signIn(base: string, extra: Record<string, string> = {}): Promise<OAuthTokenResponse> {
  const res = await passwordGrant(base, extra);
  expect(res.status).toBe(200);
  return (await res.json()) as OAuthTokenResponse;
}

/** `GET /api/me`, with a token under `scheme` or none. */
export function me(base: string, token?: string, scheme = 'Bearer') {
  return fetch(`${base}/api/me`, token === undefined ? {} : { headers: { Authorization: `${scheme} ${token}` } });
}

/** A raw HTTP request that keeps the path exactly as written (fetch would normalise `..`). */
export function rawGet(base: string, rawPath: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path: rawPath, method: 'GET', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}
