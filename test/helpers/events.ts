/**
 * `recordEvents(auth, names)`: every payload of the named events, per event and in arrival order.
 *
 * ```ts
 * const events = recordEvents(auth, ['refresh', 'sessionExpired']);
 * await auth.http.get('me');
 * expect(events.refresh).toHaveLength(1);
 * expect(events.order).toEqual(['refresh']);
 * ```
 */
import type { AuthClient, AuthEvents, AuthEventType } from '../../src/index.js';

/** The payloads of each recorded event (`record.refresh`, ...), and the event types in the order they came. */
export type EventRecord<K extends AuthEventType> = { [T in K]: AuthEvents[T][] } & { order: K[] };

/** Subscribe to `names` on `auth` (for the client's life) and record what they carry. */
export function recordEvents<const K extends AuthEventType>(auth: Pick<AuthClient, 'on'>, names: readonly K[]): EventRecord<K> {
  const record = { order: [] as K[] } as EventRecord<K>;
  for (const name of names) {
    const payloads: AuthEvents[K][] = [];
    (record as Record<K, AuthEvents[K][]>)[name] = payloads;
    auth.on(name, (payload) => {
      payloads.push(payload);
      record.order.push(name);
    });
  }
  return record;
}
