/**
 * Token sets: normalising what sign-in and token endpoints return, validating what storage hands back,
 * and judging expiry against the server's clock.
 */
import { decodeJwt } from 'jose';
import { TokenResponseError } from './errors/index.js';
import type { TokenSet } from './types.js';

/**
 * A raw OAuth 2 token response (RFC 6749 section 5.1), as a sign-in or token endpoint returns it. Other members a
 * server adds are ignored at run time. No index signature: with one, an app's own token-response `interface` (which
 * has no index signature) could not be passed to `login()`.
 */
export interface OAuthTokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number | string;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
}

/** Where the number that turns `expires_in` into `expiresAt` comes from. */
export interface NormalizeContext {
  /** Local time (epoch ms) when the token response arrived; `expires_in` counts from here (RFC 6749 5.1). */
  receivedAt?: number;
}

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isOptionalString = (value: unknown): boolean => value === undefined || typeof value === 'string';

/**
 * Whether a value is a usable token set. Storage uses it so that a corrupted or older-shaped value reads as
 * "signed out" instead of being thrown at the app.
 */
export function isTokenSet(value: unknown): value is TokenSet {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    isNonEmptyString(v.accessToken) &&
    isOptionalString(v.refreshToken) &&
    isOptionalString(v.idToken) &&
    isOptionalString(v.scope) &&
    isOptionalString(v.tokenType) &&
    (v.expiresAt === undefined || (typeof v.expiresAt === 'number' && Number.isFinite(v.expiresAt)))
  );
}

/**
 * The expiry of a JWT access token (its `exp`) in local epoch ms, or `undefined` when the token is not a JWT
 * or has no numeric `exp`. Opaque tokens are normal; this never throws.
 */
export function jwtExpiry(accessToken: string, clockOffsetMs = 0): number | undefined {
  try {
    const { exp } = decodeJwt(accessToken);
    // exp is in the server's clock; subtract the offset so that it compares with Date.now() here.
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 - clockOffsetMs : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turn a `TokenSet` or a raw OAuth token response into a clean `TokenSet`, with `expiresAt` from `expires_in`
 * counted from arrival. A JWT `exp` is not copied in here: it is in the server's clock, so `tokenExpiry` reads it
 * with the clock offset known at the moment of the check (the offset may be learnt only later). Throws `TokenResponseError` when there is
 * no access token: the caller reports it, it never reaches the app as an uncaught exception.
 *
 * @param previous the token set being replaced: a refresh response without a new refresh token keeps the old one.
 */
export function normalizeTokens(input: unknown, context: NormalizeContext = {}, previous?: TokenSet): TokenSet {
  if (typeof input !== 'object' || input === null) {
    throw new TokenResponseError('The token response is not an object');
  }
  const raw = input as Record<string, unknown>;
  const receivedAt = context.receivedAt ?? Date.now();
  let tokens: TokenSet;
  if ('accessToken' in raw) {
    if (!isTokenSet(raw)) throw new TokenResponseError('The token set is malformed (accessToken must be a non-empty string)');
    tokens = {
      accessToken: raw.accessToken,
      refreshToken: raw.refreshToken,
      idToken: raw.idToken,
      expiresAt: raw.expiresAt,
      scope: raw.scope,
      tokenType: raw.tokenType,
    };
  } else {
    if (!isNonEmptyString(raw.access_token)) {
      throw new TokenResponseError('The token response has no access_token');
    }
    const expiresIn = typeof raw.expires_in === 'string' ? Number(raw.expires_in) : raw.expires_in;
    tokens = {
      accessToken: raw.access_token,
      refreshToken: isNonEmptyString(raw.refresh_token) ? raw.refresh_token : undefined,
      idToken: isNonEmptyString(raw.id_token) ? raw.id_token : undefined,
      scope: isNonEmptyString(raw.scope) ? raw.scope : undefined,
      tokenType: isNonEmptyString(raw.token_type) ? raw.token_type : undefined,
      expiresAt:
        typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn >= 0
          ? receivedAt + expiresIn * 1000
          : undefined,
    };
  }
  // RFC 6749 section 6: the server MAY issue a new refresh token; when it does not, the old one stays valid.
  if (tokens.refreshToken === undefined && previous?.refreshToken !== undefined) {
    tokens.refreshToken = previous.refreshToken;
  }
  if (tokens.idToken === undefined && previous?.idToken !== undefined) tokens.idToken = previous.idToken;
  return dropUndefined(tokens);
}

function dropUndefined(tokens: TokenSet): TokenSet {
  const out: TokenSet = { accessToken: tokens.accessToken };
  if (tokens.refreshToken !== undefined) out.refreshToken = tokens.refreshToken;
  if (tokens.idToken !== undefined) out.idToken = tokens.idToken;
  if (tokens.expiresAt !== undefined) out.expiresAt = tokens.expiresAt;
  if (tokens.scope !== undefined) out.scope = tokens.scope;
  if (tokens.tokenType !== undefined) out.tokenType = tokens.tokenType;
  return out;
}

/**
 * Parse an HTTP `Date` header into "server clock minus local clock" in ms, or `undefined` when absent or
 * unreadable. `Date` has one-second resolution, so offsets under a second are noise and read as 0.
 */
export function clockOffsetFromDate(dateHeader: string | null, localNow = Date.now()): number | undefined {
  if (!dateHeader) return undefined;
  const serverNow = Date.parse(dateHeader);
  if (Number.isNaN(serverNow)) return undefined;
  const offset = serverNow - localNow;
  return Math.abs(offset) < 1500 ? 0 : offset;
}

let lastExpiryToken: string | undefined;
let lastJwtExp: number | undefined;

/**
 * When the access token expires, in local epoch ms: `expiresAt` when known (it came from `expires_in`, which is
 * immune to clock skew), else the JWT `exp` shifted by the server clock offset. `undefined` when unknown.
 * The JWT is decoded once per token (a one-entry cache), since this runs before every request.
 */
export function tokenExpiry(tokens: TokenSet, clockOffsetMs: number): number | undefined {
  if (tokens.expiresAt !== undefined) return tokens.expiresAt;
  if (tokens.accessToken !== lastExpiryToken) {
    lastExpiryToken = tokens.accessToken;
    lastJwtExp = jwtExpiry(tokens.accessToken, 0);
  }
  return lastJwtExp === undefined ? undefined : lastJwtExp - clockOffsetMs;
}
