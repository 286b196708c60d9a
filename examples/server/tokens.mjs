// @ts-check
/**
 * The example server's token service: access tokens (ES256 JWTs or opaque strings), rotating refresh tokens
 * with reuse detection (RFC 9700 section 4.14.2, OAuth 2.1 section 4.3.1), and cookie sessions.
 * Everything lives in memory and dies with the server.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, generateKeyPair, exportJWK } from 'jose';

/** Scopes granted when a sign-in asks for none. */
export const DEFAULT_SCOPE = 'openid profile api';

/** Scopes a sign-in may ask for; anything else is `invalid_scope`. */
export const KNOWN_SCOPES = new Set(['openid', 'profile', 'email', 'api', 'admin', 'offline_access']);

/**
 * What an access token says about its holder.
 * @typedef {{ sub: string, scope: string, acr: string }} Grant
 */

/**
 * @typedef {object} RefreshFamily
 * @property {number} id
 * @property {Grant} grant
 * @property {boolean} revoked
 */

/**
 * @typedef {object} RefreshRecord
 * @property {RefreshFamily} family
 * @property {boolean} spent
 */

/**
 * @typedef {{ ok: true, claims: Grant & { exp: number, iat: number, jti: string } }
 *   | { ok: false, reason: 'expired' | 'invalid' }} VerifyResult
 */

/**
 * @typedef {{ ok: true, grant: Grant, refreshToken: string }
 *   | { ok: false, error: string, description: string, reuse?: boolean }} RotateResult
 */

/** @param {number} [bytes] */
export function randomId(bytes = 32) {
  return randomBytes(bytes).toString('base64url');
}

/**
 * @param {{ now: () => number, accessTokenTtl: number, opaqueTokens: boolean }} options
 */
export async function createTokenService({ now, accessTokenTtl, opaqueTokens }) {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = randomId(8);
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };

  // expireAll() bumps the generation; a token from an older generation reads as expired. The generation is
  // part of the jti, so JWTs need no server-side list.
  let generation = 0;
  /** @type {Map<string, Grant & { exp: number, iat: number, jti: string, gen: number }>} */
  const opaque = new Map();
  /** @type {Map<string, RefreshRecord>} */
  const refreshTokens = new Map();
  /** @type {Set<RefreshFamily>} */
  const families = new Set();
  let familySeq = 0;
  /** @type {Map<string, { grant: Grant }>} */
  const sessions = new Map();

  /**
   * Issue one access token.
   * @param {Grant} grant
   * @param {number} [ttl] seconds; zero or negative makes an already expired token
   * @returns {Promise<{ token: string, expiresIn: number }>}
   */
  async function issueAccessToken(grant, ttl = accessTokenTtl) {
    const iat = Math.floor(now() / 1000);
    const exp = iat + ttl;
    const jti = `${generation}.${randomId(12)}`;
    if (opaqueTokens) {
      const token = randomId(32);
      opaque.set(token, { ...grant, iat, exp, jti, gen: generation });
      return { token, expiresIn: ttl };
    }
    const token = await new SignJWT({ scope: grant.scope, acr: grant.acr })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
      .setSubject(grant.sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti)
      .sign(privateKey);
    return { token, expiresIn: ttl };
  }

  /**
   * Check an access token against the server's (possibly skewed) clock.
   * @param {string} token
   * @returns {Promise<VerifyResult>}
   */
  async function verifyAccessToken(token) {
    const record = opaque.get(token);
    if (record) {
      if (record.gen !== generation || record.exp * 1000 <= now()) return { ok: false, reason: 'expired' };
      const { gen: _gen, ...claims } = record;
      return { ok: true, claims };
    }
    if (token.split('.').length !== 3) return { ok: false, reason: 'invalid' };
    try {
      const { payload } = await jwtVerify(token, publicKey, {
        algorithms: ['ES256'],
        typ: 'at+jwt',
        currentDate: new Date(now()),
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      });
      const jti = String(payload.jti);
      if (jti.split('.')[0] !== String(generation)) return { ok: false, reason: 'expired' };
      return {
        ok: true,
        claims: {
          sub: String(payload.sub),
          scope: typeof payload['scope'] === 'string' ? payload['scope'] : '',
          acr: typeof payload['acr'] === 'string' ? payload['acr'] : 'pwd',
          exp: Number(payload.exp),
          iat: Number(payload.iat),
          jti,
        },
      };
    } catch (error) {
      const code = /** @type {{ code?: string }} */ (error).code;
      return { ok: false, reason: code === 'ERR_JWT_EXPIRED' ? 'expired' : 'invalid' };
    }
  }

  /**
   * Start a new refresh token family, as a sign-in does.
   * @param {Grant} grant
   */
  function newRefreshToken(grant) {
    /** @type {RefreshFamily} */
    const family = { id: ++familySeq, grant: { ...grant }, revoked: false };
    families.add(family);
    const token = randomId(32);
    refreshTokens.set(token, { family, spent: false });
    return token;
  }

  /**
   * Spend a refresh token and mint its successor in the same family. A spent token presented again means it
   * leaked (or a client raced itself): the whole family is revoked.
   * @param {string} token
   * @param {string | undefined} requestedScope RFC 6749 section 6: must not exceed the original grant
   * @returns {RotateResult}
   */
  function rotateRefreshToken(token, requestedScope) {
    const record = refreshTokens.get(token);
    if (!record) return { ok: false, error: 'invalid_grant', description: 'unknown refresh token' };
    if (record.spent) {
      record.family.revoked = true;
      return { ok: false, error: 'invalid_grant', description: 'refresh token reuse detected', reuse: true };
    }
    if (record.family.revoked) {
      return { ok: false, error: 'invalid_grant', description: 'refresh token revoked' };
    }
    let grant = record.family.grant;
    if (requestedScope !== undefined && requestedScope.trim() !== '') {
      const granted = new Set(grant.scope.split(' '));
      const asked = requestedScope.split(' ').filter(Boolean);
      if (!asked.every((s) => granted.has(s))) {
        // Not spent: a scope error is the client's mistake, not a use of the token.
        return { ok: false, error: 'invalid_scope', description: 'requested scope exceeds the original grant' };
      }
      grant = { ...grant, scope: asked.join(' ') };
    }
    record.spent = true;
    const next = randomId(32);
    refreshTokens.set(next, { family: record.family, spent: false });
    return { ok: true, grant, refreshToken: next };
  }

  /** Make every access token issued so far read as expired; refresh tokens are untouched. */
  function expireAll() {
    // Opaque records stay, so they read as expired rather than unknown.
    generation++;
  }

  /** Revoke every refresh token family and every cookie session. */
  function revokeRefreshTokens() {
    for (const family of families) family.revoked = true;
    sessions.clear();
  }

  /** @param {Grant} grant */
  function createSession(grant) {
    const sid = randomId(32);
    sessions.set(sid, { grant: { ...grant } });
    return sid;
  }

  /** @param {string | undefined} sid */
  function getSession(sid) {
    return sid ? sessions.get(sid) : undefined;
  }

  /** @param {string | undefined} sid */
  function endSession(sid) {
    if (sid) sessions.delete(sid);
  }

  return {
    jwks,
    issueAccessToken,
    verifyAccessToken,
    newRefreshToken,
    rotateRefreshToken,
    expireAll,
    revokeRefreshTokens,
    createSession,
    getSession,
    endSession,
  };
}

/** @typedef {Awaited<ReturnType<typeof createTokenService>>} TokenService */
