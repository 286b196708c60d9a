// @vitest-environment jsdom
/**
 * authfetch/react in jsdom with @testing-library/react, over real clients: `useSession` follows every change of
 * `auth.session` (sign-in, a refresh starting and ending, logout, the session's end, a stored session read at start,
 * another tab) with one stable object per state, and `useAuthEvent` calls the latest handler from one subscription.
 */
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react';
import { createElement as h, StrictMode, useState, type ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createAuthClient,
  customRefresh,
  memoryStorage,
  SessionExpiredError,
  type AuthClient,
  type AuthClientOptions,
  type AuthEvents,
  type AuthSession,
  type TokenSet,
  type TokenStorage,
} from '../src/index.js';
import { AuthProvider, useAuth, useAuthEvent, useSession } from '../src/react/index.js';

const clients: AuthClient[] = [];
afterEach(() => {
  cleanup();
  for (const auth of clients.splice(0)) auth.dispose();
});

function client(options: AuthClientOptions = {}): AuthClient {
  const auth = createAuthClient({ baseUrl: 'https://api.example.test', crossTab: false, ...options });
  clients.push(auth);
  return auth;
}

const TOKENS: TokenSet = { accessToken: 'at-1', refreshToken: 'rt-1', expiresAt: Date.now() + 3_600_000 };

/** A refresh strategy that answers when the test says so. */
function heldRefresh() {
  let release: (tokens: TokenSet) => void = () => undefined;
  let fail: (error: unknown) => void = () => undefined;
  const strategy = customRefresh(
    () =>
      new Promise<TokenSet>((resolve, reject) => {
        release = resolve;
        fail = reject;
      }),
  );
  return { strategy, release: (tokens: TokenSet) => release(tokens), fail: (error: unknown) => fail(error) };
}

function wrapper(auth: AuthClient) {
  return ({ children }: { children?: ReactNode }) => h(AuthProvider, { client: auth }, children);
}

/** Renders the session's status and records every session object it rendered with. */
function sessionProbe(auth: AuthClient) {
  const seen: AuthSession[] = [];
  function Status() {
    const session = useSession();
    seen.push(session);
    return h('output', { 'data-testid': 'status' }, session.status);
  }
  render(h(AuthProvider, { client: auth }, h(Status)));
  return { seen, status: () => screen.getByTestId('status').textContent };
}

describe('useAuth', () => {
  it('returns the provider’s client', () => {
    const auth = client();
    const { result } = renderHook(() => useAuth(), { wrapper: wrapper(auth) });
    expect(result.current).toBe(auth);
  });

  it('says what is missing without a provider', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined); // React reports the render error too
    expect(() => renderHook(() => useAuth())).toThrow('useAuth() needs an <AuthProvider client={auth}>');
    vi.restoreAllMocks();
  });
});

