/**
 * Compile-only checks of authfetch/react and authfetch/testing's public types: handlers typed by the event map,
 * the session's type, and the kit's token response fitting `login()`.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { AuthClient, AuthSession, ForbiddenError, SessionEndReason } from '../../src/index.js';
import { AuthProvider, useAuth, useAuthEvent, useSession, type AuthProviderProps } from '../../src/react/index.js';
import { createTestAuth, type TestAuth } from '../../src/testing/index.js';

describe('authfetch/react types', () => {
  it('types each handler by its event', () => {
    useAuthEvent('forbidden', (error) => expectTypeOf(error).toEqualTypeOf<ForbiddenError>());
    useAuthEvent('sessionExpired', (event) => expectTypeOf(event.reason).toEqualTypeOf<SessionEndReason>());
    // @ts-expect-error not an event of the map
    useAuthEvent('signedIn', () => undefined);
    // @ts-expect-error a login payload has no `remainingMs`
    useAuthEvent('login', (event: { remainingMs: number }) => event);
  });

  it('hands out the client and its session', () => {
    expectTypeOf(useAuth()).toEqualTypeOf<AuthClient>();
    expectTypeOf(useSession()).toEqualTypeOf<AuthSession>();
    expectTypeOf<AuthProviderProps['client']>().toEqualTypeOf<AuthClient>();
    expectTypeOf(AuthProvider).parameter(0).toEqualTypeOf<AuthProviderProps>();
  });
});

describe('authfetch/testing types', () => {
  it('signs in with what login() takes', () => {
    const kit: TestAuth = createTestAuth({ apiOrigin: 'https://api.example.test' });
    expectTypeOf(kit.signIn()).toMatchTypeOf<Parameters<AuthClient['login']>[0]>();
    expectTypeOf(kit.failRefresh).parameter(0).toEqualTypeOf<number | 'network'>();
    expectTypeOf(kit.counts).toEqualTypeOf<{ readonly refresh: number; readonly api: number }>();
  });
});
