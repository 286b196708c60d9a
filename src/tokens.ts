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

/**
 * An access token as it must be to go in an `Authorization` header: RFC 6750 section 2.1's `b64token` (the `token68`
 * of RFC 9110 section 11.2, which RFC 9449 section 7.1 uses for DPoP too). Anything else (CR/LF, spaces, controls,
 * non-ASCII) would make fetch throw at send time, or split the header.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 6749 appendix A: refresh tokens, ID tokens, scopes and token types are visible ASCII (`VSCHAR`, and spaces). */
const VISIBLE_ASCII = /^[\x20-\x7E]*$/;

/** What a token must be, and an optional member, in the messages (which never quote a value). */
const B64TOKEN_TEXT = 'a valid header value (RFC 6750 b64token)';
const VISIBLE_TEXT = 'a string of visible ASCII characters';

/** The optional string members of a token set, each with its name in an OAuth token response (RFC 6749 5.1). */
const OPTIONAL = { refreshToken: 'refresh_token', idToken: 'id_token', scope: 'scope', tokenType: 'token_type' } as const;

/** `record[key]` if it is an own property (never one inherited through a crafted prototype), else `undefined`. */
const own = (record: Record<string, unknown>, key: string): unknown => (Object.hasOwn(record, key) ? record[key] : undefined);

/**
 * Whether an epoch-ms expiry is a real point in time: finite and within what a `Date` can hold (ECMAScript
 * section 21.4.1.22; a later "expiry" is no time at all).
 */
const isUsableTime = (value: unknown): value is number => typeof value === 'number' && Math.abs(value) <= 8.64e15;

/**
 * What is wrong with a token set, in words that never quote a value (a token must not reach a message), or
 * `undefined` when it is usable. One check for storage reads, `login()` and refresh results.
 */
function tokenSetProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'it is not an object';
  const v = value as Record<string, unknown>;
  const accessToken = own(v, 'accessToken');
  if (typeof accessToken !== 'string' || accessToken === '') return 'accessToken must be a non-empty string';
  if (!B64TOKEN.test(accessToken)) return `accessToken is not ${B64TOKEN_TEXT}`;
  for (const key in OPTIONAL) {
    // Absent, empty (as older versions stored it), or visible ASCII.
    const member = own(v, key);
    if (member !== undefined && (typeof member !== 'string' || !VISIBLE_ASCII.test(member))) return `${key} must be ${VISIBLE_TEXT}`;
  }
  const expiresAt = own(v, 'expiresAt');
  if (expiresAt !== undefined && !isUsableTime(expiresAt)) return 'expiresAt is not a finite time';
  // Seconds where milliseconds belong (a JWT `exp`, `Date.now() / 1000`): a time in January 1970 would read as long
  // expired and make every request refresh first. No real expiry is before March 1973 (1e11 ms).
  if (expiresAt !== undefined && expiresAt < 1e11) return 'expiresAt must be epoch milliseconds (this value looks like seconds)';
  return undefined;
}

/**
 * Whether a value is a usable token set. Storage uses it so that a corrupted or older-shaped value reads as
 * "signed out" instead of being thrown at the app.
 */
export function isTokenSet(value: unknown): value is TokenSet {
  return tokenSetProblem(value) === undefined;
}

/** The error for a token response that cannot become a token set; `what` never quotes a value. */
const unusable = (what: string) => new TokenResponseError(`The token response ${what}`);

/**
 * Turn a `TokenSet` or a raw OAuth token response into a clean `TokenSet`, with `expiresAt` from `expires_in`
 * counted from arrival. A JWT `exp` is not copied in here: it is in the server's clock, so `tokenExpiry` reads it
 * with the clock offset known at the moment of the check (the offset may be learnt only later). Throws
 * `TokenResponseError` when there is no access token: the caller reports it, it never reaches the app as an uncaught
 * exception.
 *
 * @param receivedAt local time (epoch ms) when the token response arrived; `expires_in` counts from here (RFC 6749
 *   section 5.1). Default: now.
 * @param previous the token set being replaced: a refresh response without a new refresh token keeps the old one.
 * @param wireOnly the input is an OAuth token endpoint's answer (RFC 6749 section 5.1): only its snake_case members
 *   count, so a server cannot hand over a whole `TokenSet` (an `idToken` no check has seen) as `accessToken` & co.
 */