describe('useSession', () => {
  it('follows sign-in, a refresh (refreshing, then active with the new expiry) and logout', async () => {
    const held = heldRefresh();
    const auth = client({ refresh: held.strategy });
    const probe = sessionProbe(auth);
    await waitFor(() => expect(probe.status()).toBe('signed-out'));

    await act(() => auth.login(TOKENS));
    expect(probe.status()).toBe('active');
    expect(probe.seen.at(-1)).toEqual({ status: 'active', expiresAt: TOKENS.expiresAt });

    let refreshed!: Promise<void>;
    act(() => {
      refreshed = auth.refresh();
    });
    // No event marks the start of a refresh: the client's session signal does.
    await waitFor(() => expect(probe.status()).toBe('refreshing'));
    const later = Date.now() + 7_200_000;
    await act(async () => {
      held.release({ accessToken: 'at-2', refreshToken: 'rt-2', expiresAt: later });
      await refreshed;
    });
    expect(probe.seen.at(-1)).toEqual({ status: 'active', expiresAt: later });

    await act(() => auth.logout());
    expect(probe.status()).toBe('signed-out');
  });

  it('shows the end of the session after a rejected refresh (expired, not stuck at refreshing)', async () => {
    const held = heldRefresh();
    const auth = client({ refresh: held.strategy });
    await auth.login(TOKENS);
    const probe = sessionProbe(auth);
    let refreshed!: Promise<void>;
    act(() => {
      refreshed = auth.refresh().catch(() => undefined);
    });
    await waitFor(() => expect(probe.status()).toBe('refreshing'));
    await act(async () => {
      held.fail(new SessionExpiredError('rejected', { reason: 'refresh-rejected' }));
      await refreshed;
    });
    expect(probe.status()).toBe('expired');
  });

  it('shows a session restored from storage, which no event announces', async () => {
    let resolveRead: (tokens: TokenSet) => void = () => undefined;
    const storage: TokenStorage = {
      name: 'restored',
      shared: false,
      get: () => new Promise((resolve) => (resolveRead = resolve)),
      set: async () => undefined,
      clear: async () => undefined,
    };
    const auth = client({ storage });
    const probe = sessionProbe(auth);
    expect(probe.status()).toBe('signed-out');
    await act(async () => resolveRead(TOKENS));
    await waitFor(() => expect(probe.status()).toBe('active'));
  });

  it('follows another tab: a logout there signs this one out', async () => {
    const storage = { name: `tabs-${Math.random()}` };
    const here = client({ crossTab: true, storage: memoryStorage(storage) });
    const there = client({ crossTab: true, storage: memoryStorage(storage) });
    await here.login(TOKENS);
    const probe = sessionProbe(here);
    expect(probe.status()).toBe('active');
    await act(() => there.logout());
    await waitFor(() => expect(probe.status()).toBe('signed-out'));
  });

  it('hands out one object per state: re-renders for other reasons get the same snapshot', async () => {
    const auth = client();
    await auth.login(TOKENS);
    const seen: AuthSession[] = [];
    let bump: () => void = () => undefined;
    function Parent() {
      const [n, setN] = useState(0);
      bump = () => setN((x) => x + 1);
      return h(Child, { n });
    }
    function Child(_: { n: number }) {
      seen.push(useSession());
      return null;
    }
    render(h(StrictMode, null, h(AuthProvider, { client: auth }, h(Parent))));
    act(() => bump());
    act(() => bump());
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(new Set(seen).size).toBe(1);
    // The client itself hands out a fresh object at every read; the hook does not.
    expect(auth.session).not.toBe(auth.session);
  });

  it('follows a switch to another client, and lets go of the first', async () => {
    const first = client();
    const second = client();
    await second.login(TOKENS);
    let switchTo: (next: AuthClient) => void = () => undefined;
    function Root({ children }: { children?: ReactNode }) {
      const [current, setCurrent] = useState(first);
      switchTo = setCurrent;
      return h(AuthProvider, { client: current }, children);
    }
    const view = renderHook(() => useSession().status, { wrapper: Root });
    expect(view.result.current).toBe('signed-out');
    act(() => switchTo(second));
    expect(view.result.current).toBe('active');
    await act(() => second.logout());
    expect(view.result.current).toBe('signed-out');
    await act(() => first.login(TOKENS)); // no longer the provider's client: nothing to show
    expect(view.result.current).toBe('signed-out');
  });

  it('shares one snapshot between components of the same client', async () => {
    const auth = client();
    await auth.login(TOKENS);
    const a = renderHook(() => useSession(), { wrapper: wrapper(auth) });
    const b = renderHook(() => useSession(), { wrapper: wrapper(auth) });
    expect(a.result.current).toBe(b.result.current);
  });

  it('keeps one snapshot while nested session data (the ID token claims) reads equal, and a new one when it changes', () => {
    const real = client();
    let country = 'NZ';
    // A client whose session builds its `user` afresh at every read, deeply nested (OIDC Core 5.1.1 address).
    const standIn = Object.create(real, {
      session: {
        // Only the claims this test reads (a real ID token has iss, aud, exp and iat too).
        get: (): AuthSession => ({ status: 'active', user: { sub: 'u1', address: { country, lines: ['1 Main St'] } } }) as unknown as AuthSession,
      },
    }) as AuthClient;
    const view = renderHook(() => useSession(), { wrapper: wrapper(standIn) });
    const first = view.result.current;
    view.rerender();
    expect(view.result.current).toBe(first);
    country = 'AU';
    view.rerender();
    expect(view.result.current).not.toBe(first);
    expect(view.result.current).toMatchObject({ user: { address: { country: 'AU' } } });
  });

  it('falls back to the events for a client without the session signal', async () => {
    const real = client();
    // A hand-made stand-in: the same members, without the hidden subscription.
    const standIn: AuthClient = {
      http: real.http,
      fetch: real.fetch,
      on: real.on,
      off: real.off,
      login: real.login,
      logout: real.logout,
      getAccessToken: real.getAccessToken,
      refresh: real.refresh,
      signIn: real.signIn,
      handleRedirect: real.handleRedirect,
      touch: real.touch,
      get session() {
        return real.session;
      },
      dispose: real.dispose,
    };
    const probe = sessionProbe(standIn);
    await act(() => real.login(TOKENS));
    expect(probe.status()).toBe('active');
  });
});

describe('useAuthEvent', () => {
  it('calls the latest handler from a single subscription, and stops at unmount', async () => {
    const auth = client();
    const on = vi.spyOn(auth, 'on');
    const calls: string[] = [];
    const view = renderHook(({ label }) => useAuthEvent('login', (event: AuthEvents['login']) => calls.push(`${label}:${event.source}`)), {
      wrapper: wrapper(auth),
      initialProps: { label: 'first' },
    });
    view.rerender({ label: 'second' });
    view.rerender({ label: 'third' });
    await act(() => auth.login(TOKENS));
    expect(calls).toEqual(['third:local']);
    expect(on.mock.calls.filter(([type]) => type === 'login')).toHaveLength(1);

    view.unmount();
    await auth.login({ ...TOKENS, accessToken: 'at-9' });
    expect(calls).toEqual(['third:local']);
  });

  it('subscribes again when the event type changes', async () => {
    const auth = client();
    const calls: string[] = [];
    const view = renderHook(({ type }: { type: 'login' | 'logout' }) => useAuthEvent(type, () => calls.push(type)), {
      wrapper: wrapper(auth),
      initialProps: { type: 'login' as 'login' | 'logout' },
    });
    view.rerender({ type: 'logout' });
    await act(() => auth.login(TOKENS));
    await act(() => auth.logout());
    expect(calls).toEqual(['logout']);
  });
});

describe('hydration', () => {
  it('hydrates server HTML without a mismatch, then shows the browser’s session', async () => {
    const { renderToString } = await import('react-dom/server');
    const { hydrateRoot } = await import('react-dom/client');
    const auth = client();
    await auth.login(TOKENS);
    function Status() {
      return h('span', null, useSession().status);
    }
    const tree = h(AuthProvider, { client: auth }, h(Status));
    const container = document.createElement('div');
    container.innerHTML = renderToString(tree);
    expect(container.textContent).toBe('signed-out');
    document.body.append(container);
    const recoverable: unknown[] = [];
    const root = await act(async () => hydrateRoot(container, tree, { onRecoverableError: (error) => recoverable.push(error) }));
    await waitFor(() => expect(container.textContent).toBe('active'));
    expect(recoverable).toEqual([]);
    act(() => root.unmount());
    container.remove();
  });
});
