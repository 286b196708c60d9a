// @ts-check
/**
 * The flow in a worker (workerd through miniflare, and a browser's module Web Worker), bundled with the built
 * package by esbuild (`bundle.ts`). workerd: a request to `/?server=...&control=...` runs it and answers its result.
 * A Web Worker: a message `{ server, control }` runs it and the result is posted back.
 */
import * as lib from '../../dist/index.js';
import { runFlow } from './flow.mjs';

export default {
  /** @param {Request} request */
  async fetch(request) {
    const url = new URL(request.url);
    const server = url.searchParams.get('server') ?? '';
    const control = url.searchParams.get('control') ?? '';
    return Response.json(await runFlow(lib, { server, control }));
  },
};

/** @type {{ WorkerGlobalScope?: unknown, postMessage?: (data: unknown) => void, addEventListener?: Function }} */
const scope = /** @type {never} */ (globalThis);
if (scope.WorkerGlobalScope !== undefined && typeof scope.postMessage === 'function' && scope.addEventListener) {
  scope.addEventListener('message', async (/** @type {MessageEvent<{ server: string, control: string }>} */ event) => {
    scope.postMessage?.(await runFlow(lib, event.data));
  });
}
