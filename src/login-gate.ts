/**
 * The login gate: requests held while the session is over, until the user signs in again (`loginRequired: 'wait'`),
 * signs out, or `loginTimeout` passes; and the `loginRequired` event that tells the app to show its sign-in.
 */
import { SessionExpiredError } from './errors/index.js';
import type { EventBus } from './events.js';
import { maySameUser } from './lib/claims.js';
import type { Log } from './log.js';
import type { LoginRequiredReason, TokenSet } from './types.js';

/** What to do with requests when the session is over. */
export type LoginRequiredMode = 'reject' | 'wait';

interface Held {
  /** The tokens of the session the request was made in, when there was one: only that user's sign-in releases it. */
  owner: TokenSet | undefined;
  resolve(): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/**
 * Requests held until `login()` (then replayed), `logout()` (then rejected) or `loginTimeout`.
 */
export class LoginGate {
  #held = new Set<Held>();
  #announceTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: { loginTimeout: number; mode: LoginRequiredMode; bus: EventBus; log: Log },
  ) {}

  /** How many requests are held right now. */
  get pending(): number {
    return this.#held.size;
  }

  /**
   * Hold a request until sign-in. Rejects on logout, `loginTimeout`, the request's own abort, or a sign-in of a user
   * other than `owner`'s (`'user-changed'`).
   */
  hold(signal?: AbortSignal | null, owner?: TokenSet): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = () => {
        held.cleanup();
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        held.cleanup();
        reject(new SessionExpiredError('No sign-in happened within loginTimeout', { reason: 'login-timeout' }));
      }, this.options.loginTimeout);
      const held: Held = {
        owner,
        resolve: () => {
          held.cleanup();
          resolve();
        },
        reject: (error) => {
          held.cleanup();
          reject(error);
        },
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#held.delete(held);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#held.add(held);
    });
  }

  /**
   * Emit `loginRequired`. With `'reject'` at once: the waiting requests are about to reject, and the event must come
   * before the rejection it explains. With `'wait'` once the requests that were waiting on the ended refresh have
   * moved here, so that `pending` counts them (their rejection handlers run in microtasks before this timer); none
   * of them settles meanwhile.
   */
  announce(reason: LoginRequiredReason, stepUp?: { acrValues?: string[]; maxAge?: number }): void {
    clearTimeout(this.#announceTimer);
    const emit = () => {
      this.options.log.debug(`authfetch: sign-in required (${reason}); ${this.pending} request(s) held`);
      this.options.bus.emit('loginRequired', { reason, pending: this.pending, ...stepUp });
    };
    if (this.options.mode === 'reject') emit();
    else this.#announceTimer = setTimeout(emit, 0);
  }

  /**
   * Sign-in happened: every held request goes on, except those of another user's session, which reject with
   * `SessionExpiredError` (`'user-changed'`).
   */
  releaseAll(tokens: TokenSet): void {
    for (const held of [...this.#held]) {
      if (maySameUser(held.owner, tokens)) held.resolve();
      else held.reject(new SessionExpiredError('Another user signed in; this request belonged to the session before', { reason: 'user-changed' }));
    }
  }

  /** Logout or dispose: every held request rejects with `error`. */
  rejectAll(error: unknown): void {
    for (const held of [...this.#held]) held.reject(error);
  }

  dispose(): void {
    clearTimeout(this.#announceTimer);
    this.rejectAll(new SessionExpiredError('The client was disposed', { reason: 'logout' }));
  }
}