export function normalizeTokens(input: unknown, receivedAt = Date.now(), previous?: TokenSet, wireOnly = false): TokenSet {
  if (typeof input !== 'object' || input === null) throw unusable('is not an object');
  // Members are read as own properties only: a response (or an app's parse) with a crafted prototype or a
  // `__proto__` member cannot smuggle in a token, and the token set built here is a fresh plain object.
  const raw = input as Record<string, unknown>;
  let tokens: Record<string, unknown>;
  if (!wireOnly && Object.hasOwn(raw, 'accessToken')) {
    const problem = tokenSetProblem(raw);
    if (problem) throw new TokenResponseError(`The token set is unusable: ${problem}`);
    tokens = raw;
  } else {
    const accessToken = own(raw, 'access_token');
    if (typeof accessToken !== 'string' || accessToken === '') throw unusable('has no access_token');
    if (!B64TOKEN.test(accessToken)) throw unusable(`has an access_token that is not ${B64TOKEN_TEXT}`);
    tokens = { accessToken };
    for (const [key, name] of Object.entries(OPTIONAL)) {
      const value = own(raw, name) ?? undefined;
      if (value !== undefined && (typeof value !== 'string' || !VISIBLE_ASCII.test(value))) {
        throw unusable(`has a ${name} that is not ${VISIBLE_TEXT}`);
      }
      tokens[key] = value || undefined;
    }
    // RFC 6749 section 5.1: expires_in (seconds, a JSON number; some servers send a numeric string) counts from when
    // the response was issued, here when it arrived.
    const expiresIn = own(raw, 'expires_in') ?? undefined;
    if (expiresIn !== undefined) {
      const seconds = typeof expiresIn === 'number' || (typeof expiresIn === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(expiresIn)) ? Number(expiresIn) : Number.NaN;
      const expiresAt = receivedAt + seconds * 1000;
      // Negative, NaN, or so large that the expiry is no time at all (1e306 s is Infinity ms): refused, not stored.
      if (!(seconds >= 0) || !isUsableTime(expiresAt)) throw unusable('has an expires_in that is not a usable number of seconds');
      tokens.expiresAt = expiresAt;
    }
  }
  return copyTokenSet(tokens as unknown as TokenSet, previous);
}

/** The members of a token set, in the order a copy lists them. */
const MEMBERS = ['accessToken', 'refreshToken', 'idToken', 'expiresAt', 'scope', 'tokenType'] as const;

/**
 * A copy of a token set holding only the `TokenSet` fields that are set (own properties, as validated), so that the caller
 * mutating its object (or the one it got back) never changes what is stored, and so that IndexedDB is only ever
 * asked to clone plain data. Anything that is not an object is returned as is: reads validate with `isTokenSet` and
 * treat it as signed out.
 * @param previous normalising a refresh response: the token set it replaces
 * @internal
 */
export function copyTokenSet(tokens: TokenSet, previous?: TokenSet): TokenSet {
  if (typeof tokens !== 'object' || tokens === null) return tokens;
  const copy: Record<string, unknown> = {};
  for (const key of MEMBERS) {
    // RFC 6749 section 6: the server MAY issue a new refresh token; when it does not, the old one stays valid (and
    // so does the ID token).
    const value = own(tokens as unknown as Record<string, unknown>, key) ?? (key === 'refreshToken' || key === 'idToken' ? previous?.[key] : undefined);
    if (value !== undefined) copy[key] = value;
  }
  return copy as unknown as TokenSet;
}

let lastExpiryToken: string | undefined;
let lastJwtExp: number | undefined;

/**
 * When the access token expires, in local epoch ms: `expiresAt` when known (it came from `expires_in`, which is
 * immune to clock skew), else the JWT `exp` (in the server's clock, so shifted by the server clock offset).
 * `undefined` when unknown: opaque tokens are normal; this never throws. The JWT is decoded once per token (a
 * one-entry cache), since this runs before every request.
 */
export function tokenExpiry(tokens: TokenSet, clockOffsetMs: number): number | undefined {
  if (tokens.expiresAt !== undefined) return tokens.expiresAt;
  if (tokens.accessToken !== lastExpiryToken) {
    lastExpiryToken = tokens.accessToken;
    let exp: unknown;
    try {
      exp = decodeJwt(tokens.accessToken).exp;
    } catch {
      // not a JWT
    }
    lastJwtExp = typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  }
  return lastJwtExp === undefined ? undefined : lastJwtExp - clockOffsetMs;
}
