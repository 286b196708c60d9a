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
import { isRefusedRedirect } from './auth-path/redirect.js';
import { resolveDerivedPrefix, resolveRequestUrl } from './auth-path/url.js';

/** The contract's retry default: 2 retries of idempotent requests on network errors, 408, 429 and 5xx. */
export const DEFAULT_RETRY: Required<Pick<RetryOptions, 'limit' | 'methods' | 'statusCodes' | 'afterStatusCodes'>> = {
  limit: 2,
  methods: ['get', 'put', 'head', 'delete', 'options', 'trace'],
  // ky's default also retries 413, which is not transient.
  statusCodes: [408, 429, 500, 502, 503, 504],
  afterStatusCodes: [429, 503],
};

/** The longest `Retry-After` honoured unless `retry.maxRetryAfter` says otherwise, in ms. */
export const DEFAULT_MAX_RETRY_AFTER = 60_000;

/** The guard every `shouldRetry` of `auth.http` goes through, the app's own included. */
function guardShouldRetry(options: RetryOptions, isRefreshFailure: (error: unknown) => boolean): NonNullable<RetryOptions['shouldRetry']> {
  const userShouldRetry = options.shouldRetry;
  return async (state) => {
    const { error } = state;
    if (isRefreshFailure(error) || isRefusedRedirect(error)) return false;
    // ky only caps a long Retry-After at maxRetryAfter and waits that long; a server asking for longer than that
    // gets its error handed to the app now (RFC 9110 section 10.2.3).
    if (isHTTPError(error) && options.afterStatusCodes?.includes(error.response.status)) {
      const max = options.maxRetryAfter ?? DEFAULT_MAX_RETRY_AFTER;
      const after = retryAfterFrom(error.response.headers);
      if (after !== undefined && after > max) return false;
      // ky reads more headers than Retry-After, and more forms (`1e3`, `Infinity`); and a hint it cannot read
      // (`abc`) makes it wait the whole maxRetryAfter. Beyond the limit: give up now. Unreadable: ignore the hint
      // (RFC 9110 section 10.2.3 knows only delta-seconds and an HTTP-date), which `true` does (ky's backoff).
      const kyAfter = kyRetryDelayMs(error.response.headers);
      if (kyAfter !== undefined && kyAfter > max) return false;
      if (kyAfter !== undefined && Number.isNaN(kyAfter) && options.statusCodes?.includes(error.response.status) !== false) {
        return userShouldRetry ? ((await userShouldRetry(state)) ?? true) : true;
      }
    }
    // A session that ended, a refused token, a non-replayable body: running the auth path again cannot help.
    // Transient failures keep ky's default treatment (network failures retried for idempotent methods).
    if (isAuthFetchError(error) && !isTransient(error)) return false;
    if (error instanceof TypeError && !isHTTPError(error)) return false;
    return userShouldRetry ? userShouldRetry(state) : undefined;
  };
}

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
  const options: RetryOptions = { ...DEFAULT_RETRY, maxRetryAfter: DEFAULT_MAX_RETRY_AFTER, ...given };
  return { ...options, shouldRetry: guardShouldRetry(options, isRefreshFailure) };
}

const BODY_METHODS = ['json', 'text', 'formData', 'arrayBuffer', 'blob', 'bytes'] as const;

/** What every instance derived from `auth.http` shares with it. */
interface HttpContext {
  /** `auth.http`'s own ky instance: `create()` starts from it, so the auth path and its defaults stay. */
  root: KyInstance;
  /** `baseUrl`, resolved (see `resolvePrefix`): the prefix of `auth.http` and of instances without a `prefixUrl`. */
  base: string | undefined;
  errors: ErrorMapper;
  isRefreshFailure: (error: unknown) => boolean;
}

/** Whether options carry something {@link kyOptions} changes; the common call (`{ json }`, ...) does not. */
function needsRewrite(options: Options): boolean {
  const retry = options.retry;
  return options.prefixUrl !== undefined || options.fetch !== undefined || typeof retry === 'number' || retry?.shouldRetry !== undefined;
}

/**
 * Options as ky is given them: `prefixUrl` taken out (this module applies it, since ky would prefix absolute URLs
 * too), a `retry` given as a number made an object (ky merges objects deeply, so the guard set by the parent stays)
 * and an app's own `shouldRetry` guarded. A `fetch` is refused: it would send around the auth path, without a token.
 */
