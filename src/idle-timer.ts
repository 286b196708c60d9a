/**
 * The idle timeout: ends the session after `idleTimeout` without activity, with `sessionWarning` before. Timers
 * always aim at a deadline and re-check the clock when they fire or when the page wakes up, because timers in
 * background tabs and sleeping machines fire late.
 */
import type { EventBus } from './events.js';
import type { Log } from './log.js';

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

  constructor(private readonly options: IdleOptions) {
    if (options.trackActivity) this.#attachInputListeners();
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
    this.#deadline = now + this.options.idleTimeout;
    if (this.#warned) this.#warned = false;
    if (!fromOtherTab && now - this.#lastBroadcast > Math.min(1000, this.options.idleTimeout / 10)) {
      this.#lastBroadcast = now;
      this.#writeShared(now);
      this.options.onLocalActivity?.();
    }
    this.#schedule();
  }

  /** Re-check the deadline now (the page woke up; timers may have slept). */
  check(): void {
    if (!this.#running) return;
    const shared = this.#readShared();
    if (shared !== undefined && shared + this.options.idleTimeout > this.#deadline) this.#deadline = shared + this.options.idleTimeout;
    const remaining = this.#deadline - Date.now();
    if (remaining <= 0) {
      this.stop();
      this.options.log.debug('authfetch: idle timeout reached');
      this.options.onIdle();
      return;
    }
    if (!this.#warned && remaining <= this.options.idleWarning) {
      this.#warned = true;
      this.options.bus.emit('sessionWarning', { remainingMs: remaining });
    }
    this.#schedule();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (!this.#running) return;
    const now = Date.now();
    const warnAt = this.#deadline - this.options.idleWarning;
    // Aim at the next deadline that matters, computed from the remaining time, never a fixed interval.
    const next = !this.#warned && warnAt > now ? warnAt : this.#deadline;
    this.#timer = setTimeout(() => this.check(), Math.max(0, next - now));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** `localStorage` may be missing (workers) or throw (blocked storage): sharing is then left to the channel. */
  #writeShared(now: number): void {
    if (this.options.sharedActivityKey === undefined) return;
    try {
      globalThis.localStorage?.setItem(this.options.sharedActivityKey, String(now));
    } catch {
      // best effort
    }
  }

  #readShared(): number | undefined {
    if (this.options.sharedActivityKey === undefined) return undefined;
    try {
      const value = Number(globalThis.localStorage?.getItem(this.options.sharedActivityKey));
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
