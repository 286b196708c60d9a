/**
 * What the HTTP strategies share: calling an endpoint with the client's fetch and turning what comes back into
 * either a token set or the typed error that tells the coordinator whether to retry, report or end the session.
 */
import { errorFromFailure, errorFromResponse, TokenResponseError } from '../errors.js';
import { readBoundedText } from '../lib/bounded-body.js';
import { normalizeTokens } from '../tokens.js';

/** The most of a token response that is read (RFC 6749 section 5.1 responses are a few KiB, ID tokens included). */
export const MAX_TOKEN_RESPONSE_BYTES = 256 * 1024;
import type { TokenSet } from '../types.js';

/** Call a refresh endpoint; network failures and timeouts come back as `NetworkError` / `TimeoutError`. */
export async function callEndpoint(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (error) {
    throw errorFromFailure(error, { method: init.method ?? 'GET', url });
  }
}

/**
 * Read a successful token response: JSON with an `access_token`. Anything else is a `TokenResponseError`
 * (reported, not retried: an endpoint that answers HTML will answer HTML again).
 */
export async function readTokenResponse(
  response: Response,
  previous: TokenSet | undefined,
  parse?: (body: unknown) => unknown,
): Promise<TokenSet> {
  const receivedAt = Date.now();
  let body: unknown;
  let text: string | undefined;
  try {
    // Bounded: a token response is a few KiB; a server answering megabytes (or never stopping) is cut off.
    text = await readBoundedText(response, MAX_TOKEN_RESPONSE_BYTES);
    if (text !== undefined) body = JSON.parse(text);
  } catch (cause) {
    throw new TokenResponseError(`The refresh endpoint answered ${response.status} with a body that is not JSON: ${describe(response)}`, {
      cause,
      status: response.status,
    });
  }
  if (text === undefined) {
    throw new TokenResponseError(
      `The refresh endpoint answered more than ${MAX_TOKEN_RESPONSE_BYTES / 1024} KiB, too much for a token response: ${describe(response)}`,
      { status: response.status },
    );
  }
  return normalizeTokens(parse ? parse(body) : body, { receivedAt }, previous);
}

/** The typed error for a non-2xx refresh response whose meaning is not "rejected": 5xx, 429 and the rest. */
export async function refreshFailure(response: Response, method: string, url: string): Promise<Error> {
  const error = await errorFromResponse(response, { method, url });
  if (error.code === 'ERR_SERVER' || error.code === 'ERR_RATE_LIMITED') return error;
  return new TokenResponseError(`The refresh endpoint answered ${response.status}: ${describe(response)}`, {
    cause: error,
    status: response.status,
  });
}

/** Method and URL for messages, without the query string (which could carry secrets). */
export function describe(response: Response): string {
  try {
    const url = new URL(response.url);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the refresh endpoint';
  }
}

/** Read a JSON error body (`{ "error": "invalid_grant" }`) without ever throwing. */
export async function readOAuthError(response: Response): Promise<{ error?: string; description?: string }> {
  try {
    const body: unknown = await response.clone().json();
    if (typeof body === 'object' && body !== null) {
      const { error, error_description: description } = body as Record<string, unknown>;
      return {
        error: typeof error === 'string' ? error : undefined,
        description: typeof description === 'string' ? description : undefined,
      };
    }
  } catch {
    // Not JSON: no OAuth error code to read.
  }
  return {};
}
