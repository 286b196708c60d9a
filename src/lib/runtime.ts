/**
 * Runtime checks, read from `globalThis` at each call (test setups add and remove a DOM between tests).
 */

/** `globalThis` with what a page, a worker or Node may have. */
const scope = globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>> & {
  document?: Document;
  WorkerGlobalScope?: unknown;
  process?: { versions?: { node?: unknown } };
};

/**
 * Whether this is a browser page or a worker: where tabs exist, so sharing a session between them makes sense. A
 * DOM emulation (jsdom, happy-dom) counts as a page.
 */
export function isBrowserOrWorker(): boolean {
  return scope.document !== undefined || scope.WorkerGlobalScope !== undefined;
}

/** Whether this is Node without a DOM (jsdom-like test setups count as browsers). */
export function isNodeRuntime(): boolean {
  return typeof scope.process?.versions?.node === 'string' && scope.document === undefined;
}

/**
 * Call `callback` on each of `types` at `target` (`globalThis` by default), where it can be listened to. Returns
 * the function that stops listening.
 */
export function listenOn(types: readonly string[], callback: () => void, options?: AddEventListenerOptions, target: EventTarget | undefined = scope as EventTarget): () => void {
  for (const type of types) target?.addEventListener?.(type, callback, options);
  return () => {
    for (const type of types) target?.removeEventListener?.(type, callback, options);
  };
}

/** Call `callback` when the page comes back to the foreground (`visibilitychange` to visible). */
export function onVisible(callback: () => void): () => void {
  const doc = scope.document;
  return listenOn(['visibilitychange'], () => doc?.visibilityState === 'visible' && callback(), undefined, doc);
}

/**
 * Call `callback` when the page may have slept: a tab coming back to the foreground (`visibilitychange` to visible)
 * or the network coming back (`online`, which also follows a machine waking up). Timers do not fire on time in
 * either case. Returns the function that stops listening; nothing is listened to outside a page or worker.
 */
export function onWake(callback: () => void): () => void {
  const stopVisible = onVisible(callback);
  const stopOnline = listenOn(['online'], callback);
  return () => {
    stopVisible();
    stopOnline();
  };
}

/** Let Node exit while `handle` (a timer, a BroadcastChannel) is open: it is `unref`'d where that exists. */
export function unref(handle: unknown): void {
  (handle as { unref?: () => void } | undefined)?.unref?.();
}

/** Web Locks, where they exist (secure contexts of browsers and workers); elsewhere `undefined`. */
export function webLocks(): LockManager | undefined {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  return typeof locks?.request === 'function' ? locks : undefined;
}
