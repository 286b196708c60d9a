/**
 * authfetch/react on the server (vitest's node environment, no DOM): `renderToString` renders with the server
 * snapshot (signed out: a server never sees the browser's tokens), subscribes to nothing, and leaves no listener on
 * the client.
 */
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAuthClient, type AuthClient } from '../src/index.js';
import { AuthProvider, useAuth, useAuthEvent, useSession } from '../src/react/index.js';

const clients: AuthClient[] = [];
afterEach(() => {
  for (const auth of clients.splice(0)) auth.dispose();
});

function Page() {
  const session = useSession();
  const auth = useAuth();
  useAuthEvent('loginRequired', () => {
    throw new Error('no event reaches a server render');
  });
  return h('main', null, h('p', null, `status: ${session.status}`), h('p', null, typeof auth.fetch));
}

describe('server rendering', () => {
  it('renders the signed-out state, even for a client that is signed in, and subscribes to nothing', async () => {
    expect(typeof document).toBe('undefined');
    const auth = createAuthClient({ baseUrl: 'https://api.example.test' });
    clients.push(auth);
    await auth.login({ accessToken: 'at-1', expiresAt: Date.now() + 60_000 });
    const on = vi.spyOn(auth, 'on');
    const html = renderToString(h(AuthProvider, { client: auth }, h(Page)));
    expect(html).toBe('<main><p>status: signed-out</p><p>function</p></main>');
    expect(on).not.toHaveBeenCalled();
  });

  it('needs the provider on the server as well', () => {
    expect(() => renderToString(h(Page))).toThrow('needs an <AuthProvider');
  });
});
