/**
 * One network attempt of the auth path, bounded by the per-attempt `timeout` (the wait for the response headers).
 *
 * Every attempt is really ended at its deadline, connection and all; how depends on the runtime's fetch:
 *
 * - `'abort'`: the attempt gets an AbortSignal of its own, aborted by a timer. Browsers, workers, an app-supplied
 *   `fetch`, and short timeouts: signals are native and cheap in browsers, and a hung request would otherwise hold
 *   one of the six HTTP/1.1 connections a page may open to an origin.
 * - `'undici'`: Node's built-in fetch with a timeout of 10 s or more. There, following an AbortSignal costs about
 *   12 us per request (undici registers a listener and a finalizer per signal): 5-10% of a loopback request, more
 *   than the rest of the auth path together (`npm run bench:overhead` prints it). undici has a per-request limit of
 *   its own for exactly this wait, `headersTimeout`, which destroys the connection when it fires. So the attempt
 *   goes through a dispatcher that forwards to the global one (an app's proxy or agent settings still apply) with
 *   `headersTimeout` set. Its clock ticks about once a second, so the attempt ends within a second after `timeout`
 *   (hence the 10 s floor: below it, `'abort'` is used), and it counts from when the request is sent (connecting has
 *   undici's own limit, `connectTimeout`, 10 s by default). It applies only while `globalThis.fetch` is still Node's
 *   own: a fetch patched in later (msw's interceptor, a test double) ignores the dispatcher, so it gets `'abort'`.
 *
 * `fetch` is looked up when each attempt is sent, not when the client is made (as ky does): test tools such as msw
 * replace `globalThis.fetch` at `server.listen()`, usually after the app created its client at module load.
 */
import { TimeoutError } from '../errors/index.js';
import { discardBody } from '../lib/discard-body.js';
import { isNodeRuntime } from '../lib/runtime.js';

/** How attempts are bounded (see the module comment). */
export type AttemptBounding = 'abort' | 'undici';

/** The shortest timeout for which `'undici'` is used: its timer resolution (about a second) is 10% of it. */
export const UNDICI_MIN_TIMEOUT_MS = 10_000;

/** What an attempt needs to know of its request (for the TimeoutError, and the app's own abort). */
export interface AttemptTarget {
  method: string;
  url: string;
  /** The app's signal, if any: it is already part of the input or init given to the attempt. */
  signal: AbortSignal | null | undefined;
}

/** Options of {@link createAttempt}. */
export interface AttemptOptions {
  /** The app's own fetch; without one, the current `globalThis.fetch` at each send. */
  fetch?: typeof fetch;
  /** The per-attempt timeout, in ms: how long to wait for the response headers. */
  timeout: number;
  bounding: AttemptBounding;
}

/**
 * Sends one attempt, `fetch(input, init)` with the timeout applied, and settles with what `onResponse` makes of the
 * response or what `onError` makes of a failure (both get the target, so they need not be closures made per
 * attempt), in the same promise (every promise layer over fetch's own is a
 * measurable cost at 50 requests in flight, bench/overhead.ts). When the headers do not arrive in time it rejects
 * with authfetch's TimeoutError instead. `init` is the attempt's own object (or none): the attempt may set its
 * `signal` or `dispatcher`.
 */
export type Attempt = <Target extends AttemptTarget>(
  input: RequestInfo,
  init: RequestInit | undefined,
  target: Target,
  onResponse: (response: Response, target: Target) => Response | Promise<Response>,
  onError: (error: unknown, target: Target) => never,
) => Promise<Response>;

/** The bounding for a client: `'undici'` for Node's own fetch and a timeout of 10 s or more, `'abort'` otherwise. */
export function defaultBounding(appFetch: typeof fetch | undefined, timeout: number): AttemptBounding {
  return appFetch === undefined && timeout >= UNDICI_MIN_TIMEOUT_MS && isNodeRuntime() ? 'undici' : 'abort';
}

/** undici's dispatcher interface, as far as fetch uses it. */
interface Dispatcher {
  dispatch(options: { headersTimeout?: number | null }, handler: unknown): boolean;
}

/** The last `globalThis.fetch` judged by {@link isNodeBuiltinFetch}, and the verdict (one comparison per send). */
let judgedFetch: unknown;
let judgedBuiltin = false;

/**
 * Whether `candidate` is Node's own global fetch, whose requests go through undici's global dispatcher. Node defines
 * it in its bootstrap as a wrapper that loads `internal/deps/undici/undici` (a module only Node itself can load), so
 * its source names that module; a replacement (msw, a spy) does not. Judged once per function.
 */
export function isNodeBuiltinFetch(candidate: unknown): boolean {
  if (candidate !== judgedFetch) {
    judgedFetch = candidate;
    judgedBuiltin = typeof candidate === 'function' && Function.prototype.toString.call(candidate).includes('internal/deps/undici/undici');
  }
  return judgedBuiltin;
}

/** Where undici (Node's fetch, and any copy of the undici package) keeps the global dispatcher. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/** The global dispatcher, unset before Node's fetch first ran (or on a runtime that keeps none). */
const globalDispatcher = () => (globalThis as Record<symbol, Dispatcher | undefined>)[GLOBAL_DISPATCHER];

