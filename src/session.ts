/**
 * The session around the tokens: holding requests until the user signs in again (`loginRequired: 'wait'`) and
 * ending an idle session. Timers always aim at a deadline and re-check the clock when they fire or when the page
 * wakes up, because timers in background tabs and sleeping machines fire late.
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
    private readonly o: { loginTimeout: number; mode: LoginRequiredMode; bus: EventBus; log: Log },
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
      }, this.o.loginTimeout);
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
      this.o.log.debug(`authfetch: sign-in required (${reason}); ${this.pending} request(s) held`);
      this.o.bus.emit('loginRequired', { reason, pending: this.pending, ...stepUp });
    };
    if (this.o.mode === 'reject') emit();
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

/** Options of the idle timer. */
export interface IdleOptions {
  idleTimeout: number;
  idleWarning: number;
  trackActivity: boolean;
  bus: EventBus;
  log: Log;
  /** The idle deadline passed. */
  onIdle(): void;
  /** Activity happened here: tell other tabs (throttled by the caller's channel use). */
  onLocalActivity?(): void;
  /**
   * A `localStorage` key where the time of the last activity in any tab is kept (crossTab). Before ending or
   * warning, the timer consults it: a tab whose timers and notices were held up (frozen in the background) must
   * not end the session that a user is using in another tab.
   */
  sharedActivityKey?: string;
}

const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

/**
 * Ends the session after `idleTimeout` without activity, with `sessionWarning` `idleWarning` before.
 * Activity: `touch()`, requests, user input (with `trackActivity`), and activity in other tabs.
 */
export class IdleTimer {
  #deadline = 0;
  #warned = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;
  #lastBroadcast = 0;
  #lastTrack = 0;
  #detach: (() => void) | undefined;

  constructor(private readonly o: IdleOptions) {
    if (o.trackActivity) this.#attachInputListeners();
  }

  /**
   * Start counting (on sign-in or a restored session). Already counting: nothing changes, because tokens arriving
   * (a refresh here or in another tab) are not user activity and must not postpone the idle end.
   */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#warned = false;
    this.#deadline = 0; // a deadline left from an earlier session must not end this one
    this.touch();
  }

  /** Stop counting (signed out or session ended). */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  /** Record activity. `fromOtherTab` activity is not re-broadcast. */
  touch(fromOtherTab = false): void {
    if (!this.#running) return;
    const now = Date.now();
    // The deadline passed while timers slept (a background tab, a sleeping machine): input arriving now (the user
    // coming back) does not revive the session; it ends, unless another tab saw activity in time.
    if (!fromOtherTab && this.#deadline !== 0 && now >= this.#deadline) {
      this.check();
      if (!this.#running) return;
    }
    this.#deadline = now + this.o.idleTimeout;
    if (this.#warned) this.#warned = false;
    if (!fromOtherTab && now - this.#lastBroadcast > Math.min(1000, this.o.idleTimeout / 10)) {
      this.#lastBroadcast = now;
      this.#writeShared(now);
      this.o.onLocalActivity?.();
    }
    this.#schedule();
  }

  /** Re-check the deadline now (the page woke up; timers may have slept). */
  check(): void {
    if (!this.#running) return;
    const shared = this.#readShared();
    if (shared !== undefined && shared + this.o.idleTimeout > this.#deadline) this.#deadline = shared + this.o.idleTimeout;
    const remaining = this.#deadline - Date.now();
    if (remaining <= 0) {
      this.stop();
      this.o.log.debug('authfetch: idle timeout reached');
      this.o.onIdle();
      return;
    }
    if (!this.#warned && remaining <= this.o.idleWarning) {
      this.#warned = true;
      this.o.bus.emit('sessionWarning', { remainingMs: remaining });
    }
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    const now = Date.now();
    const warnAt = this.#deadline - this.o.idleWarning;
    // Aim at the next deadline that matters, computed from the remaining time, never a fixed interval.
    const next = !this.#warned && warnAt > now ? warnAt : this.#deadline;
    this.#timer = setTimeout(() => this.check(), Math.max(0, next - now));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** `localStorage` may be missing (workers) or throw (blocked storage): sharing is then left to the channel. */
  #writeShared(now: number): void {
    if (this.o.sharedActivityKey === undefined) return;
    try {
      globalThis.localStorage?.setItem(this.o.sharedActivityKey, String(now));
    } catch {
      // best effort
    }
  }

  #readShared(): number | undefined {
    if (this.o.sharedActivityKey === undefined) return undefined;
    try {
      const value = Number(globalThis.localStorage?.getItem(this.o.sharedActivityKey));
      // Never trust a value from the future (a clock change, a foreign write): it would keep the session forever.
      return Number.isFinite(value) && value > 0 && value <= Date.now() ? value : undefined;
    } catch {
      return undefined;
    }
  }

  #attachInputListeners(): void {
    const target = globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
    const doc = (globalThis as { document?: Document }).document;
    if (typeof target.addEventListener !== 'function' || !doc) return;
    // Input events arrive by the hundred: count at most a few per second.
    const onInput = () => {
      const now = Date.now();
      if (now - this.#lastTrack < 250) return;
      this.#lastTrack = now;
      this.touch();
    };
    const onVisibility = () => {
      if (doc.visibilityState === 'visible') onInput();
    };
    for (const type of ACTIVITY_EVENTS) target.addEventListener(type, onInput, { passive: true, capture: true });
    doc.addEventListener('visibilitychange', onVisibility);
    this.#detach = () => {
      for (const type of ACTIVITY_EVENTS) target.removeEventListener?.(type, onInput, { capture: true });
      doc.removeEventListener('visibilitychange', onVisibility);
    };
  }

  dispose(): void {
    this.stop();
    this.#detach?.();
  }
}
