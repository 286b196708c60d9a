// @vitest-environment jsdom
/**
 * authfetch/testing in vitest's jsdom environment, where app component tests run: msw's interception, the client's
 * browser paths (a `document`, the page origin) and the kit work together for each case the UI must handle.
 */
import { describe, expect, it } from 'vitest';
import { ForbiddenError, SessionExpiredError, UnauthorizedError } from '../src/index.js';
import { API, useTestAuth } from './helpers/test-auth.js';
import { caught } from './helpers/caught.js';

const { kit, client } = useTestAuth();

describe('the testing kit in jsdom', () => {
  it('runs in a DOM: the client takes it for a browser', () => {
    expect(typeof document).toBe('object');
    expect(location.origin).not.toBe(new URL(API).origin);
  });

  it('signs in, refreshes silently after expireAccessTokens(), and replays', async () => {
    // crossTab as a browser app has it (BroadcastChannel exists in jsdom's Node).
    const auth = client({ crossTab: true });
    await auth.login(kit.signIn({ subject: 'grace' }));
    kit.expireAccessTokens();
    expect(await auth.http.get('me').json()).toMatchObject({ subject: 'grace' });
    expect(kit.counts).toEqual({ refresh: 1, api: 2 });
  });

  it('a revoked session ends: SessionExpiredError and sessionExpired', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    const reasons: string[] = [];
    auth.on('sessionExpired', (event) => reasons.push(event.reason));
    kit.revokeSession();
    await expect(auth.http.get('me')).rejects.toBeInstanceOf(SessionExpiredError);
    expect(reasons).toEqual(['refresh-rejected']);
  });

  it('a flaky refresh is retried; one that keeps failing keeps the session', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    kit.expireAccessTokens();
    kit.failRefresh('network', 3);
    const error = await caught(auth.http.get('me'));
    expect(error).toMatchObject({ code: 'ERR_NETWORK', action: 'check-connection' });
    expect(auth.session.status).toBe('active');
    expect(await auth.http.get('me').json()).toMatchObject({ ok: true });
  });

  it('403 and step-up reach the app as typed errors', async () => {
    const auth = client();
    await auth.login(kit.signIn());
    kit.forbid('/reports', 'reports:read');
    kit.requireStepUp('/transfer', ['mfa', 'hwk']);
    await expect(auth.http.get('reports/2026')).rejects.toBeInstanceOf(ForbiddenError);
    const stepUp = await caught(auth.http.get('transfer'));
    expect(stepUp).toBeInstanceOf(UnauthorizedError);
    expect((stepUp as UnauthorizedError).reason).toBe('step-up-required');
  });
});