/** The TimeoutError of an attempt whose response headers did not arrive within `timeout`. */
function timeoutError(target: AttemptTarget, timeout: number, cause: unknown): TimeoutError {
  return new TimeoutError(undefined, { method: target.method, url: target.url, timeout, cause });
}

/** Sends one request through the app's fetch or the current global one (see {@link createAttempt}). */
type FetchCall = (input: RequestInfo, init: RequestInit | undefined) => Promise<Response>;

/** `'abort'`: each attempt gets an AbortSignal of its own, aborted at the deadline (and by the app's own signal). */
const boundBySignal =
  (call: FetchCall, timeout: number): Attempt =>
  (input, init, target, onResponse, onError) => {
    const user = target.signal;
    if (user?.aborted) return Promise.reject(user.reason);
    const controller = new AbortController();
    // Aborted by the deadline or by the app's abort (onUserAbort), nothing else: `signal.aborted && !user?.aborted`
    // says the deadline passed.
    const signal = controller.signal;
    const expired = () => timeoutError(target, timeout, signal.reason);
    /** Settles the attempt at the deadline when fetch ignores the signal (see below); unset for string inputs. */
    let settleEarly: ((error: unknown) => void) | undefined;
    const onUserAbort = () => {
      controller.abort(user!.reason);
      settleEarly?.(user!.reason);
    };
    user?.addEventListener('abort', onUserAbort); // a signal aborts once, and settled() removes it
    const timer = setTimeout(() => {
      controller.abort(new DOMException(`Timed out after ${timeout} ms`, 'TimeoutError'));
      settleEarly?.(expired());
    }, timeout);
    const settled = () => {
      clearTimeout(timer);
      user?.removeEventListener('abort', onUserAbort);
    };
    (init ??= {}).signal = signal;
    const sent = call(input, init).then(
      (response) => {
        settled();
        if (settleEarly && signal.aborted) {
          // The attempt was settled already; this late response is nobody's.
          discardBody(response);
          throw expired();
        }
        return onResponse(response, target);
      },
      (error: unknown) => {
        settled();
        // The app's abort wins over a timeout that fired in the same turn: it is what the app asked for.
        if (signal.aborted && !user?.aborted) throw expired();
        return onError(error, target);
      },
    );
    // A Request input: some fetch implementations (happy-dom 21) ignore `init.signal` when the input is a Request, and
    // the attempt would outlive its deadline. It settles at the deadline (or the app's abort) by itself then.
    return typeof input === 'string'
      ? sent
      : new Promise<Response>((resolve, reject) => {
          settleEarly = reject;
          sent.then(resolve, reject);
        });
  };

/**
 * `'undici'`: each attempt goes through a dispatcher with `headersTimeout` set; `bySignal` where that cannot apply
 * (an app's own dispatcher, undici not loaded yet, a global fetch that is no longer Node's own).
 */
function boundByHeadersTimeout(call: FetchCall, timeout: number, bySignal: Attempt): Attempt {
  /** Forwards to the global dispatcher at each request (so a later setGlobalDispatcher applies), with the limit set. */
  const dispatcher: Dispatcher = {
    dispatch(options, handler) {
      options.headersTimeout = timeout;
      return globalDispatcher()!.dispatch(options, handler);
    },
  };
  return (input, init: (RequestInit & { dispatcher?: unknown }) | undefined, target, onResponse, onError) => {
    // An app's own dispatcher for this request, none known yet (the first fetch of the process loads undici, which
    // sets it), or a global fetch that is no longer Node's own (it would ignore the dispatcher): an AbortSignal then.
    if (init?.dispatcher !== undefined || !globalDispatcher() || !isNodeBuiltinFetch(globalThis.fetch)) {
      return bySignal(input, init, target, onResponse, onError);
    }
    (init ??= {}).dispatcher = dispatcher;
    return call(input, init).then(
      (response) => onResponse(response, target),
      (error: unknown) => {
        // undici's headers timeout fired.
        if (error instanceof TypeError && (error.cause as { code?: unknown } | undefined)?.code === 'UND_ERR_HEADERS_TIMEOUT') {
          throw timeoutError(target, timeout, error.cause);
        }
        return onError(error, target);
      },
    );
  };
}

/** Build the attempt function for one client. */
export function createAttempt({ fetch: appFetch, timeout, bounding }: AttemptOptions): Attempt {
  // The app's fetch, else the current global one, with a synchronous throw (a custom fetch may throw) turned into a
  // rejection. Called as plain functions: a browser's `window.fetch` refuses another `this`.
  const call: FetchCall = (input, init) => {
    try {
      const current = appFetch ?? globalThis.fetch;
      if (typeof current !== 'function') throw new TypeError('authfetch: no fetch is available; pass the fetch option');
      return current(input, init);
    } catch (error) {
      return Promise.reject(error);
    }
  };
  const bySignal = boundBySignal(call, timeout);
  return bounding === 'abort' ? bySignal : boundByHeadersTimeout(call, timeout, bySignal);
}
