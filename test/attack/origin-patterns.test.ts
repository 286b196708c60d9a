/**
 * Attack: `authorizedOrigins` RegExp pitfalls (behaviour 5: tokens go only to authorized origins). A RegExp rule was
 * tested with `test()`, so it matched anywhere in the origin: `/^http:\/\/127\.0\.0\.1/` (no `$`) also authorized
 * `http://127.0.0.10:PORT`, `/api\.example\.com/` authorized `https://api.example.com.evil.net`, and an alternation
 * anchored on one side only (`/^https:\/\/a\.example$|^https:\/\/b\.example/`) authorized `https://b.example.evil`.
 * Now a rule whose source is not anchored (`^...$`) is refused at creation, and every rule must match the whole
 * origin, each alternative too, as an HTML `pattern` attribute does.
 *
 * The first case uses two real servers on 127.0.0.1 and 127.0.0.10; the host-name cases cannot resolve here, so
 * they go through the client's `fetch` option, which records what it was asked to send and answers 200.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecordingServer, type RecordingServer } from '../helpers/recording.js';
import { useClients } from '../helpers/example.js';

const TOKEN = 'at-origin-7d3b9f1e';
const createClient = useClients();
let api: RecordingServer;
let lookalike: RecordingServer;

beforeAll(async () => {
  api = await startRecordingServer('127.0.0.1');
  lookalike = await startRecordingServer('127.0.0.10');
});
afterAll(async () => {
  await api.close();
  await lookalike.close();
});

/** A client whose `fetch` records the Authorization of every request instead of sending it. */
async function recordingClient(authorizedOrigins: RegExp[]) {
  const sent = new Map<string, string | null>();
  const auth = createClient({
    authorizedOrigins,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      sent.set(new URL(request.url).origin, request.headers.get('authorization'));
      return new Response('{}', { status: 200 });
    },
  });
  await auth.login({ accessToken: TOKEN });
  return { auth, sent };
}

describe('a RegExp rule must match the whole origin', () => {
  it('an alternative anchored only at its start does not authorize a longer host (real servers on 127.0.0.1 and 127.0.0.10)', async () => {
    // Anchored at both ends of the source, so accepted; the first alternative has no `$` of its own.
    const auth = createClient({ authorizedOrigins: [/^http:\/\/127\.0\.0\.1(:\d+)?|^http:\/\/localhost$/] });
    await auth.login({ accessToken: TOKEN });
    await auth.fetch(`${api.url}/ok`);
    await auth.fetch(`${lookalike.url}/steal`);
    expect(api.to('/ok')[0]?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(lookalike.to('/steal')).toHaveLength(1);
    expect(lookalike.to('/steal')[0]?.headers.authorization).toBeUndefined();
  });

  it.each([/^http:\/\/127\.0\.0\.1/, /api\.example\.com/, /api\.example\.com$/, /^https:\/\/a\.example\$/, /^https:\/\/a\.example$|^https:\/\/b\.example/])(
    'an unanchored rule (%s) is refused when the client is created, naming the option',
    (rule) => {
      expect(() => createClient({ authorizedOrigins: [rule] })).toThrow(/authorizedOrigins.*anchored/);
    },
  );

  it.each([
    [/^https:\/\/a\.example|b\.example$/ as RegExp, 'https://a.example.evil.net'],
    [/^https:\/\/[a-z]+\.example\.com(:\d+)?|^http:\/\/x$/ as RegExp, 'https://api.example.com.evil.net'],
    [/^https:\/\/(?:a|b)\.example\.com$/ as RegExp, 'https://c.example.com'],
  ])('%s does not authorize %s', async (rule, target) => {
    const { auth, sent } = await recordingClient([rule]);
    await auth.fetch(`${target}/x`);
    expect(sent.get(new URL(target).origin)).toBeNull();
  });

  it.each([
    [/^https:\/\/a\.example$|^https:\/\/b\.example$/ as RegExp, 'https://b.example'],
    [/^https:\/\/[a-z]+\.example\.com(:\d+)?|^http:\/\/x$/ as RegExp, 'https://api.example.com:8443'],
    [/^https:\/\/[a-z]+\.example\.com$/g as RegExp, 'https://a.example.com'],
    [/^HTTPS:\/\/A\.EXAMPLE\.COM$/i as RegExp, 'https://a.example.com'],
  ])('%s still authorizes %s', async (rule, target) => {
    const { auth, sent } = await recordingClient([rule]);
    await auth.fetch(`${target}/x`);
    await auth.fetch(`${target}/y`);
    expect(sent.get(target)).toBe(`Bearer ${TOKEN}`);
  });
});
