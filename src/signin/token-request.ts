/**
 * A request to the token endpoint with a DPoP proof when the client has a key (RFC 9449 section 5), the server's
 * `DPoP-Nonce` remembered, and one more try when it answers `use_dpop_nonce` (section 8): the server refuses such a
 * proof before it looks at the grant, so the code is still unused. (Refreshes go through `oauth2Refresh`, which does
 * the same for the refresh_token grant.)
 */
import type { Dpop } from '../dpop/types.js';
import { safeOAuthError } from './failure.js';

/** The final response, and the OAuth `error` code of a non-2xx one (sanitised). */
export interface TokenAnswer {
  response: Response;
  error?: string;
}

async function oauthErrorOf(response: Response): Promise<string | undefined> {
  try {
    const body: unknown = await response.clone().json();
    return safeOAuthError((body as { error?: unknown } | null)?.error);
  } catch {
    return undefined;
  }
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
    await response.body?.cancel();
  }
}
