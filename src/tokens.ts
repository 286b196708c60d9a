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

/**
 * An access token as it must be to go in an `Authorization` header: RFC 6750 section 2.1's `b64token` (the `token68`
 * of RFC 9110 section 11.2, which RFC 9449 section 7.1 uses for DPoP too). Anything else (CR/LF, spaces, controls,
 * non-ASCII) would make fetch throw at send time, or split the header.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 6749 appendix A: refresh tokens, ID tokens, scopes and token types are visible ASCII (`VSCHAR`, and spaces). */
const VISIBLE_ASCII = /^[\x20-\x7E]+$/;
/** The largest time a `Date` can hold (ECMAScript section 21.4.1.22): a later "expiry" is no time at all. */
const MAX_TIME_MS = 8.64e15;
/** March 1973 in epoch ms: an `expiresAt` below it is seconds (or nonsense), not a time a token could expire at. */
const MIN_PLAUSIBLE_EXPIRY_MS = 1e11;

/** An optional member of a token set: absent, empty (as older versions stored it), or visible ASCII. */
const isOptionalVisible = (value: unknown): boolean =>
  value === undefined || (typeof value === 'string' && (value === '' || VISIBLE_ASCII.test(value)));

/** `record[key]` if it is an own property (never one inherited through a crafted prototype), else `undefined`. */
const own = (record: Record<string, unknown>, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);

/** Whether an epoch-ms expiry is a real point in time. */
const isUsableTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= MAX_TIME_MS;

/**
 * What is wrong with a token set, in words that never quote a value (a token must not reach a message), or
 * `undefined` when it is usable. One check for storage reads, `login()` and refresh results.
 */
export function tokenSetProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not an object';
  const v = value as Record<string, unknown>;
  const accessToken = own(v, 'accessToken');
  if (typeof accessToken !== 'string' || accessToken === '') return 'accessToken must be a non-empty string';
  if (!B64TOKEN.test(accessToken)) return 'accessToken is not a valid header value (RFC 6750 b64token)';
  for (const key of ['refreshToken', 'idToken', 'scope', 'tokenType'] as const) {
    if (!isOptionalVisible(own(v, key))) return `${key} must be a string of visible ASCII characters`;
  }
  const expiresAt = own(v, 'expiresAt');
  if (expiresAt !== undefined && !isUsableTime(expiresAt)) return 'expiresAt is not a finite time';
  // Seconds where milliseconds belong (a JWT `exp`, `Date.now() / 1000`): a time in January 1970 would read as long
  // expired and make every request refresh first. No real expiry is before 1973 (1e11 ms).
  if (typeof expiresAt === 'number' && expiresAt < MIN_PLAUSIBLE_EXPIRY_MS) {
    return 'expiresAt must be epoch milliseconds (this value looks like seconds)';
  }
  return undefined;
}

/**
 * Whether a value is a usable token set. Storage uses it so that a corrupted or older-shaped value reads as
 * "signed out" instead of being thrown at the app.
 */
export function isTokenSet(value: unknown): value is TokenSet {
  return tokenSetProblem(value) === undefined;
}

/**
 * `expires_in` (RFC 6749 section 5.1: seconds, a JSON number; some servers send a numeric string) as a number of
 * seconds, `undefined` when absent, or `NaN` when it is something else.
 */
function expiresInSeconds(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
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
  // Members are read as own properties only: a response (or an app's parse) with a crafted prototype or a
  // `__proto__` member cannot smuggle in a token, and the token set built here is a fresh plain object.
  if (Object.hasOwn(raw, 'accessToken')) {
    const problem = tokenSetProblem(raw);
    if (problem !== undefined) throw new TokenResponseError(`The token set is unusable: ${problem}`);
    tokens = {
      accessToken: own(raw, 'accessToken') as string,
      refreshToken: own(raw, 'refreshToken') as string | undefined,
      idToken: own(raw, 'idToken') as string | undefined,
      expiresAt: own(raw, 'expiresAt') as number | undefined,
      scope: own(raw, 'scope') as string | undefined,
      tokenType: own(raw, 'tokenType') as string | undefined,
    };
  } else {
    const accessToken = own(raw, 'access_token');
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new TokenResponseError('The token response has no access_token');
    }
    if (!B64TOKEN.test(accessToken)) {
      throw new TokenResponseError('The token response has an access_token that is not a valid header value (RFC 6750 b64token)');
    }
    const optional = (key: string): string | undefined => {
      const value = own(raw, key);
      if (value === undefined || value === null || value === '') return undefined;
      if (typeof value !== 'string' || !VISIBLE_ASCII.test(value)) {
        throw new TokenResponseError(`The token response has a ${key} that is not a string of visible ASCII characters`);
      }
      return value;
    };
    // RFC 6749 section 5.1: expires_in counts from when the response was issued, here when it arrived.
    const expiresIn = expiresInSeconds(own(raw, 'expires_in'));
    const expiresAt = expiresIn === undefined ? undefined : receivedAt + expiresIn * 1000;
    // Negative, NaN, or so large that the expiry is no time at all (1e306 s is Infinity ms): refused, not stored.
    if (expiresIn !== undefined && (!(expiresIn >= 0) || !isUsableTime(expiresAt))) {
      throw new TokenResponseError('The token response has an expires_in that is not a usable number of seconds');
    }
    tokens = {
      accessToken,
      refreshToken: optional('refresh_token'),
      idToken: optional('id_token'),
      scope: optional('scope'),
      tokenType: optional('token_type'),
      expiresAt,
    };
  }
  // RFC 6749 section 6: the server MAY issue a new refresh token; when it does not, the old one stays valid.
  if (tokens.refreshToken === undefined && previous?.refreshToken !== undefined) {
    tokens.refreshToken = previous.refreshToken;
  }
  if (tokens.idToken === undefined && previous?.idToken !== undefined) tokens.idToken = previous.idToken;
  return copyTokenSet(tokens);
}

/**
 * A copy of a token set holding only the `TokenSet` fields that are set, so that the caller mutating its object (or
 * the one it got back) never changes what is stored, and so that IndexedDB is only ever asked to clone plain data.
 * Anything that is not an object is returned as is: reads validate with `isTokenSet` and treat it as signed out.
 * @internal
 */
export function copyTokenSet(tokens: TokenSet): TokenSet {
  if (typeof tokens !== 'object' || tokens === null) return tokens;
  const copy: TokenSet = { accessToken: tokens.accessToken };
  if (tokens.refreshToken !== undefined) copy.refreshToken = tokens.refreshToken;
  if (tokens.idToken !== undefined) copy.idToken = tokens.idToken;
  if (tokens.expiresAt !== undefined) copy.expiresAt = tokens.expiresAt;
  if (tokens.scope !== undefined) copy.scope = tokens.scope;
  if (tokens.tokenType !== undefined) copy.tokenType = tokens.tokenType;
  return copy;
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
