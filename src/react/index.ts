/**
 * authfetch/react: React bindings for an auth client. A separate entry: an app that does not import it ships none of
 * it. `react` (19) is an optional peer dependency.
 */
export { AuthProvider, useAuth } from './context.js';
export type { AuthProviderProps } from './context.js';
export { useSession } from './use-session.js';
export { useAuthEvent } from './use-auth-event.js';