function kyOptions(options: Options, context: HttpContext): { options: Options; prefixUrl?: string | URL } {
  if (!needsRewrite(options)) return { options };
  const { prefixUrl, ...rest } = options;
  if (rest.fetch !== undefined) {
    throw new TypeError('authfetch: auth.http sends through the auth path; pass your own fetch to createAuthClient({ fetch })');
  }
  const retry = rest.retry;
  if (typeof retry === 'number') rest.retry = { limit: retry };
  else if (retry?.shouldRetry !== undefined) rest.retry = {
      ...retry,
      shouldRetry: guardShouldRetry({ ...DEFAULT_RETRY, maxRetryAfter: DEFAULT_MAX_RETRY_AFTER, ...retry }, context.isRefreshFailure),
    };
  return { options: rest, prefixUrl };
}

/**
 * Wrap a ky instance: resolve string URLs against `prefix` (`baseUrl`, or a `prefixUrl` of a derived instance) before
 * ky sees them, and turn ky's `HTTPError` into authfetch's typed errors. `create` and `extend` return wrapped
 * instances over the same auth path: `extend` keeps the parent's defaults (ky's merge), `create` starts from
 * `auth.http`'s own (the auth path, its timeout and retry policy), never from ky's.
 */
function wrapKy(instance: KyInstance, prefix: string | undefined, context: HttpContext): KyInstance {
  const { errors } = context;
  const mapError = async (error: unknown, target: Input): Promise<never> => {
    if (isHTTPError(error)) {
      throw await errors.forResponse(error.response, { method: error.request.method, url: error.request.url });
    }
    // Failures of the auth path arrive typed already; what is left is ky's own (its TimeoutError, when an app
    // passes a per-call `timeout`), which carries the request.
    const request = (error as { request?: Request } | null)?.request;
    const url = request?.url ?? (target instanceof Request ? target.url : String(target));
    throw errors.forFailure(error, { method: request?.method ?? 'GET', url });
  };

  const call = <T>(method: keyof KyInstance | undefined, input: Input, given?: Options): ResponsePromise<T> => {
    let options = given;
    let base = prefix;
    if (given !== undefined && needsRewrite(given)) {
      const split = kyOptions(given, context);
      options = split.options;
      if (split.prefixUrl !== undefined && split.prefixUrl !== '') base = resolveDerivedPrefix(split.prefixUrl, prefix);
    }
    const target = typeof input === 'string' ? resolveRequestUrl(input, base) : input;
    const original = (method ? (instance[method] as KyInstance) : instance)<T>(target, options);
    const mapped = original.then(undefined, (error: unknown) => mapError(error, target)) as ResponsePromise<T>;
    for (const name of BODY_METHODS) {
      if (typeof (original as unknown as Record<string, unknown>)[name] !== 'function') continue;
      const body = () => (original[name] as () => Promise<unknown>)().then(undefined, (error: unknown) => mapError(error, target));
      (mapped as unknown as Record<string, unknown>)[name] = body;
    }
    // The app may use only `.json()`; the bare promise then rejects with nobody listening. Mark it handled
    // (awaiting it still throws).
    mapped.catch(() => undefined);
    return mapped;
  };

  /** The prefix a derived instance uses: its own `prefixUrl` (resolved against the one it derives from), else that one. */
  const prefixOf = (prefixUrl: string | URL | undefined, parent: string | undefined) =>
    prefixUrl === undefined || prefixUrl === '' ? parent : resolveDerivedPrefix(prefixUrl, parent);

  const wrapped = (<T>(input: Input, options?: Options) => call<T>(undefined, input, options)) as KyInstance;
  for (const method of ['get', 'post', 'put', 'patch', 'delete', 'head'] as const) {
    (wrapped as unknown as Record<string, unknown>)[method] = <T>(input: Input, options?: Options) => call<T>(method, input, options);
  }
  wrapped.create = (defaults: Options = {}) => {
    const split = kyOptions(defaults, context);
    return wrapKy(context.root.extend(split.options), prefixOf(split.prefixUrl, context.base), context);
  };
  wrapped.extend = (defaults: Options | ((parent: Options) => Options)) => {
    let derivedPrefix = prefix;
    const derived = instance.extend((parent: Options) => {
      // The parent's prefix is shown to a function as ky would show it, as `prefixUrl`.
      const given = typeof defaults === 'function' ? defaults(prefix === undefined ? parent : { ...parent, prefixUrl: prefix }) : defaults;
      const split = kyOptions(given, context);
      derivedPrefix = prefixOf(split.prefixUrl, prefix);
      return split.options;
    });
    return wrapKy(derived, derivedPrefix, context);
  };
  (wrapped as { stop: KyInstance['stop'] }).stop = instance.stop;
  (wrapped as { retry: KyInstance['retry'] }).retry = instance.retry;
  return wrapped;
}

/**
 * Make `auth.http`: ky over the auth path, with the contract's retry policy.
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
    retry: retryOptions(retry, isRefreshFailure),
    throwHttpErrors: true,
  });
  return wrapKy(root, base, { root, base, errors, isRefreshFailure });
}
