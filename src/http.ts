/**
 * `auth.http`: ky with the auth path as its `fetch`. ky adds what it is for (retries, JSON, hooks); this module
 * resolves URLs before ky sees them (ky's `prefixUrl` would send absolute URLs to the base origin) and maps ky's
 * failures to the typed errors once, after ky has finished (mapping inside ky's `beforeError` would break its
 * retry decisions; see PLATFORM-NOTES).
 */
import ky, { isHTTPError, type Input, type KyInstance, type Options, type ResponsePromise, type RetryOptions } from 'ky';
import { isAuthFetchError, isTransient, type ErrorMapper } from './errors/index.js';

/** The contract's retry default: 2 retries of idempotent requests on network errors, 408, 429 and 5xx. */
export const DEFAULT_RETRY: Required<Pick<RetryOptions, 'limit' | 'methods' | 'statusCodes' | 'afterStatusCodes'>> = {
  limit: 2,
  methods: ['get', 'put', 'head', 'delete', 'options', 'trace'],
  // ky's default also retries 413, which is not transient.
  statusCodes: [408, 429, 500, 502, 503, 504],
  afterStatusCodes: [429, 503],
};

/**
 * Normalise the `retry` option (a number is the limit) onto the contract's defaults.
 * @param isRefreshFailure recognises a refresh failure the coordinator already retried and reported: retrying the
 *   request would run the whole refresh again, with another refreshError, for each of ky's retries
 */
export function retryOptions(
  retry: number | RetryOptions | undefined,
  isRefreshFailure: (error: unknown) => boolean = () => false,
): RetryOptions {
  const given = typeof retry === 'number' ? { limit: retry } : (retry ?? {});
  const userShouldRetry = given.shouldRetry;
  return {
    ...DEFAULT_RETRY,
    ...given,
    shouldRetry: async (state) => {
      const { error } = state;
      if (isRefreshFailure(error)) return false;
      // A session that ended, a refused token, a non-replayable body: running the auth path again cannot help.
      // Transient failures keep ky's default treatment (network failures retried for idempotent methods).
      if (isAuthFetchError(error) && !isTransient(error)) return false;
      if (error instanceof TypeError && !isHTTPError(error)) return false;
      return userShouldRetry ? userShouldRetry(state) : undefined;
    },
  };
}

const BODY_METHODS = ['json', 'text', 'formData', 'arrayBuffer', 'blob', 'bytes'] as const;

/**
 * Wrap a ky instance: resolve string URLs, and turn ky's `HTTPError` into authfetch's typed errors.
 * `create` and `extend` return wrapped instances, so every derived instance behaves the same.
 */
export function wrapKy(instance: KyInstance, resolveUrl: (input: string) => string, errors: ErrorMapper): KyInstance {
  const mapError = async (error: unknown): Promise<never> => {
    if (isHTTPError(error)) {
      throw await errors.forResponse(error.response, { method: error.request.method, url: error.request.url });
    }
    // Failures of the auth path arrive typed already; what is left is ky's own (its TimeoutError, when an app
    // passes a per-call `timeout`), which carries the request.
    const request = (error as { request?: Request } | null)?.request;
    throw errors.forFailure(error, { method: request?.method ?? 'GET', url: request?.url ?? '' });
  };

  const call = <T>(method: keyof KyInstance | undefined, input: Input, options?: Options): ResponsePromise<T> => {
    const target = typeof input === 'string' ? resolveUrl(input) : input;
    const original = (method ? (instance[method] as KyInstance) : instance)<T>(target, options);
    const mapped = original.then(undefined, mapError) as ResponsePromise<T>;
    for (const name of BODY_METHODS) {
      if (typeof (original as unknown as Record<string, unknown>)[name] !== 'function') continue;
      const body = () => {
        const promise = (original[name] as () => Promise<unknown>)().then(undefined, mapError);
        return promise;
      };
      (mapped as unknown as Record<string, unknown>)[name] = body;
    }
    // The app may use only `.json()`; the bare promise then rejects with nobody listening. Mark it handled
    // (awaiting it still throws).
    mapped.catch(() => undefined);
    return mapped;
  };

  const wrapped = (<T>(input: Input, options?: Options) => call<T>(undefined, input, options)) as KyInstance;
  for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head'] as const) {
    (wrapped as unknown as Record<string, unknown>)[method] = <T>(input: Input, options?: Options) => call<T>(method, input, options);
  }
  wrapped.create = (defaults?: Options) => wrapKy(instance.create(defaults), resolveUrl, errors);
  wrapped.extend = (defaults: Options | ((parent: Options) => Options)) => wrapKy(instance.extend(defaults), resolveUrl, errors);
  (wrapped as { stop: KyInstance['stop'] }).stop = instance.stop;
  (wrapped as { retry: KyInstance['retry'] }).retry = instance.retry;
  return wrapped;
}

/** Make `auth.http`. */
export function createHttp(
  authFetch: typeof fetch,
  retry: number | RetryOptions | undefined,
  resolveUrl: (input: string) => string,
  errors: ErrorMapper,
  isRefreshFailure: (error: unknown) => boolean,
): KyInstance {
  const instance = ky.create({
    fetch: authFetch,
    // The per-attempt timeout lives in the auth path: ky's would also cut requests held for a refresh or sign-in.
    timeout: false,
    retry: retryOptions(retry, isRefreshFailure),
    throwHttpErrors: true,
  });
  return wrapKy(instance, resolveUrl, errors);
}
