/**
 * Attack: `Date` header lies. Behaviour 6 takes the offset for a JWT `exp` from the `Date` header of responses, and
 * both the API's responses and the token endpoint's feed the one offset. When the two servers' clocks disagree (an API
 * whose clock runs two hours ahead of the issuer's, or one that sends a fixed or made-up `Date`), every fresh JWT looks
 * expired by the API's clock: a refresh is due before the next request, its answer resets the offset to the issuer's
 * clock, the next API answer (read once a second) moves it back, and so on: about one refresh per second of traffic,
 * each spending a rotated refresh token, for as long as the session lasts.
 *
 * Fixed: a JWT `exp` is judged by the clock of the server that issued it: the offset learnt from the token
 * endpoint's `Date` wins, and the API's `Date` counts only until one is known (tokens from `login()`).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oauth2Refresh } from '../../src/index.js';
import { useClients } from '../helpers/example.js';

const createClient = useClients();
const KEY = new TextEncoder().encode('attack-clock-lies-key-32-bytes!!');
const API_AHEAD_MS = 2 * 3_600_000;
let server: Server;
let origin: string;
let grants = 0;

/** A JWT access token of one hour, issued now by the (honest) issuer's clock. */
const jwt = (n: number) => new SignJWT({ sub: 'user-1', n }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(KEY);

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/token') {
      grants += 1;
      void jwt(grants).then((accessToken) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify({ access_token: accessToken, refresh_token: `rt-${grants}`, token_type: 'Bearer' }));
      });
      return;
    }
    // The API's clock is two hours ahead.
    res.writeHead(200, { date: new Date(Date.now() + API_AHEAD_MS).toUTCString() });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('an API whose Date disagrees with the token issuer', () => {
  it('does not cause a refresh every second of traffic', async () => {
    const auth = createClient({ baseUrl: origin, refresh: oauth2Refresh({ tokenEndpoint: `${origin}/token`, clientId: 'spa' }) });
    await auth.login({ accessToken: await jwt(0), refreshToken: 'rt-0' });
    grants = 0;
    // Four seconds of requests, a few a second: the hour-long token never needed renewing.
    for (let i = 0; i < 12; i += 1) {
      expect((await auth.fetch('/data')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 350));
    }
    expect(grants).toBeLessThanOrEqual(1);
  });
});
