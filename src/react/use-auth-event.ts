/**
 * `useAuthEvent(type, handler)`: subscribe a component to one of the client's typed events for as long as it is
 * mounted.
 */
import { useEffect, useLayoutEffect, useRef } from 'react';
import type { AuthEvents, AuthEventType } from 'authfetch';
import { useAuth } from './context.js';

/**
 * Call `handler` on every `type` event of the nearest `<AuthProvider>`'s client while the component is mounted.
 * The handler is typed by the event (`loginRequired` gets `{ reason, pending }`, `forbidden` a `ForbiddenError`).
 * The latest handler is called, so an inline arrow that reads fresh props and state works, without unsubscribing
 * and subscribing again at each render (an event between the two would be lost).
 *
 * @example
 * ```tsx
 * function SignInBanner() {
 *   const [shown, setShown] = useState(false);
 *   useAuthEvent('loginRequired', () => setShown(true));
 *   useAuthEvent('login', () => setShown(false));
 *   return shown ? <p role="alert">Please sign in again</p> : null;
 * }
 * ```
 */
export function useAuthEvent<K extends AuthEventType>(type: K, handler: (payload: AuthEvents[K]) => void): void {
  const client = useAuth();
  const latest = useRef(handler);
  // A layout effect runs before any passive effect and before the browser paints, so an event that fires in between
  // already reaches this render's handler.
  useLayoutEffect(() => {
    latest.current = handler;
  });
  useEffect(() => client.on(type, (payload) => latest.current(payload)), [client, type]);
}
