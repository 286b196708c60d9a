/**
 * The ID token: validated once, when it arrives (the code exchange, src/signin/code-exchange.ts, and a refresh,
 * src/signin/oidc.ts); after that it lives in the token storage with the rest of the session, so reading the claims
 * again (after a reload, or when another tab signed in) is a decode.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { SignInError } from '../errors/index.js';
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

/** What the ID token of a code exchange must match. */
export interface IdTokenExpectations {
  issuer: string;
  clientId: string;
  nonce: string;
  /** The `max_age` sent: `auth_time` must then be recent enough (OIDC Core 3.1.3.7 step 11). */
  maxAge?: number;
  /** The provider's `id_token_signing_alg_values_supported`; RS256 where it publishes no list (OIDC Discovery 3). */
  algorithms?: unknown;
}

/** Leeway for the time claims, in seconds: the provider's clock and this one disagree a little. */
const CLOCK_TOLERANCE_S = 30;

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Validate the ID token of a code exchange (OIDC Core 3.1.3.7): `alg`, `iss`, `sub`, `aud` (with `azp` for several
 * audiences), `exp`, `iat`, `nbf`, `nonce` and `auth_time`. It comes straight from the token endpoint over TLS, so
 * its claims, not its signature, are what is checked (step 6). A failure is `SignInError` `invalid-response`, naming
 * the claim.
 */
export function checkIdToken(idToken: unknown, expected: IdTokenExpectations): void {
  let header: Record<string, unknown>;
  let claims: Record<string, unknown>;
  try {
    header = decodeProtectedHeader(idToken as string);
    claims = decodeJwt(idToken as string);
  } catch (cause) {
    throw invalidResponse('id_token', cause);
  }
  const { aud, exp, nbf, auth_time: authTime } = claims;
  const { clientId, maxAge, algorithms } = expected;
  const now = Math.floor(Date.now() / 1000);
  const checks: Record<string, boolean> = {
    // Not a list (a string would match by substring, `'RS256'.includes('RS')`): RS256 only, as oauth4webapi did.
    alg: (Array.isArray(algorithms) ? algorithms : ['RS256']).includes(header.alg) && header.crit === undefined,
    iss: claims.iss === expected.issuer,
    sub: typeof claims.sub === 'string',
    aud: Array.isArray(aud) ? aud.includes(clientId) && (aud.length === 1 || claims.azp === clientId) : aud === clientId,
    exp: isTime(exp) && exp > now - CLOCK_TOLERANCE_S,
    iat: typeof claims.iat === 'number',
    nbf: nbf === undefined || (typeof nbf === 'number' && nbf <= now + CLOCK_TOLERANCE_S),
    nonce: claims.nonce === expected.nonce,
    // A maxAge that is no number (an untyped app's '60' would concatenate) is refused, as oauth4webapi refused it.
    auth_time: authTime === undefined ? maxAge === undefined : isTime(authTime) && (maxAge === undefined || (isTime(maxAge) && authTime + maxAge >= now - CLOCK_TOLERANCE_S)),
  };
  for (const claim in checks) if (!checks[claim]) throw invalidResponse(claim);
}

/** The token response or the ID token in it is unusable; `what` names the member or claim (never its value). */
export function invalidResponse(what: string, cause?: unknown): SignInError {
  return new SignInError(`The sign-in response is invalid (${what})`, { reason: 'invalid-response', cause });
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
