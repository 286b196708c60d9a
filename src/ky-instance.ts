/**
 * `auth.http`: ky with the auth path as its `fetch`. ky adds what it is for (retries, JSON, hooks); this module
 * resolves URLs before ky sees them (ky's `prefixUrl` would send absolute URLs to the base origin, so `baseUrl` and a
 * derived instance's `prefixUrl` are applied here, by src/auth-path/url.ts) and maps ky's
 * failures to the typed errors once, after ky has finished (mapping inside ky's `beforeError` would break its
 * retry decisions: ky recognizes its HTTP errors by `name === 'HTTPError'` and would retry every status).
 */
import ky, { isHTTPError, type Input, type KyInstance, type Options, type ResponsePromise, type RetryOptions } from 'ky';
import { isAuthFetchError, isTransient, type ErrorMapper } from './errors/index.js';
import { kyRetryDelayMs, retryAfterMs as retryAfterFrom } from './lib/retry-after.js';
import { resolveDerivedPrefix, resolveRequestUrl } from './auth-path/url.js';

/** The longest `Retry-After` honoured unless `retry.maxRetryAfter` says otherwise, in ms. */
export const DEFAULT_MAX_RETRY_AFTER = 60_000;

/**
 * `retry` on the contract's defaults: 2 retries of idempotent requests on network errors, 408, 429 and 5xx. The
 * limit and the methods are ky's defaults (ky 1.x: 2; get, put, head, delete, options, trace).
 */
const withDefaults = (retry: RetryOptions | undefined): RetryOptions => ({
  // ky's default also retries 413, which is not transient.
  statusCodes: [408, 429, 500, 502, 503, 504],
  afterStatusCodes: [429, 503],
  maxRetryAfter: DEFAULT_MAX_RETRY_AFTER,
  ...retry,
});

/**
 * `retry` with its `shouldRetry` guarded: the guard every `shouldRetry` of `auth.http` goes through, the app's own
 * included.
 * @param isRefreshFailure recognises a refresh failure the coordinator already retried and reported: retrying the
 *   request would run the whole refresh again, with another refreshError, for each of ky's retries
 */
function guardRetry(retry: RetryOptions, isRefreshFailure: (error: unknown) => boolean): RetryOptions {
  const { shouldRetry, afterStatusCodes, statusCodes, maxRetryAfter = DEFAULT_MAX_RETRY_AFTER } = withDefaults(retry);
  return {
    ...retry,
    shouldRetry: async (state) => {
      const { error } = state;
      if (isRefreshFailure(error)) return false;
      // ky only caps a long Retry-After at maxRetryAfter and waits that long; a server asking for longer than that
      // gets its error handed to the app now (RFC 9110 section 10.2.3).
      if (isHTTPError(error) && afterStatusCodes?.includes(error.response.status)) {
        const { headers, status } = error.response;
        // ky reads more headers than Retry-After, and more forms (`1e3`, `Infinity`); and a hint it cannot read
        // (`abc`) makes it wait the whole maxRetryAfter. Beyond the limit: give up now. Unreadable: ignore the hint
        // (RFC 9110 section 10.2.3 knows only delta-seconds and an HTTP-date), which `true` does (ky's backoff).
        const kyAfter = kyRetryDelayMs(headers) ?? 0;
        if ((retryAfterFrom(headers) ?? 0) > maxRetryAfter || kyAfter > maxRetryAfter) return false;
        if (Number.isNaN(kyAfter) && statusCodes?.includes(status) !== false) return (await shouldRetry?.(state)) ?? true;
      }
      // A session that ended, a refused token, a non-replayable body, a redirect a DPoP proof may not follow (action
      // contact-support): running the auth path again cannot help.
      // Transient failures keep ky's default treatment (network failures retried for idempotent methods).
      if ((isAuthFetchError(error) && !isTransient(error)) || (error instanceof TypeError && !isHTTPError(error))) return false;
      return shouldRetry?.(state);
    },
  };
}

/**
 * Make `auth.http`: ky over the auth path, with the contract's retry policy. String URLs are resolved against the
 * prefix (`baseUrl`, or a derived instance's `prefixUrl`) before ky sees them, and ky's `HTTPError` becomes
 * authfetch's typed errors. `create` and `extend` return wrapped instances over the same auth path: `extend` keeps
 * the parent's defaults (ky's merge), `create` starts from `auth.http`'s own (the auth path, its timeout and retry
 * policy), never from ky's.
 * @param base `baseUrl`, resolved by `resolvePrefix`: relative paths are appended to it
 */
