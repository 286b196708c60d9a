/**
 * The login gate: requests held while the session is over, until the user signs in again (`loginRequired: 'wait'`),
 * signs out, or `loginTimeout` passes; and the `loginRequired` event that tells the app to show its sign-in.
 */
import type { EventBus } from './events.js';
import { maySameUser } from './lib/claims.js';
import { DISPOSED, ended, userChanged } from './lib/ended.js';
import type { Log } from './log.js';
import type { LoginRequiredReason, TokenSet } from './types.js';

/** What to do with requests when the session is over. */
export type LoginRequiredMode = 'reject' | 'wait';

/** Requests held until `login()` (then replayed), `logout()` (then rejected) or `loginTimeout`. */
export interface LoginGate {
  /**
   * Hold a request until sign-in. Rejects on logout, `loginTimeout`, the request's own abort, or a sign-in of a user
   * other than `owner`'s (`'user-changed'`).
   */
  hold(signal?: AbortSignal | null, owner?: TokenSet): Promise<void>;
  /**
   * Emit `loginRequired`. With `'reject'` at once: the waiting requests are about to reject, and the event must come
   * before the rejection it explains. With `'wait'` once the requests that were waiting on the ended refresh have
   * moved here, so that `pending` counts them (their rejection handlers run in microtasks before this timer); none
   * of them settles meanwhile.
   */
  announce(reason: LoginRequiredReason, stepUp?: { acrValues?: string[]; maxAge?: number }): void;
  /**
   * Sign-in happened: every held request goes on, except those of another user's session, which reject with
   * `SessionExpiredError` (`'user-changed'`).
   */
  releaseAll(tokens: TokenSet): void;
  /** Logout or dispose: every held request rejects with `error`. */
  rejectAll(error: unknown): void;
  dispose(): void;
}

/**
 * Make a login gate.
 * @param loginTimeout how long a request is held, in ms
 */
export function createLoginGate(loginTimeout: number, mode: LoginRequiredMode, bus: EventBus, log: Log): LoginGate {
  /** Each held request's settle function (release, or reject with the error), with the tokens of the session it was
   * made in, when there was one: only that user's sign-in releases it. */
  const held = new Map<(release: boolean, error?: unknown) => void, TokenSet | undefined>();
  let announceTimer: ReturnType<typeof setTimeout> | undefined;
  const rejectAll = (error: unknown) => {
    for (const settle of [...held.keys()]) settle(false, error);
  };
  return {
    hold: (signal, owner) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const settle = (release: boolean, error?: unknown) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          held.delete(settle);
          if (release) resolve();
          else reject(error);
        };
        const onAbort = () => settle(false, signal?.reason);
        const timer = setTimeout(() => settle(false, ended('login-timeout')), loginTimeout);
        signal?.addEventListener('abort', onAbort);
        held.set(settle, owner);
      }),
    announce(reason, stepUp) {
      clearTimeout(announceTimer);
      const emit = () => {
        log.debug(`authfetch: sign-in required (${reason}), ${held.size} held`);
        bus.emit('loginRequired', { reason, pending: held.size, ...stepUp });
      };
      if (mode === 'reject') emit();
      else announceTimer = setTimeout(emit, 0);
    },
    releaseAll(tokens) {
      for (const [settle, owner] of [...held]) {
        if (maySameUser(owner, tokens)) settle(true);
        else settle(false, userChanged());
      }
    },
    rejectAll,
    dispose() {
      clearTimeout(announceTimer);
      rejectAll(ended('logout', DISPOSED));
    },
  };
}
