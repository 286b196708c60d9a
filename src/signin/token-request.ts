/**
 * A request to the token endpoint with a DPoP proof when the client has a key (RFC 9449 section 5), the server's
 * `DPoP-Nonce` remembered, and one more try when it answers `use_dpop_nonce` (section 8): the server refuses such a
 * proof before it looks at the grant, so the code is still unused. (Refreshes go through `oauth2Refresh`, which does
 * the same for the refresh_token grant.)
 */
import type { Dpop } from '../dpop/types.js';
import { readErrorBody } from '../errors/body.js';
import { discardBody } from '../lib/discard-body.js';
import { safeOAuthError } from './failure.js';

/** How long the error answer of the token endpoint may take to arrive, in ms (it is read bounded, once). */
const ERROR_BODY_TIMEOUT_MS = 5_000;

/** The final response, and the OAuth `error` code of a non-2xx one (sanitised; its body has been read). */
export interface TokenAnswer {
  response: Response;
  error?: string;
}

/**
 * The OAuth `error` of an error answer (RFC 6749 section 5.2). The body is read once and bounded, not through a
 * clone: nobody reads it after this (happy-dom's `clone()` empties both copies; an unread tee can hang under msw).
 */
async function oauthErrorOf(response: Response): Promise<string | undefined> {
  const body = await readErrorBody(response, ERROR_BODY_TIMEOUT_MS, false);
  return safeOAuthError(typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined);
}

/** Send with `send(headers)`, retrying once on `use_dpop_nonce`. */
export async function tokenRequest(url: string, dpop: Dpop | undefined, send: (headers: Record<string, string>) => Promise<Response>): Promise<TokenAnswer> {
  for (let attempt = 0; ; attempt++) {
    const response = await send(dpop ? { dpop: await dpop.proof('POST', url) } : {});
    const nonce = response.headers.get('dpop-nonce');
    if (dpop && nonce) dpop.rememberNonce(url, nonce);
    if (response.ok) return { response };
    const error = await oauthErrorOf(response);
    if (!dpop || error !== 'use_dpop_nonce' || !nonce || attempt > 0) return { response, error };
    discardBody(response);
  }
}