export function createKyInstance(
  authFetch: typeof fetch,
  retry: number | RetryOptions | undefined,
  base: string | undefined,
  errors: ErrorMapper,
  isRefreshFailure: (error: unknown) => boolean,
): KyInstance {
  const root = ky.create({
    fetch: authFetch,
    // The per-attempt timeout lives in the auth path: ky's would also cut requests held for a refresh or sign-in.
    timeout: false,
    retry: guardRetry(withDefaults(typeof retry === 'number' ? { limit: retry } : retry), isRefreshFailure),
    throwHttpErrors: true,
  });

  /**
   * Options as ky is given them, and the prefix they make: `prefixUrl` taken out (resolved against `parent`, since
   * ky would prefix absolute URLs too), a `retry` given as a number made an object (ky merges objects deeply, so the
   * guard set by the parent stays) and an app's own `shouldRetry` guarded. A `fetch` is refused: it would send around
   * the auth path, without a token. The common call (`{ json }`, ...) is handed on as it is.
   */
  const kyOptions = (options: Options, parent: string | undefined): [Options, string | undefined] => {
    if (!('prefixUrl' in options || 'fetch' in options || 'retry' in options)) return [options, parent];
    const { prefixUrl, ...rest } = options;
    const retry = rest.retry;
    if (rest.fetch !== undefined) throw new TypeError('authfetch: pass fetch to createAuthClient({ fetch }), not to auth.http');
    if (typeof retry === 'number') rest.retry = { limit: retry };
    else if (retry?.shouldRetry !== undefined) rest.retry = guardRetry(retry, isRefreshFailure);
    return [rest, prefixUrl ? resolveDerivedPrefix(prefixUrl, parent) : parent];
  };

  const wrap = (instance: KyInstance, prefix: string | undefined): KyInstance => {
    // `instance(input, { method })` is what ky's `instance.get(input)` and the others are.
    const wrapped = (<T>(input: Input, given: Options = {}): ResponsePromise<T> => {
      const [options, base] = kyOptions(given, prefix);
      const target = typeof input === 'string' ? resolveRequestUrl(input, base) : input;
      const mapError = async (error: unknown): Promise<never> => {
        // Failures of the auth path arrive typed already; what is left is ky's own (its TimeoutError, when an app
        // passes a per-call `timeout`), which carries the request.
        throw isHTTPError(error)
          ? await errors.forResponse(error.response, error.request)
          : errors.forFailure(error, (error as { request?: Request } | null)?.request ?? { method: 'GET', url: (target as Request).url ?? String(target) });
      };
      const original = instance<T>(target, options);
      const mapped = original.catch(mapError) as ResponsePromise<T>;
      // ky's body shortcuts (`json`, `text`, ...) are the own functions of the promise it returns.
      for (const [name, read] of Object.entries(original)) {
        if (typeof read === 'function') (mapped as unknown as Record<string, unknown>)[name] = () => (read as () => Promise<unknown>).call(original).catch(mapError);
      }
      // The app may use only `.json()`; the bare promise then rejects with nobody listening. Mark it handled
      // (awaiting it still throws).
      mapped.catch(() => undefined);
      return mapped;
    }) as KyInstance;
    for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head'] as const) {
      (wrapped as unknown as Record<string, unknown>)[method] = (input: Input, options?: Options) => wrapped(input, { ...options, method });
    }
    // `create` is `auth.http`'s own `extend`: from its defaults, never from this instance's.
    wrapped.create = (defaults: Options = {}) => top.extend(defaults);
    wrapped.extend = (defaults: Options | ((parent: Options) => Options)) => {
      let derivedPrefix = prefix;
      const derived = instance.extend((parent: Options) => {
        // The parent's prefix is shown to a function as ky would show it, as `prefixUrl`.
        const given = typeof defaults === 'function' ? defaults(prefix === undefined ? parent : { ...parent, prefixUrl: prefix }) : defaults;
        const [options, derivedFrom] = kyOptions(given, prefix);
        derivedPrefix = derivedFrom;
        return options;
      });
      return wrap(derived, derivedPrefix);
    };
    (wrapped as { stop: KyInstance['stop'] }).stop = instance.stop;
    (wrapped as { retry: KyInstance['retry'] }).retry = instance.retry;
    return wrapped;
  };
  const top = wrap(root, base);
  return top;
}
