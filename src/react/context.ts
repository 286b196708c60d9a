/**
 * `<AuthProvider client>` and `useAuth()`: one auth client handed down the component tree through React context.
 */
import { createContext, createElement, useContext, type ReactNode } from 'react';
import type { AuthClient } from 'authfetch';

const AuthContext = createContext<AuthClient | undefined>(undefined);
AuthContext.displayName = 'AuthContext';

/** Props of `<AuthProvider>`. */
export interface AuthProviderProps {
  /** The client from `createAuthClient`, usually made once at module level, outside any component. */
  client: AuthClient;
  children?: ReactNode;
}

/**
 * Make `client` available to `useAuth`, `useSession` and `useAuthEvent` below it. The provider does not own the
 * client: it neither creates nor disposes it, so a re-render or remount (React's Strict Mode mounts twice) never
 * signs anyone out.
 *
 * @example
 * ```tsx
 * const auth = createAuthClient({ baseUrl: '/api', refresh: oauth2Refresh({ tokenEndpoint, clientId }) });
 * createRoot(root).render(<AuthProvider client={auth}><App /></AuthProvider>);
 * ```
 */
export function AuthProvider({ client, children }: AuthProviderProps): ReactNode {
  return createElement(AuthContext.Provider, { value: client }, children);
}

/**
 * The auth client of the nearest `<AuthProvider>`: `useAuth().http.get('me')`, `useAuth().logout()`.
 * Throws when there is no provider above, since every call through a missing client would fail later and less clearly.
 */
export function useAuth(): AuthClient {
  const client = useContext(AuthContext);
  if (client === undefined) {
    throw new Error('authfetch/react: useAuth() needs an <AuthProvider client={auth}> above this component');
  }
  return client;
}
