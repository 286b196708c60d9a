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
