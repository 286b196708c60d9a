import { afterEach, expect, it, vi } from 'vitest';
import { createAuthClient } from '../../src/index.js';
afterEach(() => vi.useRealTimers());
it('idle ends the session, warns first, touch postpones', async () => {
  vi.useFakeTimers();
  const auth = createAuthClient({ idleTimeout: 10_000, idleWarning: 3_000, fetch: async () => new Response('') });
  const events: string[] = [];
  auth.on('sessionWarning', (p) => events.push(`warn ${p.remainingMs}`));
  auth.on('sessionExpired', (p) => events.push(`expired ${p.reason}`));
  await auth.login({ accessToken: 'a' });
  await vi.advanceTimersByTimeAsync(5_000);
  auth.touch();
  await vi.advanceTimersByTimeAsync(8_000);
  expect(events).toEqual(['warn 3000']);
  await vi.advanceTimersByTimeAsync(2_001);
  expect(events).toEqual(['warn 3000', 'expired idle']);
  expect(auth.session.status).toBe('expired');
  auth.dispose();
});
