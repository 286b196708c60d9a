// @vitest-environment happy-dom
/**
 * happy-dom 21 (a vitest environment apps use) ignores the signal of `fetch(request, { signal })` when the input is a
 * Request, which is how ky calls fetch: `auth.http` attempts never timed out there. The per-attempt timeout must not
 * depend on the platform honouring that signal. A recording server on 127.0.0.1 answers late (CORS allowed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeoutError, createAuthClient, type AuthClient } from '../src/index.js';
import { startRecordingServer, type RecordingServer } from './helpers/recording.js';

describe('under happy-dom', () => {
  let api: RecordingServer;
  let auth: AuthClient;

  beforeAll(async () => {
    api = await startRecordingServer();
    auth = createAuthClient({ baseUrl: api.url, timeout: 300, retry: 0, crossTab: false });
    await auth.login({ accessToken: 'happy-dom-token' });
  });
  afterAll(async () => {
    auth.dispose();
    // happy-dom's own fetches of the timed-out attempts are still out (it ignored their signal): let them finish, so
    // closing the server does not make happy-dom log their hang-up.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await api.close();
  });

  it('runs on happy-dom fetch, which ignores an init signal for a Request input (the premise)', async () => {
    expect(navigator.userAgent).toContain('HappyDOM');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const outcome = await fetch(new Request(`${api.url}/premise?delay=600`), { signal: controller.signal }).then(
      () => 'answered',
      () => 'aborted',
    );
    // If happy-dom starts honouring it, this premise (and the workaround) can go.
    expect({ outcome, late: Date.now() - started >= 500 }).toEqual({ outcome: 'answered', late: true });
  });

  it.each([
    ['auth.http (ky passes a Request)', () => auth.http.get('slow?delay=1000').json()],
    ['auth.fetch with a Request', () => auth.fetch(new Request(`${api.url}/slow?delay=1000`))],
    ['auth.fetch with a string', () => auth.fetch('slow?delay=1000')],
  ])('%s: the attempt ends with TimeoutError at its timeout', async (_name, send) => {
    const started = Date.now();
    await expect(send()).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('a prompt answer is unaffected', async () => {
    await expect(auth.http.get('quick').json()).resolves.toMatchObject({ path: '/quick' });
    expect(api.to('/quick')[0]?.headers.authorization).toBe('Bearer happy-dom-token');
  });
});
