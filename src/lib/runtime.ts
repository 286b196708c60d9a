/**
 * Runtime checks, read from `globalThis` at each call (test setups add and remove a DOM between tests).
 */

/**
 * Whether this is a browser page or a worker: where tabs exist, so sharing a session between them makes sense. A
 * DOM emulation (jsdom, happy-dom) counts as a page.
 */
export function isBrowserOrWorker(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return g.document !== undefined || g.WorkerGlobalScope !== undefined;
}

/** Whether this is Node without a DOM (jsdom-like test setups count as browsers). */
export function isNodeRuntime(): boolean {
  const g = globalThis as { process?: { versions?: { node?: unknown } }; document?: unknown };
  return typeof g.process?.versions?.node === 'string' && g.document === undefined;
}

/**
 * Call `callback` when the page may have slept: a tab coming back to the foreground (`visibilitychange` to visible)
 * or the network coming back (`online`, which also follows a machine waking up). Timers do not fire on time in
 * either case. Returns the function that stops listening; nothing is listened to outside a page or worker.
 */
export function onWake(callback: () => void): () => void {
  const doc = (globalThis as { document?: Document }).document;
  const onVisibility = () => {
    if (doc?.visibilityState === 'visible') callback();
  };
  const scope = globalThis as unknown as Partial<Pick<Window, 'addEventListener' | 'removeEventListener'>>;
  doc?.addEventListener('visibilitychange', onVisibility);
  scope.addEventListener?.('online', callback);
  return () => {
    doc?.removeEventListener('visibilitychange', onVisibility);
    scope.removeEventListener?.('online', callback);
  };
}
