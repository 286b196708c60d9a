/**
 * What the HTTP strategies share: calling an endpoint with the client's fetch and turning what comes back into
 * either a token set or the typed error that tells the coordinator whether to retry, report or end the session.
 */
import { errorFromFailure, errorFromResponse, isTransient, TokenResponseError } from '../errors/index.js';
import { normalizeTokens } from '../tokens.js';
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
  try {
    body = await response.json();
  } catch (cause) {
    throw new TokenResponseError(`The refresh endpoint answered ${response.status} with a body that is not JSON: ${describe(response)}`, {
      cause,
      status: response.status,
    });
  }
  return normalizeTokens(parse ? parse(body) : body, { receivedAt }, previous);
}

/** The typed error for a non-2xx refresh response whose meaning is not "rejected": 5xx, 429 and the rest. */
export async function tokenEndpointError(response: Response, method: string, url: string): Promise<Error> {
  const error = await errorFromResponse(response, { method, url });
  if (isTransient(error)) return error;
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
