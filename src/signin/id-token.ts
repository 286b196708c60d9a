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

/**
 * Whether a refreshed ID token continues the session of the one it replaces (OIDC Core 12.2): the same issuer,
 * subject and audience, and not expired. The token comes straight from the token endpoint over TLS, so its claims,
 * not its signature, are what is checked (as at sign-in, OIDC Core 3.1.3.7 step 6). No new ID token: nothing to check.
 */
export function continuesSession(previous: string | undefined, next: string | undefined): boolean {
  if (next === undefined || next === previous) return true;
  const before = idTokenClaims(previous);
  const after = idTokenClaims(next);
  if (!after || typeof after.exp !== 'number' || after.exp * 1000 <= Date.now()) return false;
  if (!before) return true;
  return after.iss === before.iss && after.sub === before.sub && JSON.stringify(after.aud) === JSON.stringify(before.aud);
}
