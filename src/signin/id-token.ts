/**
 * The claims behind `session.user`. An ID token is validated once, when it arrives (the code exchange, or a refresh:
 * src/signin/code-exchange.ts, src/signin/oidc.ts); after that it lives in the token storage with the rest of the
 * session, so reading the claims again (after a reload, or when another tab signed in) is a decode.
 */
import { decodeJwt } from 'jose';
import type { IdTokenClaims } from './types.js';

let lastToken: string | undefined;
let lastClaims: IdTokenClaims | undefined;

/** The claims of a stored ID token, or `undefined` when there is none or it cannot be read. Decoded once per token. */
export function idTokenClaims(idToken: string | undefined): IdTokenClaims | undefined {
  if (idToken === undefined) return undefined;
  if (idToken !== lastToken) {
    lastToken = idToken;
    try {
      const claims = decodeJwt(idToken) as Record<string, unknown>;
      lastClaims = typeof claims.sub === 'string' && typeof claims.iss === 'string' ? (Object.freeze(claims) as IdTokenClaims) : undefined;
    } catch {
      lastClaims = undefined;
    }
  }
  return lastClaims;
}
