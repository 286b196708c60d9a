/**
 * What the client reads from a token set's JWTs without verifying them (it is not the audience of the access token,
 * and an ID token was validated at sign-in): who the user is, and how long the access token lives. Neither read
 * ever throws; an opaque token simply has no answer.
 */
import { decodeJwt, type JWTPayload } from 'jose';
import type { TokenSet } from '../types.js';

function claimsOf(jwt: string | undefined): JWTPayload | undefined {
  try {
    return jwt ? decodeJwt(jwt) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The user a token set belongs to: the ID token's `sub` (OIDC Core 2: the stable identifier of the end-user), else
 * the access token's `sub` where it is a JWT (RFC 9068 section 2.2), else `undefined`.
 */
export function subjectOf(tokens: TokenSet | undefined): string | undefined {
  const sub = claimsOf(tokens?.idToken)?.sub ?? claimsOf(tokens?.accessToken)?.sub;
  return typeof sub === 'string' && sub ? sub : undefined;
}

/**
 * Whether two token sets may belong to the same user: `false` only when both users are known and differ. A session
 * with opaque tokens and no ID token cannot tell users apart, so it never refuses on this ground.
 */
export function maySameUser(a: TokenSet | undefined, b: TokenSet | undefined): boolean {
  const first = subjectOf(a);
  const second = subjectOf(b);
  return !first || !second || first === second;
}

/** The lifetime a JWT access token was issued with (`exp - iat`, RFC 7519 section 4.1.4 and 4.1.6), in ms. */
export function jwtLifetimeMs(accessToken: string): number | undefined {
  const { exp, iat } = claimsOf(accessToken) ?? {};
  const lifetime = typeof exp === 'number' && typeof iat === 'number' ? (exp - iat) * 1000 : NaN;
  return lifetime > 0 && lifetime < Infinity ? lifetime : undefined;
}
