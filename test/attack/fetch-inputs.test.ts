/**
 * Attack: `auth.fetch` inputs that `fetch` takes but that are neither a string, a `URL` of this realm nor a `Request`.
 * fetch stringifies any other object (WebIDL `USVString` conversion): a browser's `Location` (`fetch(location)`), a
 * URL from another realm (an iframe, a test environment's), a router library's URL-like. `auth.fetch` took them for a
 * Request, read their missing `url` and failed with an untyped "Cannot read properties of undefined (reading
 * 'startsWith')" where fetch answered. Now such an input is the string it turns into, resolved, checked against
 * `authorizedOrigins` and fetched like any string (behaviour 9), so the token still goes only where it may.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingServer, type RecordingServer } from '../helpers/recording.js';
import { useClients } from '../helpers/example.js';

const TOKEN = 'at-inputs-6b1d';
const createClient = useClients();
let api: RecordingServer;
let other: RecordingServer;

beforeAll(async () => {
  api = await startRecordingServer('127.0.0.1');
  other = await startRecordingServer('127.0.0.2');
});
afterAll(async () => {
  await api.close();
  await other.close();
});

/** An object fetch accepts through its stringifier, as a `Location` or a foreign URL is. */
const urlLike = (href: string) => ({ toString: () => href });

async function signedIn() {
  const auth = createClient({ baseUrl: `${api.url}/v1/` });
  await auth.login({ accessToken: TOKEN });
  return auth;
}

describe('auth.fetch with a URL-like object', () => {
  it('an absolute URL-like on the API gets the token, as fetch would send it', async () => {
    const auth = await signedIn();
    const response = await auth.fetch(urlLike(`${api.url}/v1/me`) as unknown as string);
    expect(response.status).toBe(200);
    expect(api.to('/v1/me')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a URL-like on another origin goes without the token', async () => {
    const auth = await signedIn();
    const response = await auth.fetch(urlLike(`${other.url}/collect`) as unknown as string);
    expect(response.status).toBe(200);
    expect(other.to('/collect')).toHaveLength(1);
    expect(other.to('/collect')[0]?.headers.authorization).toBeUndefined();
  });

  it('a relative URL-like is resolved against baseUrl, as a string is', async () => {
    const auth = await signedIn();
    expect((await auth.fetch(urlLike('orders') as unknown as string)).status).toBe(200);
    expect(api.to('/v1/orders')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('a URL subclass and a Request still work as before', async () => {
    const auth = await signedIn();
    class AppUrl extends URL {}
    expect((await auth.fetch(new AppUrl(`${api.url}/v1/sub`))).status).toBe(200);
    expect((await auth.fetch(new Request(`${api.url}/v1/req`))).status).toBe(200);
    expect(api.to('/v1/sub')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(api.to('/v1/req')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});
