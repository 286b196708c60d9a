/**
 * The idle timeout: ends the session after `idleTimeout` without activity, with `sessionWarning` before. Timers
 * always aim at a deadline and re-check the clock when they fire or when the page wakes up, because timers in
 * background tabs and sleeping machines fire late.
 */
import type { EventBus } from './events.js';
import { listenOn, onVisible, unref } from './lib/runtime.js';
import type { Log } from './log.js';

/**
 * Ends the session after `idleTimeout` without activity, with `sessionWarning` `idleWarning` before.
 * Activity: `touch()`, requests, user input (with `trackActivity`), and activity in other tabs.
 */
export interface IdleTimer {
  /**
   * Start counting (on sign-in or a restored session). Already counting: nothing changes, because tokens arriving
   * (a refresh here or in another tab) are not user activity and must not postpone the idle end.
   */
  start(): void;
  /** Stop counting (signed out or session ended). */
  stop(): void;
  /** Record activity. `fromOtherTab` activity is not re-broadcast. */
  touch(fromOtherTab?: boolean): void;
  /** Re-check the deadline now (the page woke up; timers may have slept). */
  check(): void;
  dispose(): void;
}

/**
 * The last activity in any tab, from the `localStorage` record at `key` (0 when there is none). `localStorage` may be
 * missing (workers, Node) or throw (blocked storage): sharing is then left to the channel. Never trust a value from
 * the future (a clock change, a foreign write): it would keep the session forever.
 */
function readShared(key: string | undefined): number {
  try {
    const value = key ? Number(localStorage.getItem(key)) : 0;
    return value > 0 && value <= Date.now() ? value : 0;
  } catch {
    return 0;
  }
}

/** Record activity at `now` under `key`; best effort, as {@link readShared} explains. */
function writeShared(key: string | undefined, now: number): void {
  try {
    if (key) localStorage.setItem(key, String(now));
  } catch {
    // best effort
  }
}

/**
 * Count pointer, key and visibility events as activity, in a page. Input events arrive by the hundred: at most a few
 * per second count. Returns the functions that stop listening.
 */
function trackInput(touch: () => void): (() => void)[] {
  let last = 0;
  const onInput = () => {
    const now = Date.now();
    if (now - last < 250) return;
    last = now;
    touch();
  };
  return [listenOn(['pointerdown', 'keydown', 'wheel', 'touchstart'], onInput, { passive: true, capture: true }), onVisible(onInput)];
}

/**
 * Local activity, shared with other tabs (the `localStorage` record and `onLocalActivity`) at most once a second, or
 * a tenth of the timeout when that is shorter: input events arrive by the hundred.
 */
function activitySharer(key: string | undefined, idleTimeout: number, onLocalActivity: () => void): (now: number) => void {
  let last = 0;
  return (now) => {
    if (now - last <= Math.min(1000, idleTimeout / 10)) return;
    last = now;
    writeShared(key, now);
    onLocalActivity();
  };
}

/**
 * Make an idle timer; see {@link IdleTimer}.
 * @param idleWarning at most `idleTimeout`
 * @param trackActivity count the page's input events as activity
 * @param onIdle the idle deadline passed
 * @param onLocalActivity activity happened here: tell other tabs (throttled by the caller's channel use)
 * @param key a `localStorage` key where the time of the last activity in any tab is kept (crossTab). Before ending or
 *   warning, the timer consults it: a tab whose timers and notices were held up (frozen in the background) must not
 *   end the session that a user is using in another tab.
 */
export function createIdleTimer(
  idleTimeout: number,
  idleWarning: number,
  trackActivity: boolean | undefined,
  bus: EventBus,
  log: Log,
  onIdle: () => void,
  onLocalActivity: () => void,
  key?: string,
): IdleTimer {
  // The deadline and whether its warning went out, and whether the timer runs.
  let deadline = 0, warned = false, running = false;
  const share = activitySharer(key, idleTimeout, onLocalActivity);
  let timer: ReturnType<typeof setTimeout> | undefined;

  const stop = () => {
    running = false;
    clearTimeout(timer);
  };

  const check = () => {
    if (!running) return;
    // Another tab's later activity moves the deadline (none reads as 0: far behind any deadline).
    deadline = Math.max(deadline, readShared(key) + idleTimeout);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      stop();
      log.debug('authfetch: idle timeout reached');
      onIdle();
      return;
    }
    if (!warned && remaining <= idleWarning) {
      warned = true;
      bus.emit('sessionWarning', { remainingMs: remaining });
    }
    schedule();
  };

  // Aim at the next deadline that matters, computed from the remaining time, never a fixed interval.
  const schedule = () => {
    clearTimeout(timer);
    if (!running) return; // a sessionWarning listener may have signed out
    const now = Date.now();
    const warnAt = deadline - idleWarning;
    timer = setTimeout(check, (!warned && warnAt > now ? warnAt : deadline) - now);
    unref(timer);
  };

  const touch = (fromOtherTab = false) => {
    if (!running) return;
    const now = Date.now();
    // The deadline passed while timers slept (a background tab, a sleeping machine): input arriving now (the user
    // coming back) does not revive the session; it ends, unless another tab saw activity in time.
    if (!fromOtherTab && deadline && now >= deadline) {
      check();
      if (!running) return;
    }
    deadline = now + idleTimeout;
    warned = false;
    if (!fromOtherTab) share(now);
    schedule();
  };

  const stopInput = trackActivity && (globalThis as { document?: unknown }).document ? trackInput(touch) : [];
  return {
    start() {
      if (running) return;
      running = true;
      warned = false;
      deadline = 0; // a deadline left from an earlier session must not end this one
      touch();
    },
    stop,
    touch,
    check,
    dispose() {
      stop();
      for (const stopListening of stopInput) stopListening();
    },
  };
}
